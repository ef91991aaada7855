import type { S3Client } from "@aws-sdk/client-s3";
import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, type SFNClient } from "@aws-sdk/client-sfn";
import { type Env, positiveNumberEnv, readExportsConfig } from "../../handlers/export/config";
import { runExportJob } from "../../handlers/export/export-job";
import type { Log } from "../../handlers/export/logger";
import { RENDERERS } from "../../handlers/export/render";
import { type WorkerJob, exportKey, parseRequest, workerJobSchema } from "../../handlers/export/requests";
import { ErrorNames, InvalidExportRequestError } from "../../handlers/shared/errors";
import { EXPORT_STATE_FORMAT_VERSION } from "../../handlers/shared/format";

/**
 * The Fargate export worker: one long export that would not fit a Lambda invocation, with the same rendering module
 * and S3 code as the Lambda exporters. Started by Step Functions (`ecs:runTask.waitForTaskToken`) with the task token
 * in `TASK_TOKEN`; it heartbeats while it works and reports the result with SendTaskSuccess / SendTaskFailure.
 *
 * Environment: `EXPORT_JOB` (JSON `{ formatVersion: 1, jobId, documentKey, format }`), `DOCUMENTS_BUCKET`,
 * `EXPORTS_PREFIX` (default `exports/`), `HEARTBEAT_SECONDS` (default 60), `TASK_TOKEN` (optional: without it the
 * worker only exits with its code, e.g. when run by hand).
 */

/** Exit codes: what went wrong, for whoever reads the stopped task's `exitCode`. */
export const EXIT_CODES = {
  success: 0,
  /** EXPORT_JOB or the worker's environment is invalid. */
  badInput: 2,
  /** The document is invalid or of an unsupported format version. */
  invalidDocument: 3,
  /** Rendering or uploading failed (or the task was stopped). */
  exportFailed: 4,
  /** The result could not be reported to Step Functions (including a lost task token). Takes precedence. */
  unreported: 5,
} as const;

/** SendTaskFailure limits: `error` ≤ 256 characters, `cause` ≤ 32,768 characters. */
const MAX_ERROR_LENGTH = 256;
const MAX_CAUSE_LENGTH = 32_768;
/** Heartbeat errors meaning Step Functions no longer waits for this task: stop working. */
const TOKEN_GONE = new Set(["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"]);
/** Progress is logged about this many times per job (and after the last page). */
const PROGRESS_LINES = 20;

export interface WorkerDeps {
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly log: Log;
  /** Aborted when the task is asked to stop (SIGTERM from ECS). */
  readonly signal?: AbortSignal;
}

export interface WorkerResult {
  readonly formatVersion: typeof EXPORT_STATE_FORMAT_VERSION;
  readonly jobId: string;
  readonly outputKey: string;
  readonly pages: number;
  readonly bytes: number;
  readonly runtime: "fargate";
}

/** Thrown (as an abort reason) when a heartbeat says the task token is no longer valid. */
class TaskTokenLostError extends Error {
  constructor(cause: unknown) {
    super(`Step Functions no longer accepts this task's token: ${(cause as Error).message}`, { cause });
    this.name = "TaskTokenLost";
  }
}

function exitCodeFor(error: unknown): number {
  switch ((error as Error).name) {
    case ErrorNames.InvalidDocument:
    case ErrorNames.UnsupportedFormatVersion:
      return EXIT_CODES.invalidDocument;
    case ErrorNames.InvalidExportRequest:
      return EXIT_CODES.badInput;
    default:
      return EXIT_CODES.exportFailed;
  }
}

/** Runs one export job; resolves to the process exit code (never rejects). */
export async function run(env: Env, deps: WorkerDeps): Promise<number> {
  const { log, sfn } = deps;
  const taskToken = env.TASK_TOKEN?.trim() || undefined;

  async function fail(error: unknown, code: number): Promise<number> {
    const name = error instanceof Error ? error.name : "Error";
    const message = error instanceof Error ? error.message : String(error);
    log.error("export failed", { error: name, reason: message, exitCode: code });
    if (taskToken === undefined) return code;
    try {
      await sfn.send(
        new SendTaskFailureCommand({
          taskToken,
          error: name.slice(0, MAX_ERROR_LENGTH),
          cause: message.slice(0, MAX_CAUSE_LENGTH),
        }),
      );
      return code;
    } catch (reportError) {
      log.error("could not report the failure to Step Functions", { error: (reportError as Error).name, reason: (reportError as Error).message });
      return EXIT_CODES.unreported;
    }
  }

  let job: WorkerJob;
  let config: ReturnType<typeof readExportsConfig>;
  let heartbeatMs: number;
  try {
    let raw: unknown;
    try {
      raw = JSON.parse(env.EXPORT_JOB ?? "");
    } catch {
      throw new InvalidExportRequestError("`EXPORT_JOB` must be set to a JSON object { formatVersion: 1, jobId, documentKey, format }");
    }
    job = parseRequest(workerJobSchema, raw, "EXPORT_JOB");
    config = readExportsConfig(env);
    heartbeatMs = positiveNumberEnv(env, "HEARTBEAT_SECONDS", 60, 3_600) * 1000;
  } catch (error) {
    return fail(error, EXIT_CODES.badInput);
  }

  // One controller for everything that must stop the work: the task being stopped, or its token being gone.
  const work = new AbortController();
  const onStop = (): void => work.abort(deps.signal?.reason ?? new Error("the task was asked to stop"));
  if (deps.signal?.aborted) onStop();
  deps.signal?.addEventListener("abort", onStop, { once: true });
  const heartbeat =
    taskToken === undefined
      ? undefined
      : setInterval(() => {
          sfn.send(new SendTaskHeartbeatCommand({ taskToken })).then(
            () => log.debug("heartbeat sent"),
            (error: Error) => {
              if (TOKEN_GONE.has(error.name)) work.abort(new TaskTokenLostError(error));
              else log.warn("heartbeat failed; retrying at the next interval", { error: error.name, reason: error.message });
            },
          );
        }, heartbeatMs);

  const outputKey = exportKey(config.exportsPrefix, job.jobId, job.format);
  log.info("export started", { jobId: job.jobId, documentKey: job.documentKey, format: job.format, outputKey });
  try {
    const exported = await runExportJob(
      { s3: deps.s3, bucket: config.bucket, render: RENDERERS[job.format] },
      { jobId: job.jobId, documentKey: job.documentKey, format: job.format, outputKey, runtime: "fargate" },
      {
        signal: work.signal,
        onProgress: (done, total) => {
          const step = Math.max(1, Math.ceil(total / PROGRESS_LINES));
          if (done % step === 0 || done === total) log.info("progress", { jobId: job.jobId, pagesDone: done, pages: total });
        },
        onWarning: (message) => log.warn("svg-to-pdfkit warning", { reason: message }),
      },
    );
    const result: WorkerResult = { formatVersion: EXPORT_STATE_FORMAT_VERSION, jobId: job.jobId, ...exported, runtime: "fargate" };
    log.info("export written", { ...result });
    if (taskToken === undefined) return EXIT_CODES.success;
    try {
      await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(result) }));
      return EXIT_CODES.success;
    } catch (error) {
      log.error("could not report success to Step Functions", { error: (error as Error).name, reason: (error as Error).message });
      return EXIT_CODES.unreported;
    }
  } catch (error) {
    const reason = work.signal.aborted ? work.signal.reason : error;
    if (reason instanceof TaskTokenLostError) {
      log.error("stopped: the task token is no longer valid", { reason: reason.message });
      return EXIT_CODES.unreported;
    }
    return fail(reason, exitCodeFor(reason));
  } finally {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    deps.signal?.removeEventListener("abort", onStop);
  }
}
