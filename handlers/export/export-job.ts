import type { S3Client } from "@aws-sdk/client-s3";
import { EXPORT_OBJECT_FORMAT_VERSION } from "../shared/format";
import { type PageRange, type Renderer, pageCount, resolveRange } from "./render/range";
import { CONTENT_TYPES, type ExportFormat, type Runtime } from "./requests";
import { type DocumentObject, headDocument, readDocument, scanDocument, uploadStream } from "./s3";

/**
 * One export, start to finish: check the document, read it page by page while rendering the pages asked for, and
 * stream the result to S3.
 */

export interface ExportJobDeps {
  readonly s3: S3Client;
  /** Bucket of documents and exports. */
  readonly bucket: string;
  /** Renders `job.format`: renderSvg or renderPdf. */
  readonly render: Renderer;
}

export interface ExportJob {
  readonly jobId: string;
  readonly documentKey: string;
  readonly format: ExportFormat;
  /** 1-based inclusive; the whole document when absent. */
  readonly pages?: readonly [number, number];
  readonly outputKey: string;
  readonly runtime: Runtime;
}

export interface ExportJobOptions {
  /** Pages done so far and pages to do, after each page. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Stops rendering at the next page and aborts the upload. */
  readonly signal?: AbortSignal;
  readonly onWarning?: (message: string) => void;
}

export interface ExportResult {
  readonly outputKey: string;
  /** Pages in the output. */
  readonly pages: number;
  /** Bytes in the output. */
  readonly bytes: number;
}

/**
 * @throws InvalidDocumentError, UnsupportedFormatVersionError, InvalidExportRequestError (a range beyond the document).
 *   A document found invalid after rendering has begun fails the upload: uploadStream aborts a multipart upload, and a
 *   single-part one is never sent, so no partial export is left behind.
 */
export async function runExportJob(deps: ExportJobDeps, job: ExportJob, options: ExportJobOptions = {}): Promise<ExportResult> {
  const document = await headDocument(deps.s3, deps.bucket, job.documentKey);
  const range = await rangeToRender(deps, document, job.pages);
  options.signal?.throwIfAborted();
  const pages = pageCount(range);
  const stream = await readDocument(deps.s3, document);
  try {
    const bytes = await uploadStream(
      deps.s3,
      {
        bucket: deps.bucket,
        key: job.outputKey,
        contentType: CONTENT_TYPES[job.format],
        metadata: exportMetadata(job.jobId, pages, job.runtime),
        signal: options.signal,
      },
      deps.render(stream, range, { onPage: options.onProgress, signal: options.signal, onWarning: options.onWarning }),
    );
    return { outputKey: job.outputKey, pages, bytes };
  } finally {
    await stream.close();
  }
}

/**
 * The pages to render. The output names its page count before the first page (the SVG's size and `data-pages`, the
 * object's `pages` metadata): a range gives it, and is checked against the document as the pages are read; a whole
 * document is first scanned — read through without keeping or validating its pages — to count them.
 */
async function rangeToRender(deps: ExportJobDeps, document: DocumentObject, requested?: readonly [number, number]): Promise<PageRange> {
  if (requested !== undefined) return { from: requested[0], to: requested[1] };
  return resolveRange((await scanDocument(deps.s3, document)).pages);
}

/** The metadata every export and part carries. */
export function exportMetadata(jobId: string, pages: number, runtime: Runtime): Record<string, string> {
  return {
    "format-version": String(EXPORT_OBJECT_FORMAT_VERSION),
    "job-id": jobId,
    pages: String(pages),
    runtime,
  };
}
