import type { S3Client } from "@aws-sdk/client-s3";
import { EXPORT_STATE_FORMAT_VERSION } from "../shared/format";
import type { ExportsConfig } from "./config";
import { type ExportResult, exportMetadata } from "./export-job";
import type { Log } from "./logger";
import { combinePdf } from "./render/combine-pdf";
import { combineSvg } from "./render/combine-svg";
import { CONTENT_TYPES, combineEventSchema, exportKey, parseRequest } from "./requests";
import { deleteObjects, headObject, openObject, readObject, s3Uri, uploadStream } from "./s3";

export interface CombineResult extends ExportResult {
  readonly formatVersion: typeof EXPORT_STATE_FORMAT_VERSION;
  readonly jobId: string;
  readonly runtime: "map";
}

export interface CombineDeps {
  readonly s3: S3Client;
  readonly config: ExportsConfig;
  readonly log: Log;
}

/**
 * Joins the parts of a parallel export (the Map's output, in page order) into `${EXPORTS_PREFIX}${jobId}.${format}`
 * and deletes the parts. SVG is streamed part by part; PDF is merged in memory (see render/combine-pdf.ts).
 *
 * Safe to retry: if the export already exists with this job's metadata, only the part deletion is repeated.
 *
 * @throws InvalidExportRequestError, UnsupportedFormatVersionError; a plain Error when a part is missing or does not fit.
 */
export async function combineExport(deps: CombineDeps, event: unknown): Promise<CombineResult> {
  const request = parseRequest(combineEventSchema, event, "export-combine event");
  const { s3, config, log } = deps;
  const outputKey = exportKey(config.exportsPrefix, request.jobId, request.format);
  const pages = request.parts.reduce((sum, part) => sum + part.pages, 0);
  const partKeys = request.parts.map((part) => part.outputKey);
  const result = (bytes: number): CombineResult => ({
    formatVersion: EXPORT_STATE_FORMAT_VERSION,
    jobId: request.jobId,
    outputKey,
    pages,
    bytes,
    runtime: "map",
  });

  const metadata = exportMetadata(request.jobId, pages, "map");
  // Without s3:ListBucket a missing export is a 403: either way there is nothing to reuse.
  const existing = await headObject(s3, config.bucket, outputKey, { forbiddenIsMissing: true });
  if (existing !== undefined && Object.entries(metadata).every(([name, value]) => existing.Metadata?.[name] === value)) {
    log.info("export already combined; deleting parts again", { jobId: request.jobId, outputKey });
    await deleteObjects(s3, config.bucket, partKeys);
    return result(existing.ContentLength ?? 0);
  }

  const upload = { bucket: config.bucket, key: outputKey, contentType: CONTENT_TYPES[request.format], metadata };
  let bytes: number;
  if (request.format === "svg") {
    const parts = request.parts.map((part) => ({
      name: s3Uri(config.bucket, part.outputKey),
      pages: part.pages,
      open: () => openObject(s3, config.bucket, part.outputKey),
    }));
    bytes = await uploadStream(s3, upload, combineSvg(parts));
  } else {
    const parts = request.parts.map((part) => ({
      name: s3Uri(config.bucket, part.outputKey),
      pages: part.pages,
      read: () => readObject(s3, config.bucket, part.outputKey),
    }));
    const combined = await combinePdf(parts);
    bytes = await uploadStream(s3, upload, [combined.bytes]);
  }
  await deleteObjects(s3, config.bucket, partKeys);
  log.info("parts combined", { jobId: request.jobId, outputKey, parts: partKeys.length, pages, bytes });
  return result(bytes);
}
