import type { Context } from "aws-lambda";
import { readSplitConfig } from "./export/config";
import { logger } from "./shared/logger";
import { type SplitResult, splitExport } from "./export/split";

/** Step `export-split`: page count and chunk size → the Map's items (page ranges and part keys). */

const config = readSplitConfig(process.env);

export async function handler(event: unknown, context: Context): Promise<SplitResult> {
  logger.addContext(context);
  const result = splitExport(config, event);
  logger.info("export split", { chunks: result.chunks.length });
  return result;
}
