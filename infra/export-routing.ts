import { EXPORT_PATH_MARGIN_SECONDS, FunctionSizing, lambdaTaskSeconds } from "./config";

/** Lambda gives one full vCPU at this memory size and a proportional share below it (AWS Lambda docs, "Memory"). */
export const LAMBDA_MB_PER_VCPU = 1769;
/** Fargate CPU units per vCPU. */
const FARGATE_UNITS_PER_VCPU = 1024;

export interface ExportRoutingInput {
  readonly sizing: Record<"exportJobStatus" | "exportEstimate" | "exportSvg" | "exportPdf" | "exportSplit" | "exportCombine", FunctionSizing>;
  readonly mapMaxConcurrency: number;
  readonly workflowTimeoutSeconds: number;
  readonly fargate: { readonly cpu: number; readonly timeoutSeconds: number; readonly startupAllowanceSeconds: number };
}

/**
 * The environment export-estimate chooses an export's runtime with (handlers/export/estimate.ts `chooseRoute`): what
 * the Map path and the Fargate worker can take on under this stack's settings, so a job no runtime can finish is
 * refused before anything is billed instead of timing out with the job left RUNNING.
 *
 * - Map: the execution timeout, less every other step on that path — record the start, estimate, split, combine,
 *   record the outcome (each at its Task's timeout: the function's plus Lambda's init limit) — and the same margin
 *   the config's path check keeps; and each chunk's bound, the format's exporter Task timeout, since a chunk slower
 *   than its estimate runs until then.
 * - Fargate: the worker's own deadline, the state's timeout less the start-up allowance.
 * - The worker's speed relative to each format's Lambda: rendering runs on one thread, which gets the vCPU share of
 *   the Lambda's memory (capped at one) there and of the task's CPU units (capped at one) on Fargate.
 */
export function exportRoutingEnvironment(input: ExportRoutingInput): Record<string, string> {
  const f = input.sizing;
  const mapSeconds =
    input.workflowTimeoutSeconds -
    (2 * lambdaTaskSeconds(f.exportJobStatus.timeoutSeconds) +
      lambdaTaskSeconds(f.exportEstimate.timeoutSeconds) +
      lambdaTaskSeconds(f.exportSplit.timeoutSeconds) +
      lambdaTaskSeconds(f.exportCombine.timeoutSeconds) +
      EXPORT_PATH_MARGIN_SECONDS);
  const fargateShare = Math.min(1, input.fargate.cpu / FARGATE_UNITS_PER_VCPU);
  const speedup = (memoryMb: number) => fargateShare / Math.min(1, memoryMb / LAMBDA_MB_PER_VCPU);
  return {
    MAP_MAX_CONCURRENCY: String(input.mapMaxConcurrency),
    MAP_SECONDS_AVAILABLE: String(Math.max(0, mapSeconds)),
    MAP_CHUNK_SECONDS_SVG: String(lambdaTaskSeconds(f.exportSvg.timeoutSeconds)),
    MAP_CHUNK_SECONDS_PDF: String(lambdaTaskSeconds(f.exportPdf.timeoutSeconds)),
    FARGATE_SECONDS_AVAILABLE: String(Math.max(0, input.fargate.timeoutSeconds - input.fargate.startupAllowanceSeconds)),
    FARGATE_SPEEDUP_SVG: speedup(f.exportSvg.memoryMb).toFixed(3),
    FARGATE_SPEEDUP_PDF: speedup(f.exportPdf.memoryMb).toFixed(3),
  };
}
