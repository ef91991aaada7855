import { EXPORT_STATE_FORMAT_VERSION } from "../shared/format";
import type { SplitConfig } from "./config";
import { InvalidExportRequestError } from "../shared/errors";
import { type ExportFormat, MAX_CHUNKS, parseRequest, partKey, splitEventSchema } from "./requests";

export interface Chunk {
  readonly formatVersion: typeof EXPORT_STATE_FORMAT_VERSION;
  readonly jobId: string;
  readonly documentKey: string;
  readonly format: ExportFormat;
  /** 1-based inclusive. */
  readonly pages: readonly [number, number];
  readonly outputKey: string;
}

export interface SplitResult {
  readonly formatVersion: typeof EXPORT_STATE_FORMAT_VERSION;
  readonly chunks: readonly Chunk[];
}

/**
 * Cuts a long export into page ranges of `pagesPerChunk` pages (the last may be shorter), each the input of one
 * Map iteration and within one Lambda's budget. The estimate routes an export here only when its chunks fit the Map
 * (estimate.ts chooseRoute); more than MAX_CHUNKS is refused rather than made into chunks over the budget.
 * Each chunk carries `formatVersion` so it is a complete export-svg/export-pdf event.
 *
 * @throws InvalidExportRequestError, UnsupportedFormatVersionError
 */
export function splitExport(config: SplitConfig, event: unknown): SplitResult {
  const request = parseRequest(splitEventSchema, event, "export-split event");
  const size = request.pagesPerChunk;
  const count = Math.ceil(request.pages / size);
  if (count > MAX_CHUNKS) {
    throw new InvalidExportRequestError(`export-split event: ${request.pages} pages in chunks of ${size} make ${count} chunks, more than the Map runs (${MAX_CHUNKS})`);
  }
  const chunks: Chunk[] = [];
  for (let from = 1, index = 1; from <= request.pages; from += size, index++) {
    chunks.push({
      formatVersion: EXPORT_STATE_FORMAT_VERSION,
      jobId: request.jobId,
      documentKey: request.documentKey,
      format: request.format,
      pages: [from, Math.min(request.pages, from + size - 1)],
      outputKey: partKey(config.partsPrefix, request.jobId, index, request.format),
    });
  }
  return { formatVersion: EXPORT_STATE_FORMAT_VERSION, chunks };
}
