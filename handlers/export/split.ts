import { EXPORT_STATE_FORMAT_VERSION } from "../shared/format";
import type { SplitConfig } from "./config";
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
 * Cuts a parallel export into page ranges of `pagesPerChunk` pages (the last may be shorter), each the input of one
 * Map iteration. More than MAX_CHUNKS chunks would make the Map (and combine) too wide, so chunks grow instead.
 * Each chunk carries `formatVersion` so it is a complete export-svg/export-pdf event.
 *
 * @throws InvalidExportRequestError, UnsupportedFormatVersionError
 */
export function splitExport(config: SplitConfig, event: unknown): SplitResult {
  const request = parseRequest(splitEventSchema, event, "export-split event");
  const size = Math.max(request.pagesPerChunk, Math.ceil(request.pages / MAX_CHUNKS));
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
