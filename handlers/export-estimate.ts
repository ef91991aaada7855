import { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { readEstimateConfig } from "./export/config";
import { type EstimateResult, estimateExport } from "./export/estimate";
import { logger } from "./shared/logger";

/** Step `export-estimate`: workflow input → page count, estimated seconds and chunk size. */

const s3 = new S3Client({});
const config = readEstimateConfig(process.env);

export async function handler(event: unknown, context: Context): Promise<EstimateResult> {
  logger.addContext(context);
  const result = await estimateExport({ s3, config }, event);
  logger.info("export estimated", { ...result });
  return result;
}
