import type { S3Client } from "@aws-sdk/client-s3";
import { EXPORT_STATE_FORMAT_VERSION } from "../shared/format";
import type { EstimateConfig } from "./config";
import { type ExportFormat, exportRequestSchema, MAX_CHUNKS, parseRequest, partKey } from "./requests";
import { headDocument, readDocument } from "./s3";

/** Where an export runs; `none` when no runtime can finish it in the time the workflow allows. */
export type Route = "lambda" | "map" | "fargate" | "none";

export interface EstimateResult {
  readonly formatVersion: typeof EXPORT_STATE_FORMAT_VERSION;
  readonly pages: number;
  /** pages × secondsPerPage: the render time on the format's Lambda. */
  readonly estimatedSeconds: number;
  readonly secondsPerPage: number;
  readonly lambdaBudgetSeconds: number;
  /** Pages one Lambda can render within the budget: the chunk size of a split export. */
  readonly pagesPerChunk: number;
  /** What the workflow's ChooseRuntime branches on (see chooseRoute). */
  readonly route: Route;
  /** Why this route: the figures each runtime was measured against, in words. */
  readonly reason: string;
}

/**
 * The limits an export's route is chosen within. They come from the stack config through the function's environment
 * (infra/export-pipeline.ts), so the estimate and the state machine agree.
 */
export interface RouteLimits {
  /** Longest estimate one Lambda invocation is given. */
  readonly lambdaBudgetSeconds: number;
  /** Iterations the Map state runs at once (its MaxConcurrency). */
  readonly mapMaxConcurrency: number;
  /** Seconds the execution has left for the Map's iterations, once everything else on that path is accounted for. */
  readonly mapSecondsAvailable: number;
  /**
   * The longest one chunk may run: the format's exporter timeout. The estimate keeps a chunk within the budget, but
   * only the timeout bounds it, so the Map is given the time its waves can take, not the time they should take.
   */
  readonly mapChunkSeconds: number;
  /** Seconds the Fargate worker may work (its own deadline: the state's timeout minus the start-up allowance). */
  readonly fargateSecondsAvailable: number;
  /**
   * How much faster the worker renders than the format's Lambda: rendering is one thread, and Lambda gives a share of
   * a vCPU in proportion to memory (one vCPU at 1,769 MB), Fargate the task's CPU units (one vCPU per 1,024).
   */
  readonly fargateSpeedup: number;
}

/**
 * Bytes a Map may carry in its state: the chunk list before it, the parts list after (the parts replace the chunks,
 * see infra/export-workflow.ts), with room for the rest of the state under Step Functions' 256 KiB per state.
 */
export const MAP_PAYLOAD_BYTES = 200 * 1024;

export interface RouteInput {
  readonly jobId: string;
  readonly documentKey: string;
  readonly format: ExportFormat;
  readonly pages: number;
  readonly secondsPerPage: number;
  /** `false` asks for one worker; otherwise a long export is split when that fits. */
  readonly parallel?: boolean;
}

/**
 * Picks the runtime for an export before anything is billed:
 * 1. within the Lambda budget → the format's Lambda;
 * 2. longer, and not `parallel: false` → split into page ranges of `pagesPerChunk` on the Map, when a page fits the
 *    budget, the chunks fit the Map (at most MAX_CHUNKS, and their list within MAP_PAYLOAD_BYTES) and the waves of
 *    `mapMaxConcurrency` chunks, each as long as the exporter's timeout, end within `mapSecondsAvailable` — pages
 *    render independently, and the result comes sooner than on one worker;
 * 3. otherwise the Fargate worker, when it can finish within its deadline;
 * 4. otherwise `none`: the workflow records the job FAILED with the reason, and nothing runs.
 */
export function chooseRoute(input: RouteInput, limits: RouteLimits): { route: Route; reason: string; pagesPerChunk: number } {
  const { pages, secondsPerPage } = input;
  const estimated = pages * secondsPerPage;
  const pagesPerChunk = Math.max(1, Math.floor(limits.lambdaBudgetSeconds / secondsPerPage));
  const fmt = (s: number) => `${Math.round(s).toLocaleString("en-US")} s`;
  const lambda = `estimated ${fmt(estimated)} for ${pages} pages at ${secondsPerPage} s each, over the Lambda budget of ${fmt(limits.lambdaBudgetSeconds)}`;
  if (estimated <= limits.lambdaBudgetSeconds) {
    return { route: "lambda", reason: `estimated ${fmt(estimated)}, within the Lambda budget of ${fmt(limits.lambdaBudgetSeconds)}`, pagesPerChunk };
  }

  let map: string;
  if (input.parallel === false) {
    map = "one worker was asked for (parallel: false)";
  } else if (secondsPerPage > limits.lambdaBudgetSeconds) {
    map = `one page (${fmt(secondsPerPage)}) is over the Lambda budget, so pages cannot be split into Lambda-sized chunks`;
  } else {
    const chunks = Math.ceil(pages / pagesPerChunk);
    const waves = Math.ceil(chunks / limits.mapMaxConcurrency);
    const expectedSeconds = waves * pagesPerChunk * secondsPerPage;
    const mapSeconds = waves * Math.max(limits.mapChunkSeconds, pagesPerChunk * secondsPerPage);
    const payload = mapPayloadBytes(input, chunks);
    if (chunks > MAX_CHUNKS) map = `${chunks} chunks of ${pagesPerChunk} pages, more than the Map's ${MAX_CHUNKS}`;
    else if (payload > MAP_PAYLOAD_BYTES) map = `${chunks} chunks make a ${Math.ceil(payload / 1024)} KiB chunk list, more than the ${MAP_PAYLOAD_BYTES / 1024} KiB the Map's state may carry`;
    else if (mapSeconds > limits.mapSecondsAvailable) {
      map = `${chunks} chunks in ${waves} waves of ${limits.mapMaxConcurrency} may take ${fmt(mapSeconds)} (a wave lasts up to the exporter's ${fmt(limits.mapChunkSeconds)} Task timeout), more than the ${fmt(limits.mapSecondsAvailable)} the execution leaves the Map`;
    } else {
      return {
        route: "map",
        reason: `${lambda}: split into ${chunks} chunks of ${pagesPerChunk} pages, ${waves} waves of ${limits.mapMaxConcurrency}, about ${fmt(expectedSeconds)} and at most ${fmt(mapSeconds)}`,
        pagesPerChunk,
      };
    }
  }

  const fargateSeconds = estimated / limits.fargateSpeedup;
  const fargate = `on Fargate about ${fmt(fargateSeconds)} (${limits.fargateSpeedup.toFixed(2)}× the Lambda's speed)`;
  if (fargateSeconds <= limits.fargateSecondsAvailable) {
    return { route: "fargate", reason: `${lambda}; not split: ${map}; ${fargate}, within the worker's ${fmt(limits.fargateSecondsAvailable)}`, pagesPerChunk };
  }
  return { route: "none", reason: `${lambda}; not split: ${map}; ${fargate}, more than the worker's ${fmt(limits.fargateSecondsAvailable)}`, pagesPerChunk };
}

/** The larger of the Map's chunk list and its parts list, in bytes of JSON, for this export's ids and keys. */
function mapPayloadBytes(input: RouteInput, chunks: number): number {
  const outputKey = partKey("parts/", input.jobId, chunks, input.format);
  const chunk = { formatVersion: EXPORT_STATE_FORMAT_VERSION, jobId: input.jobId, documentKey: input.documentKey, format: input.format, pages: [input.pages, input.pages], outputKey };
  const part = { formatVersion: EXPORT_STATE_FORMAT_VERSION, jobId: input.jobId, runtime: "lambda", outputKey, pages: input.pages, bytes: Number.MAX_SAFE_INTEGER };
  return chunks * (Math.max(JSON.stringify(chunk).length, JSON.stringify(part).length) + 1);
}

/**
 * Sizes an export: reads (and so validates) the document page by page, counting the pages without keeping them,
 * estimates the render time from the count and chooses where it runs (chooseRoute).
 *
 * @throws InvalidExportRequestError, InvalidDocumentError, UnsupportedFormatVersionError
 */
export async function estimateExport(deps: { readonly s3: S3Client; readonly config: EstimateConfig }, event: unknown): Promise<EstimateResult> {
  const request = parseRequest(exportRequestSchema, event, "export request", { versionOptional: true });
  const { config } = deps;
  const document = await readDocument(deps.s3, await headDocument(deps.s3, config.bucket, request.documentKey));
  let pages = 0;
  for await (const _ of document.pages) pages++;
  const secondsPerPage = config.secondsPerPage[request.format];
  const { route, reason, pagesPerChunk } = chooseRoute(
    { jobId: request.jobId, documentKey: request.documentKey, format: request.format, pages, secondsPerPage, parallel: request.parallel },
    {
      ...config.routeLimits,
      lambdaBudgetSeconds: config.lambdaBudgetSeconds,
      mapChunkSeconds: config.routeLimits.mapChunkSeconds[request.format],
      fargateSpeedup: config.routeLimits.fargateSpeedup[request.format],
    },
  );
  return {
    formatVersion: EXPORT_STATE_FORMAT_VERSION,
    pages,
    estimatedSeconds: pages * secondsPerPage,
    secondsPerPage,
    lambdaBudgetSeconds: config.lambdaBudgetSeconds,
    pagesPerChunk,
    route,
    reason,
  };
}
