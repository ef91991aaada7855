import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { DOCUMENT_LIMITS, type ExportDocument, parseDocument, parseDocumentJson } from "../../../handlers/export/document";
import { InvalidDocumentError, UnsupportedFormatVersionError } from "../../../handlers/shared/errors";
import { catalogueDocument, invoiceDocument, stringifyDocument, toVersion1 } from "../../../scripts/generate-documents";

const EXAMPLES = path.join(__dirname, "..", "..", "..", "examples", "documents");

function minimal(elements: unknown[]): Record<string, unknown> {
  return { formatVersion: 2, title: "t", pageSize: { width: 200, height: 100 }, pages: [{ elements }] };
}

function parseError(raw: unknown): Error {
  try {
    parseDocument(raw);
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected parseDocument to throw");
}

describe("export documents", () => {
  describe("examples", () => {
    for (const [file, build] of [
      ["invoice-1-page.json", () => invoiceDocument()],
      ["invoice-1-page.v1.json", () => toVersion1(invoiceDocument())],
      ["catalogue-40-pages.json", () => catalogueDocument(40)],
    ] as const) {
      it(`${file} is what scripts/generate-documents.ts writes (regenerate it if this fails)`, () => {
        expect(readFileSync(path.join(EXAMPLES, file), "utf8")).to.equal(stringifyDocument(build()));
      });
    }

    it("the committed examples are valid documents with the page counts their names say", () => {
      expect(parseDocumentJson(readFileSync(path.join(EXAMPLES, "invoice-1-page.json"), "utf8")).pages).to.have.length(1);
      expect(parseDocumentJson(readFileSync(path.join(EXAMPLES, "catalogue-40-pages.json"), "utf8")).pages).to.have.length(40);
    });
  });

  describe("version 1", () => {
    it("is upgraded: pageWidth/pageHeight become pageSize and rgb() colours become #rrggbb", () => {
      const upgraded = parseDocument(toVersion1(invoiceDocument()));
      expect(upgraded).to.deep.equal(invoiceDocument());
    });

    it("rejects rgb() components above 255, naming the field", () => {
      const v1 = { formatVersion: 1, title: "t", pageWidth: 100, pageHeight: 100, pages: [{ elements: [
        { type: "rect", x: 0, y: 0, width: 1, height: 1, fill: "rgb(0, 256, 0)" },
      ] }] };
      const error = parseError(v1);
      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.message).to.equal("document: pages[0].elements[0].fill: expected rgb(r, g, b) components from 0 to 255");
    });

    it("rejects a version 2 field (pageSize) in a version 1 document", () => {
      const v1 = { ...toVersion1(invoiceDocument()), pageSize: { width: 1, height: 1 } };
      expect(parseError(v1).message).to.equal('document: top level: unexpected field "pageSize"');
    });
  });

  describe("format versions", () => {
    it("refuses an unknown formatVersion with UnsupportedFormatVersion, listing the supported ones", () => {
      const error = parseError({ ...minimal([]), formatVersion: 3 });
      expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
      expect(error.name).to.equal("UnsupportedFormatVersion");
      expect(error.message).to.equal("document: formatVersion 3 is not supported (supported: 1, 2)");
    });

    it("refuses a document without formatVersion the same way", () => {
      const { formatVersion: _, ...unversioned } = minimal([]);
      expect(parseError(unversioned).message).to.equal("document: formatVersion undefined is not supported (supported: 1, 2)");
    });

    it("refuses a string formatVersion rather than guessing", () => {
      expect(parseError({ ...minimal([]), formatVersion: "2" })).to.be.instanceOf(UnsupportedFormatVersionError);
    });
  });

  describe("invalid content is an InvalidDocument error naming the path", () => {
    const cases: Array<[string, unknown[], string]> = [
      ["a string coordinate", [{ type: "rect", x: 0, y: 0, width: 1, height: 1 }, { type: "text", x: "12", y: 1, text: "a", size: 10, color: "#000000" }],
        "pages[0].elements[1].x: expected a finite number"],
      ["a coordinate beyond ±100,000", [{ type: "line", x1: 0, y1: 0, x2: 100_001, y2: 0, stroke: "#000000", strokeWidth: 1 }],
        "pages[0].elements[0].x2: expected a number ≤ 100000"],
      ["a colour not in #rrggbb", [{ type: "rect", x: 0, y: 0, width: 1, height: 1, fill: "red" }],
        "pages[0].elements[0].fill: expected a colour as #rrggbb"],
      ["an unknown element type", [{ type: "circle", cx: 1 }],
        'pages[0].elements[0].type: expected one of "text", "rect", "line", "path"'],
      ["an unknown font", [{ type: "text", x: 1, y: 1, text: "a", size: 10, color: "#000000", font: "Times-Roman" }],
        'pages[0].elements[0].font: expected one of "Helvetica", "Helvetica-Bold", "Courier"'],
      ["a misspelt field", [{ type: "line", x1: 0, y1: 0, x2: 1, y2: 1, stroke: "#000000", strokewidth: 1 }],
        "pages[0].elements[0].strokeWidth: expected a finite number; pages[0].elements[0]: unexpected field \"strokewidth\""],
      ["text longer than 2,000 characters", [{ type: "text", x: 1, y: 1, text: "a".repeat(2001), size: 10, color: "#000000" }],
        "pages[0].elements[0].text: expected at most 2000 characters"],
      ["a control character in text", [{ type: "text", x: 1, y: 1, text: "bell\u0007", size: 10, color: "#000000" }],
        "pages[0].elements[0].text: contains a control character or lone surrogate, which XML cannot carry"],
      ["a relative path command", [{ type: "path", d: "M 0 0 l 10 10", stroke: "#000000" }],
        'pages[0].elements[0].d: unexpected "l" at character 6: expected one of the commands M, L, H, V, C, Q, Z'],
      ["an arc in a path", [{ type: "path", d: "M0 0 A 5 5 0 0 1 10 10", fill: "#000000" }],
        'pages[0].elements[0].d: unexpected "A" at character 5: expected one of the commands M, L, H, V, C, Q, Z'],
      ["a path not starting with M", [{ type: "path", d: "L 1 1", fill: "#000000" }],
        "pages[0].elements[0].d: path data must start with M (at character 0)"],
      ["a path command missing numbers", [{ type: "path", d: "M 1 1 C 1 2 3", fill: "#000000" }],
        "pages[0].elements[0].d: expected a number for C at character 13"],
      ["a path coordinate beyond ±100,000", [{ type: "path", d: "M 1 1 L 200000 1", fill: "#000000" }],
        "pages[0].elements[0].d: number 200000 at character 8 is outside ±100000"],
    ];
    for (const [what, elements, message] of cases) {
      it(`rejects ${what}`, () => {
        const error = parseError(minimal(elements));
        expect(error).to.be.instanceOf(InvalidDocumentError);
        expect(error.name).to.equal("InvalidDocument");
        expect(error.message).to.equal(`document: ${message}`);
      });
    }

    it(`rejects more than ${DOCUMENT_LIMITS.maxElementsPerPage} elements on a page`, () => {
      const element = { type: "rect", x: 0, y: 0, width: 1, height: 1, fill: "#000000" };
      const error = parseError(minimal(Array.from({ length: DOCUMENT_LIMITS.maxElementsPerPage + 1 }, () => element)));
      expect(error.message).to.equal("document: pages[0].elements: expected at most 2000 elements");
    });

    it(`rejects more than ${DOCUMENT_LIMITS.maxPages} pages`, () => {
      const document = { ...minimal([]), pages: Array.from({ length: DOCUMENT_LIMITS.maxPages + 1 }, () => ({ elements: [] })) };
      expect(parseError(document).message).to.equal("document: pages: expected at most 10000 pages");
    });

    it("rejects a document without pages and a page larger than 14,400 pt", () => {
      const document = { ...minimal([]), pageSize: { width: 14_401, height: 100 }, pages: [] };
      expect(parseError(document).message).to.equal(
        "document: pageSize.width: expected a number ≤ 14400; pages: expected at least 1 page",
      );
    });

    it("counts the problems it does not spell out", () => {
      const bad = { type: "rect", x: "a", y: "b", width: "c", height: "d" };
      expect(parseError(minimal([bad])).message).to.match(/\(and 1 more problem\)$/);
    });

    it("names the source and reports invalid JSON as InvalidDocument", () => {
      expect(() => parseDocumentJson("{ not json", "s3://b/k.json"))
        .to.throw(InvalidDocumentError)
        .with.property("message")
        .that.matches(/^s3:\/\/b\/k\.json: not valid JSON \(/);
    });

    it("rejects JSON that is not an object", () => {
      expect(parseError([1, 2]).message).to.equal("document: expected a JSON object");
    });
  });

  it("accepts every path command of the subset, repeated coordinates and exponents", () => {
    const d = "M0 0L1 1 2 2H3V4C5 5 6 6 7 7Q8 8 9 9Z M1e2,1E-1 L.5-.5z".replace("z", "Z");
    const document: ExportDocument = parseDocument(minimal([{ type: "path", d, fill: "#000000" }]));
    expect(document.pages[0].elements[0]).to.deep.equal({ type: "path", d, fill: "#000000" });
  });
});
