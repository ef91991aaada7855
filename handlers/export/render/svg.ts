import { EXPORT_OBJECT_FORMAT_VERSION } from "../../shared/format";
import type { Element, Font, Page, PageSize } from "../document";
import type { DocumentStream } from "../document-stream";
import { type PageRange, type RenderOptions, pageCount, pagesInRange } from "./range";

/**
 * SVG output.
 *
 * One page is a standalone `<svg>` in page coordinates (points, origin top left, text `y` is the baseline).
 * A multi-page export is one outer `<svg>` whose pages are nested `<svg id="page-N">` elements stacked vertically:
 * page N sits at y = (N − 1) × page height, wherever the range starts, and the outer viewBox shows only the pages
 * rendered. So a part of a parallel export is a valid SVG on its own, and parts combine by concatenating their
 * pages under a new outer element — no coordinate is rewritten (see combine-svg.ts). Nested `<svg>` clips each page's
 * content to the page, as a PDF page would.
 *
 * The outer element carries `data-*` attributes (format version, page size, first page, page count) that combine
 * reads; its start tag is always the second line of the file and `</svg>` the last.
 */

export const SVG_NS = "http://www.w3.org/2000/svg";
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
export const SVG_FOOTER = "</svg>\n";

const FONT_ATTRIBUTES: Readonly<Record<Font, string>> = {
  Helvetica: 'font-family="Helvetica, Arial, sans-serif"',
  "Helvetica-Bold": 'font-family="Helvetica, Arial, sans-serif" font-weight="bold"',
  Courier: 'font-family="Courier, monospace"',
};

const XML_ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Escapes for element content and double- or single-quoted attributes. (The schema already refused characters XML cannot carry.) */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

const XML_UNESCAPES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(XML_ESCAPES).map(([c, e]) => [e, c]));

/** Reverses escapeXml (only the five entities it writes). */
export function unescapeXml(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|apos);/g, (e) => XML_UNESCAPES[e]);
}

/** Numbers as SVG writes them: at most 3 decimals (1/1000 pt), no exponent (coordinates are bounded), no "-0". */
export function num(value: number): string {
  const rounded = Math.round(value * 1000) / 1000;
  return Object.is(rounded, -0) ? "0" : String(rounded);
}

function paint(fill: string | undefined, stroke: string | undefined, strokeWidth: number | undefined): string {
  let out = ` fill="${fill ?? "none"}"`;
  if (stroke !== undefined) out += ` stroke="${stroke}" stroke-width="${num(strokeWidth ?? 1)}"`;
  return out;
}

export function renderElement(element: Element): string {
  switch (element.type) {
    case "text":
      return (
        `<text x="${num(element.x)}" y="${num(element.y)}" ${FONT_ATTRIBUTES[element.font ?? "Helvetica"]} ` +
        `font-size="${num(element.size)}" fill="${element.color}" xml:space="preserve">${escapeXml(element.text)}</text>`
      );
    case "rect":
      return (
        `<rect x="${num(element.x)}" y="${num(element.y)}" width="${num(element.width)}" height="${num(element.height)}"` +
        `${paint(element.fill, element.stroke, element.strokeWidth)}/>`
      );
    case "line":
      return (
        `<line x1="${num(element.x1)}" y1="${num(element.y1)}" x2="${num(element.x2)}" y2="${num(element.y2)}" ` +
        `stroke="${element.stroke}" stroke-width="${num(element.strokeWidth)}"/>`
      );
    case "path":
      return `<path d="${escapeXml(element.d)}"${paint(element.fill, element.stroke, element.strokeWidth)}/>`;
  }
}

function pageContent(page: Page): string {
  let out = "";
  for (const element of page.elements) out += renderElement(element);
  return out;
}

/** One page as a standalone SVG document (no XML declaration): what the PDF renderer draws. */
export function renderPageSvg(page: Page, size: PageSize): string {
  const w = num(size.width);
  const h = num(size.height);
  return `<svg xmlns="${SVG_NS}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${pageContent(page)}</svg>`;
}

/** One page nested in a multi-page SVG, at its place in the document. */
function renderNestedPage(page: Page, size: PageSize, pageNumber: number): string {
  const w = num(size.width);
  const h = num(size.height);
  return (
    `<svg id="page-${pageNumber}" x="0" y="${num((pageNumber - 1) * size.height)}" width="${w}" height="${h}" ` +
    `viewBox="0 0 ${w} ${h}">${pageContent(page)}</svg>\n`
  );
}

export interface SvgHeader {
  readonly title: string;
  readonly pageSize: PageSize;
  /** First page shown (1-based). */
  readonly firstPage: number;
  /** Pages shown. */
  readonly pages: number;
}

/** XML declaration + the outer `<svg>` start tag + title, for `pages` pages starting at `firstPage`. */
export function svgHeader({ title, pageSize, firstPage, pages }: SvgHeader): string {
  const w = num(pageSize.width);
  const top = num((firstPage - 1) * pageSize.height);
  const height = num(pages * pageSize.height);
  return (
    XML_DECLARATION +
    `<svg xmlns="${SVG_NS}" version="1.1" width="${w}" height="${height}" viewBox="0 ${top} ${w} ${height}" ` +
    `data-format-version="${EXPORT_OBJECT_FORMAT_VERSION}" data-page-width="${w}" data-page-height="${num(pageSize.height)}" ` +
    `data-first-page="${firstPage}" data-pages="${pages}">\n` +
    `<title>${escapeXml(title)}</title>\n`
  );
}

/**
 * Renders pages `range` of a document as one SVG, one chunk per page, reading the document's pages as it goes, so
 * memory does not grow with the page count: a consumer that pulls (Readable.from, an S3 upload) holds at most a few
 * pages of output, and the reader a few pages of input.
 */
export async function* renderSvg(document: DocumentStream, range: PageRange, options: RenderOptions = {}): AsyncGenerator<string> {
  const { title, pageSize } = document.header;
  const total = pageCount(range);
  yield svgHeader({ title, pageSize, firstPage: range.from, pages: total });
  for await (const { number, page } of pagesInRange(document.pages, range)) {
    options.signal?.throwIfAborted();
    yield renderNestedPage(page, pageSize, number);
    options.onPage?.(number - range.from + 1, total);
  }
  yield SVG_FOOTER;
}
