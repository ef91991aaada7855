import { PDFDocument } from "pdf-lib";

/**
 * Merges the PDF parts of a parallel export with pdf-lib.
 *
 * Not streamed: pdf-lib builds the whole merged document in memory and serialises it at once. Parts are loaded one at
 * a time and dropped after their pages are copied, so peak memory is roughly the merged object graph (≈ 2–3 × the
 * output size) plus the serialised output (1 ×) plus the largest part; size the combine function for the largest
 * PDF export it must join.
 */

export interface PdfPartSource {
  /** Names the part in errors (its S3 key). */
  readonly name: string;
  /** Pages the part should hold, as its render step reported. */
  readonly pages: number;
  /** Reads the part's bytes; called once, in order. */
  readonly read: () => Promise<Uint8Array>;
}

export interface CombinedPdf {
  readonly bytes: Uint8Array;
  readonly pages: number;
}

/** Merges `parts` (in page order); the result takes the first part's title. */
export async function combinePdf(parts: readonly PdfPartSource[]): Promise<CombinedPdf> {
  if (parts.length === 0) throw new Error("combinePdf: no parts");
  const merged = await PDFDocument.create();
  let title: string | undefined;
  for (const source of parts) {
    const part = await PDFDocument.load(await source.read(), { updateMetadata: false });
    if (part.getPageCount() !== source.pages) {
      throw new Error(`${source.name}: has ${part.getPageCount()} pages, expected ${source.pages}`);
    }
    title ??= part.getTitle();
    const pages = await merged.copyPages(part, part.getPageIndices());
    for (const page of pages) merged.addPage(page);
  }
  if (title !== undefined) merged.setTitle(title, { showInWindowTitleBar: true });
  merged.setProducer("order-pipeline exporter");
  const bytes = await merged.save();
  return { bytes, pages: merged.getPageCount() };
}
