import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { EXPORT_STATE_FORMAT_VERSION } from "../shared/format";
import type { JobsConfig } from "./config";
import type { Log } from "./logger";
import { type JobStatus, type JobStatusEvent, jobStatusEventSchema, parseRequest } from "./requests";

export interface JobStatusResult {
  readonly formatVersion: typeof EXPORT_STATE_FORMAT_VERSION;
  readonly jobId: string;
  /** The status the job has after this call: the one asked for, or the terminal status it already had. */
  readonly status: JobStatus;
}

export interface JobStatusDeps {
  readonly ddb: DynamoDBDocumentClient;
  readonly config: JobsConfig;
  readonly log: Log;
  readonly now?: () => Date;
}

/** Optional event fields copied onto the job item when present. */
const DETAIL_FIELDS = ["documentKey", "format", "runtime", "outputKey", "pages", "bytes", "error"] as const;

/**
 * Records a job's status; the only writer of the jobs table. Every write is conditional on the job not being
 * finished yet (absent or RUNNING), so a late or repeated RUNNING never overwrites SUCCEEDED/FAILED, and a repeated
 * terminal status is a no-op that keeps the first one's details.
 *
 * @throws InvalidExportRequestError, UnsupportedFormatVersionError
 */
export async function recordJobStatus(deps: JobStatusDeps, event: unknown): Promise<JobStatusResult> {
  const request: JobStatusEvent = parseRequest(jobStatusEventSchema, event, "export-job-status event");
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const names: Record<string, string> = { "#status": "status", "#formatVersion": "formatVersion", "#updatedAt": "updatedAt" };
  const values: Record<string, unknown> = {
    ":status": request.status,
    ":running": "RUNNING",
    ":formatVersion": EXPORT_STATE_FORMAT_VERSION,
    ":now": now,
  };
  const sets = ["#status = :status", "#formatVersion = :formatVersion", "#updatedAt = :now"];
  sets.push(request.status === "RUNNING" ? "#startedAt = if_not_exists(#startedAt, :now)" : "#finishedAt = :now");
  names[request.status === "RUNNING" ? "#startedAt" : "#finishedAt"] = request.status === "RUNNING" ? "startedAt" : "finishedAt";
  for (const field of DETAIL_FIELDS) {
    if (request[field] === undefined) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = request[field];
    sets.push(`#${field} = :${field}`);
  }
  try {
    await deps.ddb.send(
      new UpdateCommand({
        TableName: deps.config.table,
        Key: { jobId: request.jobId },
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: "attribute_not_exists(jobId) OR #status = :running",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return { formatVersion: EXPORT_STATE_FORMAT_VERSION, jobId: request.jobId, status: request.status };
  } catch (error) {
    if ((error as { name?: string }).name !== "ConditionalCheckFailedException") throw error;
    // The exception carries the item in DynamoDB's wire format ({ S: "..." }): the document client does not
    // unmarshall errors. A plain string is accepted too in case a later SDK version does.
    const stored = (error as { Item?: { status?: { S?: string } | string } }).Item?.status;
    const current = (typeof stored === "string" ? stored : stored?.S) as JobStatus | undefined;
    const status = current ?? request.status;
    if (status !== request.status) {
      deps.log.warn("job already finished; status not changed", { jobId: request.jobId, status, ignored: request.status });
    }
    return { formatVersion: EXPORT_STATE_FORMAT_VERSION, jobId: request.jobId, status };
  }
}
