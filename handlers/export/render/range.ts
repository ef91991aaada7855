import { InvalidExportRequestError } from "../../shared/errors";
import type { Page } from "../document";
import type { DocumentStream } from "../document-stream";

/** Pages `from` to `to` of a document, 1-based and inclusive. */
export interface PageRange {
  readonly from: number;
  readonly to: number;
}

export interface RenderOptions {
  /** Called after each page with the pages done so far and the pages in the range. */
  readonly onPage?: (done: number, total: number) => void;
  /** Checked between pages: a cancelled job stops at the next page. */
  readonly signal?: AbortSignal;
  /** svg-to-pdfkit's complaints about the SVG it was given (PDF only); the default ignores them. */
  readonly onWarning?: (message: string) => void;
}

/**
 * A renderer: pages `range` of a document as a stream of chunks, one or a few per page, for a consumer that pulls.
 * It reads every page of `document` (pagesInRange), rendering those in the range, so the stream ends only once the
 * whole document has been read and validated: a document invalid anywhere fails the stream before its last chunk.
 */
export type Renderer = (document: DocumentStream, range: PageRange, options?: RenderOptions) => AsyncGenerator<string | Uint8Array>;

export function pageCount(range: PageRange): number {
  return range.to - range.from + 1;
}

function outsideDocument(from: number, to: number, pages: number): InvalidExportRequestError {
  return new InvalidExportRequestError(`pages [${from}, ${to}] is not a range within the document's pages 1–${pages}`);
}

/**
 * The range to render of a document of `pages` pages: the whole document when none is asked for.
 *
 * @throws InvalidExportRequestError when the range does not lie within the document.
 */
export function resolveRange(pages: number, requested?: readonly [number, number]): PageRange {
  if (requested === undefined) return { from: 1, to: pages };
  const [from, to] = requested;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < from || to > pages) throw outsideDocument(from, to, pages);
  return { from, to };
}

/**
 * The pages of `range` from a document's pages, numbered. Pages before the range are read (so validated) and
 * dropped; after the last one the rest of the document is read the same way before the iteration ends, so a
 * renderer's closing chunk follows a complete, valid document.
 *
 * @throws InvalidExportRequestError, at the document's end, when it has fewer pages than `range.to`.
 */
export async function* pagesInRange(pages: AsyncIterable<Page>, range: PageRange): AsyncGenerator<{ readonly number: number; readonly page: Page }> {
  let number = 0;
  for await (const page of pages) {
    number++;
    if (number >= range.from && number <= range.to) yield { number, page };
  }
  if (number < range.to) throw outsideDocument(range.from, range.to, number);
}
