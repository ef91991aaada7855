import { InvalidExportRequestError } from "../../shared/errors";
import type { ExportDocument } from "../document";

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

/** A renderer: pages `range` of a document as a stream of chunks, one or a few per page, for a consumer that pulls. */
export type Renderer = (document: ExportDocument, range: PageRange, options?: RenderOptions) => AsyncGenerator<string | Uint8Array>;

export function pageCount(range: PageRange): number {
  return range.to - range.from + 1;
}

/**
 * The range to render: the whole document when none is asked for.
 *
 * @throws InvalidExportRequestError when the range does not lie within the document.
 */
export function resolveRange(document: ExportDocument, requested?: readonly [number, number]): PageRange {
  const pages = document.pages.length;
  if (requested === undefined) return { from: 1, to: pages };
  const [from, to] = requested;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < from || to > pages) {
    throw new InvalidExportRequestError(`pages [${from}, ${to}] is not a range within the document's pages 1–${pages}`);
  }
  return { from, to };
}
