import type { Readable } from "node:stream";
import PDFDocument from "pdfkit";
import SVGtoPDF from "svg-to-pdfkit";
import type { DocumentStream } from "../document-stream";
import { type PageRange, type RenderOptions, pageCount, pagesInRange } from "./range";
import { renderPageSvg } from "./svg";

/**
 * PDF output: each document page is rendered to SVG (the same code as the SVG export) and drawn onto its own PDF page
 * by svg-to-pdfkit, so the two formats cannot drift apart. Text uses the PDF standard 14 fonts (Helvetica,
 * Helvetica-Bold, Courier), which are not embedded; they cover WinAnsi (Latin-1 and a few more) characters only.
 */

/** Maps the SVG font families renderElement writes back to the standard fonts they came from. */
function standardFont(family: string, bold: boolean): string {
  if (/courier|monospace/i.test(family)) return bold ? "Courier-Bold" : "Courier";
  return bold ? "Helvetica-Bold" : "Helvetica";
}

/**
 * Renders pages `range` of a document as a PDF, streamed: PDFKit writes each finished page's objects as the next page
 * starts (no `bufferPages`), and this generator hands them on page by page, reading the document's pages as it goes.
 * Memory is a page or two of input and output, plus PDFKit's per-page bookkeeping (an xref offset and a page
 * reference per page).
 */
export async function* renderPdf(document: DocumentStream, range: PageRange, options: RenderOptions = {}): AsyncGenerator<Uint8Array> {
  const { title, pageSize } = document.header;
  const { width, height } = pageSize;
  const pdf = new PDFDocument({
    autoFirstPage: false,
    compress: true,
    size: [width, height],
    margin: 0,
    info: { Title: title, Producer: "order-pipeline exporter" },
    displayTitle: true,
  });
  // PDFKit is a Readable that pushes without regard to backpressure. Reading it in paused mode after each page turns
  // that into a pull: nothing is produced until the consumer asks for the next page.
  const stream = pdf as unknown as Readable;
  function* drain(): Generator<Uint8Array> {
    for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) yield chunk;
  }
  const total = pageCount(range);
  const warn = options.onWarning ?? (() => undefined);
  for await (const { number, page } of pagesInRange(document.pages, range)) {
    options.signal?.throwIfAborted();
    pdf.addPage({ size: [width, height], margin: 0 });
    SVGtoPDF(pdf, renderPageSvg(page, pageSize), 0, 0, {
      assumePt: true,
      width,
      height,
      warningCallback: warn,
      fontCallback: (family, bold) => standardFont(family, bold),
    });
    yield* drain();
    options.onPage?.(number - range.from + 1, total);
  }
  pdf.end();
  // Async iteration reads what end() wrote and completes when PDFKit pushes end-of-stream.
  for await (const chunk of stream) yield chunk as Uint8Array;
}
