import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Context } from "aws-lambda";
import { readJobsConfig } from "./export/config";
import { type JobStatusResult, recordJobStatus } from "./export/job-status";
import { logger } from "./shared/logger";

/** Step `export-job-status`: the only writer of the jobs table. */

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const config = readJobsConfig(process.env);

export async function handler(event: unknown, context: Context): Promise<JobStatusResult> {
  logger.addContext(context);
  return recordJobStatus({ ddb, config, log: logger }, event);
}
