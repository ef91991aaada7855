import { expect } from "chai";
import { PDFDocument, PDFName, PDFDict } from "pdf-lib";
import type { ExportDocument } from "../../../handlers/export/document";
import { documentStreamOf } from "../../../handlers/export/document-stream";
import { RENDERERS, resolveRange } from "../../../handlers/export/render";
import { combinePdf } from "../../../handlers/export/render/combine-pdf";
import { combineSvg } from "../../../handlers/export/render/combine-svg";
import { renderPdf } from "../../../handlers/export/render/pdf";
import { renderSvg } from "../../../handlers/export/render/svg";
import { InvalidExportRequestError } from "../../../handlers/shared/errors";
import { catalogueDocument, invoiceDocument } from "../../../scripts/generate-documents";
import { assertWellFormedXml, collectBytes, collectText, pdfPageCount, svgPages } from "./fakes";

const catalogue = catalogueDocument(40);
const invoice = invoiceDocument();

function tricky(): ExportDocument {
  return {
    formatVersion: 2,
    title: `Quotes "&" <angles> & 'apostrophes'`,
    pageSize: { width: 300, height: 200 },
    pages: [
      {
        elements: [
          { type: "text", x: 10, y: 20, text: `<script>alert("x")</script> & ]]> 'é' “€” 𝄞`, size: 12, color: "#000000" },
          { type: "text", x: 10, y: 40, text: "  two  spaces  ", size: 12, color: "#112233", font: "Courier" },
          { type: "path", d: "M0 0 L10 10 Z", fill: "#ff0000" },
        ],
      },
    ],
  };
}

describe("rendering", () => {
  describe("SVG", () => {
    it("renders a one-page document as well-formed SVG with one page", async () => {
      const svg = await collectText(renderSvg(documentStreamOf(invoice), resolveRange(invoice.pages.length)));
      assertWellFormedXml(svg);
      expect(svgPages(svg).map((page) => page.id)).to.deep.equal(["page-1"]);
    });

    it("stacks 40 pages vertically as nested <svg> elements at (page − 1) × height", async () => {
      const svg = await collectText(renderSvg(documentStreamOf(catalogue), resolveRange(catalogue.pages.length)));
      assertWellFormedXml(svg);
      const pages = svgPages(svg);
      expect(pages).to.have.length(40);
      expect(pages[39]).to.include({ id: "page-40", y: String(Math.round(39 * 841.89 * 1000) / 1000), height: "841.89" });
    });

    it("escapes text and the title so they read back exactly", async () => {
      const document = tricky();
      const svg = await collectText(renderSvg(documentStreamOf(document), resolveRange(document.pages.length)));
      assertWellFormedXml(svg);
      const texts = svgPages(svg)[0].text as Array<Record<string, unknown>>;
      expect(texts.map((t) => t["#text"])).to.deep.equal([
        `<script>alert("x")</script> & ]]> 'é' “€” 𝄞`,
        "  two  spaces  ",
      ]);
      expect(svg).to.include("<title>Quotes &quot;&amp;&quot; &lt;angles&gt; &amp; &apos;apostrophes&apos;</title>");
    });

    it("renders exactly the pages of a range, viewBox showing only them", async () => {
      const svg = await collectText(renderSvg(documentStreamOf(catalogue), resolveRange(catalogue.pages.length, [3, 7])));
      assertWellFormedXml(svg);
      expect(svgPages(svg).map((page) => page.id)).to.deep.equal(["page-3", "page-4", "page-5", "page-6", "page-7"]);
      expect(svg).to.match(/ viewBox="0 1683\.78 595\.28 4209\.45" /);
    });

    it("streams one chunk per page and renders a page only when the consumer asks for it", async () => {
      const rendered: number[] = [];
      const chunks = renderSvg(documentStreamOf(catalogue), resolveRange(catalogue.pages.length), { onPage: (done) => rendered.push(done) });
      await chunks.next(); // header
      await chunks.next(); // page 1
      expect(rendered).to.deep.equal([]);
      await chunks.next(); // page 2: page 1 is reported done once the consumer moves past it
      expect(rendered).to.deep.equal([1]);
      let rest = 0;
      for await (const _ of chunks) rest++;
      expect(rest).to.equal(38 + 1); // pages 3–40 and the footer
    });

    it("stops at the next page when its signal is aborted", async () => {
      const abort = new AbortController();
      const chunks = renderSvg(documentStreamOf(catalogue), resolveRange(catalogue.pages.length), {
        signal: abort.signal,
        onPage: (done) => done === 2 && abort.abort(new Error("stop here")),
      });
      const seen: string[] = [];
      const consume = async (): Promise<void> => {
        for await (const chunk of chunks) seen.push(chunk);
      };
      let error: Error | undefined;
      await consume().catch((e: Error) => (error = e));
      expect(error?.message).to.equal("stop here");
      expect(seen).to.have.length(3); // header, page 1, page 2
    });
  });

  describe("page ranges", () => {
    it("defaults to the whole document", () => {
      expect(resolveRange(catalogue.pages.length)).to.deep.equal({ from: 1, to: 40 });
    });

    for (const range of [[0, 3], [5, 4], [39, 41]] as const) {
      it(`refuses [${range}] for a 40-page document with InvalidExportRequest`, () => {
        expect(() => resolveRange(catalogue.pages.length, range))
          .to.throw(InvalidExportRequestError)
          .with.property("message", `pages [${range[0]}, ${range[1]}] is not a range within the document's pages 1–40`);
      });
    }
  });

  describe("PDF", () => {
    it("renders a one-page document as a PDF of one A4 page", async () => {
      const bytes = await collectBytes(renderPdf(documentStreamOf(invoice), resolveRange(invoice.pages.length)));
      const pdf = await PDFDocument.load(bytes);
      expect(pdf.getPageCount()).to.equal(1);
      expect(pdf.getPage(0).getSize()).to.deep.equal({ width: 595.28, height: 841.89 });
      expect(pdf.getTitle()).to.equal("Invoice INV-2025-00042");
    });

    it("renders 40 pages as 40 PDF pages", async () => {
      expect(await pdfPageCount(await collectBytes(renderPdf(documentStreamOf(catalogue), resolveRange(catalogue.pages.length))))).to.equal(40);
    });

    it("renders exactly the pages of a range", async () => {
      expect(await pdfPageCount(await collectBytes(renderPdf(documentStreamOf(catalogue), resolveRange(catalogue.pages.length, [38, 40]))))).to.equal(3);
    });

    it("uses the standard fonts the document names, not embedded", async () => {
      const pdf = await PDFDocument.load(await collectBytes(renderPdf(documentStreamOf(invoice), resolveRange(invoice.pages.length))));
      const fonts = pdf.getPage(0).node.Resources()!.lookup(PDFName.of("Font"), PDFDict);
      const baseFonts = fonts.values().map((ref) => (pdf.context.lookup(ref, PDFDict).get(PDFName.of("BaseFont")) as PDFName).asString());
      expect(baseFonts.sort()).to.deep.equal(["/Courier", "/Helvetica", "/Helvetica-Bold"]);
      for (const ref of fonts.values()) expect(pdf.context.lookup(ref, PDFDict).get(PDFName.of("FontDescriptor"))).to.equal(undefined);
    });

    it("streams: the first bytes arrive before the last page is rendered", async () => {
      let pagesDone = 0;
      const chunks = renderPdf(documentStreamOf(catalogue), resolveRange(catalogue.pages.length), { onPage: (done) => (pagesDone = done) });
      const first = await chunks.next();
      expect(Buffer.from(first.value as Uint8Array).subarray(0, 5).toString()).to.equal("%PDF-");
      expect(pagesDone).to.be.lessThan(40);
      await chunks.return(undefined);
    });

    it("is what RENDERERS.pdf renders", () => {
      expect(RENDERERS.pdf).to.equal(renderPdf);
      expect(RENDERERS.svg).to.equal(renderSvg);
    });
  });

  describe("combining parts", () => {
    const ranges: Array<[number, number]> = [[1, 15], [16, 16], [17, 40]];

    it("joins SVG parts into byte-for-byte the SVG of the whole document", async () => {
      const parts = await Promise.all(ranges.map((range) => collectText(renderSvg(documentStreamOf(catalogue), resolveRange(catalogue.pages.length, range)))));
      const combined = await collectText(
        combineSvg(parts.map((text, i) => ({ name: `part-${i + 1}`, pages: ranges[i][1] - ranges[i][0] + 1, open: async () => chunked(text, 1000) }))),
      );
      assertWellFormedXml(combined);
      expect(svgPages(combined)).to.have.length(40);
      expect(combined).to.equal(await collectText(renderSvg(documentStreamOf(catalogue), resolveRange(catalogue.pages.length))));
    });

    it("refuses SVG parts that leave a gap, naming the part and the pages", async () => {
      const parts = [[1, 15], [17, 40]].map(([from, to]) => renderSvg(documentStreamOf(catalogue), resolveRange(catalogue.pages.length, [from, to])));
      const sources = [
        { name: "part-1", pages: 15, open: async () => parts[0] },
        { name: "part-2", pages: 24, open: async () => parts[1] },
      ];
      const error = await collectText(combineSvg(sources)).catch((e: Error) => e);
      expect((error as Error).message).to.equal("part-2: holds pages 17–40, expected 16–39");
    });

    it("refuses a truncated SVG part", async () => {
      const text = await collectText(renderSvg(documentStreamOf(catalogue), resolveRange(catalogue.pages.length, [1, 2])));
      const error = await collectText(combineSvg([{ name: "part-1", pages: 2, open: async () => [text.slice(0, -3)] }])).catch((e: Error) => e);
      expect((error as Error).message).to.equal("part-1: does not end with </svg> (truncated?)");
    });

    it("merges PDF parts into one PDF with the sum of their pages", async () => {
      const parts = await Promise.all(ranges.map((range) => collectBytes(renderPdf(documentStreamOf(catalogue), resolveRange(catalogue.pages.length, range)))));
      const combined = await combinePdf(parts.map((bytes, i) => ({ name: `part-${i + 1}`, pages: ranges[i][1] - ranges[i][0] + 1, read: async () => bytes })));
      expect(combined.pages).to.equal(40);
      const pdf = await PDFDocument.load(combined.bytes);
      expect(pdf.getPageCount()).to.equal(40);
      expect(pdf.getTitle()).to.equal(catalogue.title);
    });

    it("refuses a PDF part whose page count differs from what its step reported", async () => {
      const bytes = await collectBytes(renderPdf(documentStreamOf(catalogue), resolveRange(catalogue.pages.length, [1, 2])));
      const error = await combinePdf([{ name: "part-1", pages: 3, read: async () => bytes }]).catch((e: Error) => e);
      expect((error as Error).message).to.equal("part-1: has 2 pages, expected 3");
    });
  });
});

/** Re-chunks text into UTF-8 byte chunks of `size`, splitting multi-byte characters, as a network stream would. */
async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
