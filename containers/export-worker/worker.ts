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
 * Step Functions never stops the task itself (not on HeartbeatTimeout, TimeoutSeconds or an aborted execution), so
 * the worker watches itself: it heartbeats once when it starts (the window has been running since the task was
 * started, through provisioning and the image pull), then only when the job has made progress since the last
 * heartbeat, and gives up
 * on its own — SendTaskFailure, then exit — after `STALL_SECONDS` without progress or `DEADLINE_SECONDS` in all.
 *
 * Environment: `EXPORT_JOB` (JSON `{ formatVersion: 1, jobId, documentKey, format }`), `DOCUMENTS_BUCKET`,
 * `EXPORTS_PREFIX` (default `exports/`), `HEARTBEAT_SECONDS`, `STALL_SECONDS`, `DEADLINE_SECONDS` (see
 * readWatchdogConfig), `TASK_TOKEN` (optional: without it the worker only exits with its code, e.g. when run by hand).
 */

/** Exit codes: what went wrong, for whoever reads the stopped task's `exitCode`. */
export const EXIT_CODES = {
  success: 0,
  /** EXPORT_JOB or the worker's environment is invalid. */
  badInput: 2,
  /** The document is invalid or of an unsupported format version. */
  invalidDocument: 3,
  /** Rendering or uploading failed, stalled or ran past DEADLINE_SECONDS (or the task was stopped). */
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
/**
 * Once the work is told to stop, how long it may take to wind down (abort its multipart upload) before the worker
 * reports and exits anyway: a request stuck on a dead connection must not keep the task running.
 */
const STOP_GRACE_MS = 5_000;

export interface WatchdogConfig {
  /** Interval of SendTaskHeartbeat, sent only when there was progress since the last one (`HEARTBEAT_SECONDS`). */
  readonly heartbeatMs: number;
  /** Time without progress after which the worker gives up (`STALL_SECONDS`). */
  readonly stallMs: number;
  /** Time after which the worker gives up however the job is going (`DEADLINE_SECONDS`); none when unset. */
  readonly deadlineMs?: number;
}

function secondsEnv(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`\`${name}\` must be a number of seconds from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

/**
 * `HEARTBEAT_SECONDS`: default 60, ≤ 3,600. `STALL_SECONDS`: 10–3,600, default 3 × HEARTBEAT_SECONDS (within those
 * bounds) — a few heartbeats' worth, so one slow S3 response is not a stall. `DEADLINE_SECONDS`: 60–86,400, optional;
 * infrastructure sets it just below the state's TimeoutSeconds, so the worker's own failure is the one reported.
 *
 * @throws Error naming the variable
 */
export function readWatchdogConfig(env: Env): WatchdogConfig {
  const heartbeatSeconds = positiveNumberEnv(env, "HEARTBEAT_SECONDS", 60, 3_600);
  const stallSeconds = secondsEnv(env, "STALL_SECONDS", 10, 3_600) ?? Math.min(Math.max(3 * heartbeatSeconds, 10), 3_600);
  const deadlineSeconds = secondsEnv(env, "DEADLINE_SECONDS", 60, 86_400);
  return {
    heartbeatMs: heartbeatSeconds * 1000,
    stallMs: stallSeconds * 1000,
    ...(deadlineSeconds === undefined ? {} : { deadlineMs: deadlineSeconds * 1000 }),
  };
}

/** The worker's time and timers: the process's own by default; tests pass a fake clock they move by hand. */
export interface WorkerClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const SYSTEM_CLOCK: WorkerClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout | undefined),
};

export interface WorkerDeps {
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly log: Log;
  /** Aborted when the task is asked to stop (SIGTERM from ECS). */
  readonly signal?: AbortSignal;
  /** @default the process's clock and timers */
  readonly clock?: WorkerClock;
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

/** The job made no progress for STALL_SECONDS (reported as SendTaskFailure `error`, for a `Catch`). */
export class WorkerStalledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkerStalled";
  }
}

/** The job ran for DEADLINE_SECONDS without finishing. */
export class WorkerDeadlineExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkerDeadlineExceeded";
  }
}

/** What the watchdog knows of the job's progress. */
class Progress {
  /** Counts progress events, so a heartbeat can tell whether any happened since the last one. */
  count = 0;
  at: number;
  pagesDone = 0;
  pages?: number;

  constructor(private readonly clock: WorkerClock) {
    this.at = clock.now();
  }

  advance(): void {
    this.count++;
    this.at = this.clock.now();
  }

  describe(): string {
    return this.pages === undefined ? "no page rendered yet" : `${this.pagesDone} of ${this.pages} pages done`;
  }
}

/**
 * The S3 client as the export sees it, with every response and every chunk of a downloaded body counted as progress:
 * runExportJob reports rendered pages only, and the scan that counts the pages and the part uploads would otherwise
 * look like a stall. Requests carry `signal`, and on abort a downloaded body is destroyed: a read stalled on a dead
 * connection then fails at once instead of holding the export (and its finally) forever.
 */
function watchedS3(s3: S3Client, signal: AbortSignal, onProgress: () => void): S3Client {
  const send = async (command: Parameters<S3Client["send"]>[0], options?: Parameters<S3Client["send"]>[1]): Promise<unknown> => {
    const output = (await s3.send(command, { abortSignal: signal, ...options })) as { Body?: unknown };
    onProgress();
    const body = output.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    if (body === undefined || typeof body[Symbol.asyncIterator] !== "function") return output;
    // Destroyed without an error: a Readable destroyed with one emits "error", which nobody may be listening for.
    const destroy = (): void => body.destroy?.();
    signal.addEventListener("abort", destroy, { once: true });
    async function* counted(): AsyncGenerator<Uint8Array> {
      try {
        for await (const chunk of body!) {
          onProgress();
          yield chunk;
        }
      } finally {
        signal.removeEventListener("abort", destroy);
      }
    }
    return { ...output, Body: counted() };
  };
  return new Proxy(s3, { get: (target, property) => (property === "send" ? send : Reflect.get(target, property)) });
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
  const clock = deps.clock ?? SYSTEM_CLOCK;
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
  let watchdog: WatchdogConfig;
  try {
    let raw: unknown;
    try {
      raw = JSON.parse(env.EXPORT_JOB ?? "");
    } catch {
      throw new InvalidExportRequestError("`EXPORT_JOB` must be set to a JSON object { formatVersion: 1, jobId, documentKey, format }");
    }
    job = parseRequest(workerJobSchema, raw, "EXPORT_JOB");
    config = readExportsConfig(env);
    watchdog = readWatchdogConfig(env);
  } catch (error) {
    return fail(error, EXIT_CODES.badInput);
  }

  // One controller for everything that must stop the work: the task being stopped, its token being gone, a stall or
  // the deadline.
  const work = new AbortController();
  const onStop = (): void => work.abort(deps.signal?.reason ?? new Error("the task was asked to stop"));
  if (deps.signal?.aborted) onStop();
  deps.signal?.addEventListener("abort", onStop, { once: true });

  const progress = new Progress(clock);
  let heartbeatCount = progress.count;
  const sendHeartbeat = (token: string): void => {
    sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })).then(
      () => log.debug("heartbeat sent"),
      (error: Error) => {
        if (TOKEN_GONE.has(error.name)) work.abort(new TaskTokenLostError(error));
        else log.warn("heartbeat failed; retrying at the next interval", { error: error.name, reason: error.message });
      },
    );
  };
  // The state's heartbeat window has been running since Step Functions started the task: provisioning and the image
  // pull used part of it. The first heartbeat says "started" and gives the work a whole window.
  if (taskToken !== undefined) sendHeartbeat(taskToken);
  const heartbeat =
    taskToken === undefined
      ? undefined
      : clock.setInterval(() => {
          // Heartbeats say "still getting somewhere", not "still running": a worker stuck on a dead connection
          // stops sending them, and Step Functions' HeartbeatSeconds can catch it as well as the stall timer below.
          if (progress.count === heartbeatCount) {
            log.debug("no progress since the last heartbeat; none sent", { idleSeconds: (clock.now() - progress.at) / 1000 });
            return;
          }
          heartbeatCount = progress.count;
          sendHeartbeat(taskToken);
        }, watchdog.heartbeatMs);
  // Re-armed for the time left rather than reset on every chunk, which would be a timer operation per 16 KiB read.
  let stallTimer: unknown;
  const checkStall = (): void => {
    const idleMs = clock.now() - progress.at;
    if (idleMs < watchdog.stallMs) {
      stallTimer = clock.setTimeout(checkStall, watchdog.stallMs - idleMs);
      return;
    }
    work.abort(
      new WorkerStalledError(
        `no progress for ${watchdog.stallMs / 1000} s (STALL_SECONDS); last progress at ${new Date(progress.at).toISOString()}: ${progress.describe()}`,
      ),
    );
  };
  stallTimer = clock.setTimeout(checkStall, watchdog.stallMs);
  const deadlineTimer =
    watchdog.deadlineMs === undefined
      ? undefined
      : clock.setTimeout(() => {
          work.abort(
            new WorkerDeadlineExceededError(
              `the job ran for ${watchdog.deadlineMs! / 1000} s (DEADLINE_SECONDS) without finishing: ${progress.describe()}`,
            ),
          );
        }, watchdog.deadlineMs);
  const stopTimers = (): void => {
    clock.clearInterval(heartbeat);
    clock.clearTimeout(stallTimer);
    clock.clearTimeout(deadlineTimer);
  };
  work.signal.addEventListener("abort", stopTimers, { once: true });
  const stopped = new Promise<void>((resolve) => {
    if (work.signal.aborted) resolve();
    else work.signal.addEventListener("abort", () => resolve(), { once: true });
  });

  /**
   * The export's result; once the work is told to stop, its own failure if it comes within STOP_GRACE_MS (it has
   * aborted its multipart upload), else the reason it was stopped — the worker does not wait for a hung request.
   */
  async function outcome<T>(exporting: Promise<T>): Promise<T> {
    const settled = exporting.then(
      () => true,
      () => true,
    );
    if (await Promise.race([settled, stopped.then(() => false)])) return exporting;
    let grace: unknown;
    const inTime = await Promise.race([settled, new Promise<false>((resolve) => (grace = clock.setTimeout(() => resolve(false), STOP_GRACE_MS)))]);
    clock.clearTimeout(grace);
    if (inTime) return exporting;
    log.warn("the work did not stop in time; reporting without waiting for it", { graceSeconds: STOP_GRACE_MS / 1000 });
    throw work.signal.reason;
  }

  const outputKey = exportKey(config.exportsPrefix, job.jobId, job.format);
  log.info("export started", { jobId: job.jobId, documentKey: job.documentKey, format: job.format, outputKey });
  try {
    const exported = await outcome(
      runExportJob(
        { s3: watchedS3(deps.s3, work.signal, () => progress.advance()), bucket: config.bucket, render: RENDERERS[job.format] },
        { jobId: job.jobId, documentKey: job.documentKey, format: job.format, outputKey, runtime: "fargate" },
        {
          signal: work.signal,
          onProgress: (done, total) => {
            progress.pagesDone = done;
            progress.pages = total;
            progress.advance();
            const step = Math.max(1, Math.ceil(total / PROGRESS_LINES));
            if (done % step === 0 || done === total) log.info("progress", { jobId: job.jobId, pagesDone: done, pages: total });
          },
          onWarning: (message) => log.warn("svg-to-pdfkit warning", { reason: message }),
        },
      ),
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
    stopTimers();
    deps.signal?.removeEventListener("abort", onStop);
  }
}
