import type { S3Client } from "@aws-sdk/client-s3";
import { EXPORT_STATE_FORMAT_VERSION } from "../shared/format";
import type { ExportsConfig } from "./config";
import { type ExportResult, runExportJob } from "./export-job";
import type { Log } from "./logger";
import type { Renderer } from "./render/range";
import { type ExportFormat, exportKey, parseRequest, renderEventSchema } from "./requests";

export interface RenderExportResult extends ExportResult {
  readonly formatVersion: typeof EXPORT_STATE_FORMAT_VERSION;
  readonly jobId: string;
  readonly runtime: "lambda";
}

export interface RenderExportDeps {
  readonly format: ExportFormat;
  /** The renderer of `format` (render/svg.ts renderSvg or render/pdf.ts renderPdf). */
  readonly render: Renderer;
  readonly s3: S3Client;
  readonly config: ExportsConfig;
  readonly log: Log;
}

/**
 * The Lambda exporters (export-svg, export-pdf): render the whole document, or the range of one Map iteration, to
 * `outputKey` (default `${EXPORTS_PREFIX}${jobId}.${format}`).
 *
 * @throws InvalidExportRequestError, InvalidDocumentError, UnsupportedFormatVersionError
 */
export async function renderExport(deps: RenderExportDeps, event: unknown): Promise<RenderExportResult> {
  const { format } = deps;
  const request = parseRequest(renderEventSchema, event, `export-${format} event`);
  const outputKey = request.outputKey ?? exportKey(deps.config.exportsPrefix, request.jobId, format);
  const result = await runExportJob(
    { s3: deps.s3, bucket: deps.config.bucket, render: deps.render },
    { jobId: request.jobId, documentKey: request.documentKey, format, pages: request.pages, outputKey, runtime: "lambda" },
    { onWarning: (message) => deps.log.warn("svg-to-pdfkit warning", { reason: message }) },
  );
  deps.log.info("export written", { jobId: request.jobId, format, ...result });
  return { formatVersion: EXPORT_STATE_FORMAT_VERSION, jobId: request.jobId, ...result, runtime: "lambda" };
}
