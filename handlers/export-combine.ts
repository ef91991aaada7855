import { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { type CombineResult, combineExport } from "./export/combine";
import { readExportsConfig } from "./export/config";
import { logger } from "./shared/logger";

/** Step `export-combine`: the Map's parts → one export; deletes the parts. */

const s3 = new S3Client({});
const config = readExportsConfig(process.env);

export async function handler(event: unknown, context: Context): Promise<CombineResult> {
  logger.addContext(context);
  return combineExport({ s3, config, log: logger }, event);
}
