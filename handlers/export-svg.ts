import { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { readExportsConfig } from "./export/config";
import { logger } from "./shared/logger";
import { renderSvg } from "./export/render/svg";
import { type RenderExportResult, renderExport } from "./export/render-export";

/** Step `export-svg`: renders a document, or one Map iteration's page range, to SVG in S3. */

const s3 = new S3Client({});
const config = readExportsConfig(process.env);

export async function handler(event: unknown, context: Context): Promise<RenderExportResult> {
  logger.addContext(context);
  return renderExport({ format: "svg", render: renderSvg, s3, config, log: logger }, event);
}
