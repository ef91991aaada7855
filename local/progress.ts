import type { LocalCloud } from "./cloud";
import type { LogLine } from "./runtimes/log-lines";
import type { ExecutionRecord } from "./runtimes/step-functions/runtime";

/**
 * Shows export progress (pages done) on stderr from the exporters' and the worker's structured logs: the worker
 * logs `progress` with pagesDone/pages, each exporter logs the pages it wrote (a Map chunk: its range); the page count
 * comes from the estimate in the workflow's state (the job id is the execution's input).
 */
export function watchExportProgress(cloud: LocalCloud, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): () => void {
  const jobs = new Map<string, { pages?: number; done: number; chunks: number; last: number; shown: string }>();
  const show = (jobId: string) => {
    const job = jobs.get(jobId)!;
    const text = `  … export ${jobId}: ${job.done}${job.pages ? `/${job.pages}` : ""} pages done${job.chunks ? ` (${job.chunks} chunks)` : ""}`;
    const now = Date.now();
    if (text !== job.shown && (now - job.last > 500 || (job.pages !== undefined && job.done >= job.pages))) {
      job.last = now;
      job.shown = text;
      write(text);
    }
  };
  const onState = (execution: ExecutionRecord, _state: string, output: unknown) => {
    const jobId = (execution.input as { jobId?: unknown } | null)?.jobId;
    const pages = (output as { estimate?: { pages?: unknown } } | null)?.estimate?.pages;
    if (typeof jobId !== "string" || typeof pages !== "number") return;
    const job = jobs.get(jobId) ?? { done: 0, chunks: 0, last: 0, shown: "" };
    jobs.set(jobId, job);
    if (job.pages === undefined) {
      job.pages = pages;
      show(jobId);
    }
  };
  const onLog = (entry: LogLine) => {
    if (!entry.line.startsWith("{")) return;
    let log: Record<string, any>;
    try {
      log = JSON.parse(entry.line);
    } catch {
      return;
    }
    const jobId = log.jobId;
    if (typeof jobId !== "string") return;
    const job = jobs.get(jobId) ?? { done: 0, chunks: 0, last: 0, shown: "" };
    jobs.set(jobId, job);
    if (typeof log.pagesDone === "number") job.done = Math.max(job.done, log.pagesDone);
    if (typeof log.pages === "number" && log.message === "progress") job.pages = log.pages;
    if (log.message === "export written" && typeof log.pages === "number" && String(log.outputKey ?? "").includes("part")) {
      job.chunks++;
      job.done += log.pages;
    } else if (log.message === "export written" && typeof log.pages === "number") {
      job.done = log.pages;
    }
    show(jobId);
  };
  cloud.sfn.on("state-output", onState);
  cloud.lambda.on("log", onLog);
  cloud.ecs.on("log", onLog);
  return () => {
    cloud.sfn.off("state-output", onState);
    cloud.lambda.off("log", onLog);
    cloud.ecs.off("log", onLog);
  };
}

