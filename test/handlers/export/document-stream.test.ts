import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { DOCUMENT_LIMITS, parseDocumentJson } from "../../../handlers/export/document";
import { type DocumentReadOptions, readDocumentStream, scanDocumentStream } from "../../../handlers/export/document-stream";
import { InvalidDocumentError, UnsupportedFormatVersionError } from "../../../handlers/shared/errors";
import { catalogueDocument, invoiceDocument } from "../../../scripts/generate-documents";
import { readWhole } from "./fakes";

const EXAMPLES = path.join(__dirname, "..", "..", "..", "examples", "documents");
const SOURCE = "s3://documents/docs/a.json";

/** UTF-8 bytes in chunks of `size`, splitting multi-byte characters and tokens, as a network stream does. */
function* chunked(text: string, size = 997): Generator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function read(text: string, options: DocumentReadOptions = {}) {
  return readWhole(await readDocumentStream(chunked(text), { source: SOURCE, ...options }));
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

const rect = (x: unknown = 0) => ({ type: "rect", x, y: 0, width: 1, height: 1, fill: "#000000" });
const page = (elements: unknown[] = [rect()]) => ({ elements });
const HEADER = { formatVersion: 2, title: "t", pageSize: { width: 200, height: 100 } };

describe("streaming document reader", () => {
  describe("reads what the whole-document parse reads", () => {
    for (const file of ["invoice-1-page.json", "invoice-1-page.v1.json", "catalogue-40-pages.json"]) {
      it(`${file}: the same header and pages, version 1 upgraded`, async () => {
        const text = readFileSync(path.join(EXAMPLES, file), "utf8");
        expect(await read(text)).to.deep.equal(parseDocumentJson(text));
      });
    }

    it("a body arriving in one chunk or one byte at a time", async () => {
      const text = JSON.stringify(invoiceDocument());
      expect(await readWhole(await readDocumentStream([Buffer.from(text)]))).to.deep.equal(invoiceDocument());
      expect(await readWhole(await readDocumentStream(chunked(text, 1)))).to.deep.equal(invoiceDocument());
    });

    it("yields each page as it is read, before the rest of the document has arrived", async () => {
      const text = JSON.stringify(catalogueDocument(3));
      const split = text.indexOf('{"elements"', text.indexOf('{"elements"') + 1); // where page 2 starts
      let sent = 0;
      async function* body(): AsyncGenerator<Uint8Array> {
        for (const part of [text.slice(0, split), text.slice(split)]) {
          sent++;
          yield Buffer.from(part);
        }
      }
      const document = await readDocumentStream(body());
      const pages = document.pages[Symbol.asyncIterator]();
      expect((await pages.next()).value).to.deep.equal(catalogueDocument(3).pages[0]);
      expect(sent).to.equal(1);
      await document.close();
    });
  });

  describe("header after the pages", () => {
    const { pages, ...header } = catalogueDocument(5);

    it("is read correctly, the pages held until the header arrives", async () => {
      const text = JSON.stringify({ pages, ...header });
      expect(await read(text)).to.deep.equal(catalogueDocument(5));
    });

    it("is read correctly with the format version from the metadata and only the title after the pages", async () => {
      const text = JSON.stringify({ pageSize: header.pageSize, pages, title: header.title, formatVersion: 2 });
      expect(await read(text, { declaredVersion: "2" })).to.deep.equal(catalogueDocument(5));
    });

    it("is scanned (counted) correctly", async () => {
      const scan = await scanDocumentStream(chunked(JSON.stringify({ pages, ...header })));
      expect(scan).to.deep.equal({ header, pages: 5 });
    });
  });

  describe("an invalid page", () => {
    const pages = [page(), page(), page(), page([rect(), rect(), rect(), rect(), rect(), rect(), rect(), rect("12")])];
    const text = JSON.stringify({ ...HEADER, pages });

    it("fails the iteration at that page, naming it as the whole-document parse does, after the pages before it", async () => {
      const document = await readDocumentStream(chunked(text), { source: SOURCE });
      const read: unknown[] = [];
      const error = await failure(
        (async () => {
          for await (const p of document.pages) read.push(p);
        })(),
      );
      expect(read).to.have.length(3);
      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.name).to.equal("InvalidDocument");
      expect(error.message).to.equal(`${SOURCE}: pages[3].elements[7].x: expected a finite number`);
      expect(() => parseDocumentJson(text, SOURCE)).to.throw(error.message);
    });

    it("passes the scan, which checks everything but the pages' content", async () => {
      expect((await scanDocumentStream(chunked(text))).pages).to.equal(4);
    });
  });

  describe("invalid JSON", () => {
    for (const [what, text, reason] of [
      ["a bracket that does not close its array", '{"formatVersion": 2, "pages": [1, 2}', "expected ']'"],
      ["a truncated document", JSON.stringify({ ...HEADER, pages: [page()] }).slice(0, -5), "expected ','"],
      ["an empty body", "", "Parser has expected a value"],
      ["text after the document", `${JSON.stringify({ ...HEADER, pages: [page()] })} {}`, "unexpected characters"],
    ] as const) {
      it(`is InvalidDocument, saying why and about where: ${what}`, async () => {
        const error = await failure(read(text));
        expect(error).to.be.instanceOf(InvalidDocumentError);
        expect(error.message).to.equal(`${SOURCE}: not valid JSON (${reason}, at or before byte ${Buffer.byteLength(text)})`);
      });
    }

    it("names the chunk where the text went wrong, not the document's end", async () => {
      const text = `{"formatVersion": 2, "title": "t", "pages": [${JSON.stringify(page())}, oops ${" ".repeat(5000)}]}`;
      const error = await failure(read(text));
      expect(error.message).to.equal(`${SOURCE}: not valid JSON (expected a value, at or before byte 997)`);
    });

    it("is InvalidDocument for a byte-order mark, as JSON.parse has it", async () => {
      const error = await failure(read(`\uFEFF${JSON.stringify(invoiceDocument())}`));
      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.message).to.match(/: not valid JSON \(/);
    });
  });

  describe("format versions", () => {
    it("refuses an unknown formatVersion with UnsupportedFormatVersion, before looking at the pages", async () => {
      const text = `{"formatVersion": 3, "pages": [{"elements": "none"}]}`;
      const error = await failure(read(text));
      expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
      expect(error.message).to.equal(`${SOURCE}: formatVersion 3 is not supported (supported: 1, 2)`);
    });

    it("refuses a document without formatVersion, or metadata, the same way", async () => {
      const { formatVersion: _, ...unversioned } = { ...HEADER, pages: [page()] };
      const error = await failure(read(JSON.stringify(unversioned)));
      expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
      expect(error.message).to.equal(`${SOURCE}: formatVersion undefined is not supported (supported: 1, 2)`);
    });

    it("refuses a body whose formatVersion disagrees with the metadata, even after the pages", async () => {
      const before = await failure(read(JSON.stringify({ ...HEADER, pages: [page()] }), { declaredVersion: "1" }));
      expect(before).to.be.instanceOf(InvalidDocumentError);
      expect(before.message).to.equal(`${SOURCE}: x-amz-meta-format-version is 1 but the document says formatVersion 2`);
      const { formatVersion: _, ...header } = HEADER;
      const after = await failure(read(JSON.stringify({ ...header, pages: [page()], formatVersion: "2" }), { declaredVersion: "2" }));
      expect(after.message).to.equal(`${SOURCE}: x-amz-meta-format-version is 2 but the document says formatVersion "2"`);
      const missing = await failure(read(JSON.stringify({ ...header, pages: [page()] }), { declaredVersion: "2" }));
      expect(missing.message).to.equal(`${SOURCE}: x-amz-meta-format-version is 2 but the document says formatVersion undefined`);
    });

    it("reads version 1 pages with the version 1 schema (rgb() colours), naming a bad one", async () => {
      const v1 = { formatVersion: 1, title: "t", pageWidth: 10, pageHeight: 10, pages: [page([{ ...rect(), fill: "#000000" }])] };
      const error = await failure(read(JSON.stringify(v1)));
      expect(error.message).to.equal(`${SOURCE}: pages[0].elements[0].fill: expected a colour as rgb(r, g, b)`);
    });
  });

  describe("document-level problems are InvalidDocument, worded as the whole-document parse words them", () => {
    const cases: Array<[string, string, string]> = [
      ["not an object", "[1, 2]", "expected a JSON object"],
      ["no pages", JSON.stringify({ ...HEADER, title: 5 }), "title: expected a string; pages: expected an array"],
      ["pages not an array", JSON.stringify({ ...HEADER, pages: { elements: [] } }), "pages: expected an array"],
      ["no page", JSON.stringify({ ...HEADER, pages: [] }), "pages: expected at least 1 page"],
      ["a page side over 14,400 pt, before the pages", JSON.stringify({ ...HEADER, pageSize: { width: 14_401, height: 1 }, pages: [page()] }),
        "pageSize.width: expected a number ≤ 14400"],
      ["an unknown field after the pages", JSON.stringify({ ...HEADER, pages: [page()], author: "me" }), 'top level: unexpected field "author"'],
      ["a field given twice", `{"formatVersion": 2, "title": "a", "title": "b", "pageSize": {"width": 1, "height": 1}, "pages": []}`,
        'top level: field "title" appears twice'],
      ["arrays nested beyond any document", JSON.stringify({ ...HEADER, pages: [page([JSON.parse("[".repeat(40) + "]".repeat(40))])] }),
        `arrays and objects nested more than ${DOCUMENT_LIMITS.maxJsonDepth} deep`],
    ];
    for (const [what, text, message] of cases) {
      it(what, async () => {
        const error = await failure(read(text));
        expect(error).to.be.instanceOf(InvalidDocumentError);
        expect(error.message).to.equal(`${SOURCE}: ${message}`);
      });
    }

    it(`more than ${DOCUMENT_LIMITS.maxPages} pages, as soon as page ${DOCUMENT_LIMITS.maxPages + 1} starts`, async () => {
      // Invalid JSON well after page 10,001: the limit is what stops the reading.
      const pages = Array.from({ length: DOCUMENT_LIMITS.maxPages + 5_000 }, () => ({ elements: [] }));
      const text = JSON.stringify({ ...HEADER, pages }).replace(/\]\}$/, ", oops");
      const error = await failure(scanDocumentStream(chunked(text, 64 * 1024), { source: SOURCE }));
      expect(error.message).to.equal(`${SOURCE}: pages: expected at most 10000 pages`);
    });
  });
});
