import type { S3Client } from "@aws-sdk/client-s3";
import { EXPORT_OBJECT_FORMAT_VERSION } from "../shared/format";
import { type Renderer, pageCount, resolveRange } from "./render/range";
import { CONTENT_TYPES, type ExportFormat, type Runtime } from "./requests";
import { readDocument, uploadStream } from "./s3";

/** One export, start to finish: read the document, render the pages asked for, stream the result to S3. */

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

export async function runExportJob(deps: ExportJobDeps, job: ExportJob, options: ExportJobOptions = {}): Promise<ExportResult> {
  const document = await readDocument(deps.s3, deps.bucket, job.documentKey);
  const range = resolveRange(document, job.pages);
  const pages = pageCount(range);
  const bytes = await uploadStream(
    deps.s3,
    {
      bucket: deps.bucket,
      key: job.outputKey,
      contentType: CONTENT_TYPES[job.format],
      metadata: exportMetadata(job.jobId, pages, job.runtime),
      signal: options.signal,
    },
    deps.render(document, range, { onPage: options.onProgress, signal: options.signal, onWarning: options.onWarning }),
  );
  return { outputKey: job.outputKey, pages, bytes };
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
