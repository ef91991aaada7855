import { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { readExportsConfig } from "./export/config";
import { logger } from "./shared/logger";
import { renderPdf } from "./export/render/pdf";
import { type RenderExportResult, renderExport } from "./export/render-export";

/** Step `export-pdf`: renders a document, or one Map iteration's page range, to PDF in S3. */

const s3 = new S3Client({});
const config = readExportsConfig(process.env);

export async function handler(event: unknown, context: Context): Promise<RenderExportResult> {
  logger.addContext(context);
  return renderExport({ format: "pdf", render: renderPdf, s3, config, log: logger }, event);
}
