import type { S3Client } from "@aws-sdk/client-s3";
import { EXPORT_STATE_FORMAT_VERSION } from "../shared/format";
import type { EstimateConfig } from "./config";
import { exportRequestSchema, parseRequest } from "./requests";
import { headDocument, readDocument } from "./s3";

export interface EstimateResult {
  readonly formatVersion: typeof EXPORT_STATE_FORMAT_VERSION;
  readonly pages: number;
  /** pages × secondsPerPage: what the workflow compares with the Lambda budget. */
  readonly estimatedSeconds: number;
  readonly secondsPerPage: number;
  readonly lambdaBudgetSeconds: number;
  /** Pages one Lambda can render within the budget: the chunk size of a parallel export. */
  readonly pagesPerChunk: number;
}

/**
 * Sizes an export: reads (and so validates) the document page by page, counting the pages without keeping them, and
 * estimates the render time from the count.
 *
 * @throws InvalidExportRequestError, InvalidDocumentError, UnsupportedFormatVersionError
 */
export async function estimateExport(deps: { readonly s3: S3Client; readonly config: EstimateConfig }, event: unknown): Promise<EstimateResult> {
  const request = parseRequest(exportRequestSchema, event, "export request", { versionOptional: true });
  const { config } = deps;
  const document = await readDocument(deps.s3, await headDocument(deps.s3, config.bucket, request.documentKey));
  let pages = 0;
  for await (const _ of document.pages) pages++;
  const secondsPerPage = config.secondsPerPage[request.format];
  return {
    formatVersion: EXPORT_STATE_FORMAT_VERSION,
    pages,
    estimatedSeconds: pages * secondsPerPage,
    secondsPerPage,
    lambdaBudgetSeconds: config.lambdaBudgetSeconds,
    pagesPerChunk: Math.max(1, Math.floor(config.lambdaBudgetSeconds / secondsPerPage)),
  };
}
