import { EXPORT_STATE_FORMAT_VERSION } from "../handlers/shared/format";
import { DEFAULT_LAMBDA_RETRY, LAMBDA_RESOURCE_ERRORS, LAMBDA_TIMEOUT_ERRORS, RenderedWorkflow, Workflow } from "./workflow";

export interface ExportFunctionArns {
  readonly exportJobStatus: string;
  readonly exportEstimate: string;
  readonly exportSvg: string;
  readonly exportPdf: string;
  readonly exportSplit: string;
  readonly exportCombine: string;
}

/** The Fargate task the workflow starts for work that cannot be split, or when a Lambda attempt timed out. */
export interface ExportWorkerTarget {
  readonly clusterArn: string;
  readonly taskDefinitionArn: string;
  readonly taskRoleArn: string;
  readonly executionRoleArn: string;
  readonly containerName: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly assignPublicIp: boolean;
  readonly heartbeatSeconds: number;
  readonly timeoutSeconds: number;
}

export interface ExportWorkflowProps {
  readonly functions: ExportFunctionArns;
  readonly timeouts: Record<keyof ExportFunctionArns, number>;
  readonly worker: ExportWorkerTarget;
  /** Estimated durations up to this many seconds run in one Lambda; longer ones are split or go to Fargate. */
  readonly lambdaBudgetSeconds: number;
  /** Parallel page-range exports at once in the Map state. */
  readonly mapMaxConcurrency: number;
  readonly timeoutSeconds: number;
}

export const ExportStates = {
  PrepareJob: "PrepareJob",
  RecordJobStarted: "RecordJobStarted",
  EstimateExport: "EstimateExport",
  ChooseRuntime: "ChooseRuntime",
  RefuseExport: "RefuseExport",
  ExportSvg: "ExportSvg",
  ExportPdf: "ExportPdf",
  SplitExport: "SplitExport",
  ExportPages: "ExportPages",
  ChooseChunkFormat: "ChooseChunkFormat",
  ExportSvgPages: "ExportSvgPages",
  ExportPdfPages: "ExportPdfPages",
  CombineExport: "CombineExport",
  ExportOnFargate: "ExportOnFargate",
  RecordJobSucceeded: "RecordJobSucceeded",
  RecordJobFailed: "RecordJobFailed",
  ExportSucceeded: "ExportSucceeded",
  ExportFailed: "ExportFailed",
} as const;

const ANY_ERROR = ["States.ALL"];

/**
 * Export one document to SVG or PDF. EstimateExport counts the pages and picks the runtime (handlers/export/estimate.ts
 * `chooseRoute`, with the limits of this stack): within the Lambda budget → that format's exporter; longer → split
 * into page ranges, Map, combine, which every format allows (pages render independently) unless the request says
 * `parallel: false` or the split cannot fit; otherwise → the Fargate task; and when no runtime can finish in time →
 * recorded FAILED with the reason before anything runs. A Lambda exporter that runs out of time or memory falls back
 * to Fargate.
 * Every outcome is recorded in the jobs table by its one writer, the job-status function.
 */
export function exportWorkflow(props: ExportWorkflowProps): RenderedWorkflow {
  const f = props.functions;
  const t = props.timeouts;
  const S = ExportStates;
  const retry = [DEFAULT_LAMBDA_RETRY];
  const recordFailure = { errors: ANY_ERROR, next: S.RecordJobFailed };
  const exporter = (functionArn: string, timeoutSeconds: number) => ({
    functionArn,
    timeoutSeconds,
    parameters: { formatVersion: EXPORT_STATE_FORMAT_VERSION, "jobId.$": "$.jobId", "documentKey.$": "$.documentKey" },
    resultPath: "$.result",
    retry,
    // Out of time or out of memory on Lambda: the worker has both to spare.
    catch: [
      { errors: [...LAMBDA_TIMEOUT_ERRORS, ...LAMBDA_RESOURCE_ERRORS], next: S.ExportOnFargate, resultPath: "$.lambdaError" },
      recordFailure,
    ],
    next: S.RecordJobSucceeded,
  });
  const chunkExporter = (functionArn: string, timeoutSeconds: number) => ({
    functionArn,
    timeoutSeconds,
    parameters: {
      formatVersion: EXPORT_STATE_FORMAT_VERSION,
      "jobId.$": "$.jobId",
      "documentKey.$": "$.documentKey",
      "pages.$": "$.pages",
      "outputKey.$": "$.outputKey",
    },
    retry,
  });
  const chunk = new Workflow()
    .choice(S.ChooseChunkFormat, {
      choices: [{ condition: { Variable: "$.format", StringEquals: "svg" }, next: S.ExportSvgPages }],
      otherwise: S.ExportPdfPages,
    })
    .lambda(S.ExportSvgPages, chunkExporter(f.exportSvg, t.exportSvg))
    .lambda(S.ExportPdfPages, chunkExporter(f.exportPdf, t.exportPdf));

  return new Workflow({ comment: "Export a document to SVG or PDF on Lambda, a Map of Lambdas, or Fargate.", timeoutSeconds: props.timeoutSeconds })
    .pass(S.PrepareJob, {
      comment: "The job as the Fargate worker receives it (one JSON environment variable).",
      parameters: {
        formatVersion: EXPORT_STATE_FORMAT_VERSION,
        "jobId.$": "$.jobId",
        "documentKey.$": "$.documentKey",
        "format.$": "$.format",
      },
      resultPath: "$.job",
      next: S.RecordJobStarted,
    })
    .lambda(S.RecordJobStarted, {
      functionArn: f.exportJobStatus,
      timeoutSeconds: t.exportJobStatus,
      parameters: {
        formatVersion: EXPORT_STATE_FORMAT_VERSION,
        "jobId.$": "$.jobId",
        status: "RUNNING",
        "documentKey.$": "$.documentKey",
        "format.$": "$.format",
      },
      resultPath: null,
      retry,
      catch: [recordFailure],
      next: S.EstimateExport,
    })
    // The whole workflow input, not Parameters: `parallel` is optional, and a JSONPath that finds nothing fails the
    // state (JSONPath has no default); the estimate reads the request with its optional fields.
    .lambda(S.EstimateExport, {
      comment: "Reads the document (format version checked, older versions upgraded), estimates the duration and picks the runtime.",
      functionArn: f.exportEstimate,
      timeoutSeconds: t.exportEstimate,
      resultPath: "$.estimate",
      retry,
      catch: [recordFailure],
      next: S.ChooseRuntime,
    })
    .choice(S.ChooseRuntime, {
      comment: `The route the estimate chose: Lambda within ${props.lambdaBudgetSeconds} s (under Lambda's 900 s limit), else the Map, else Fargate, else none.`,
      choices: [
        { condition: { And: [{ Variable: "$.estimate.route", StringEquals: "lambda" }, { Variable: "$.format", StringEquals: "svg" }] }, next: S.ExportSvg },
        { condition: { And: [{ Variable: "$.estimate.route", StringEquals: "lambda" }, { Variable: "$.format", StringEquals: "pdf" }] }, next: S.ExportPdf },
        { condition: { Variable: "$.estimate.route", StringEquals: "map" }, next: S.SplitExport },
        { condition: { Variable: "$.estimate.route", StringEquals: "fargate" }, next: S.ExportOnFargate },
      ],
      otherwise: S.RefuseExport,
    })
    .pass(S.RefuseExport, {
      comment: "No runtime can finish this export in the time the workflow allows: the job fails with the estimate's reason, nothing runs.",
      parameters: { Error: "ExportNotPossible", "Cause.$": "$.estimate.reason" },
      resultPath: "$.error",
      next: S.RecordJobFailed,
    })
    .lambda(S.ExportSvg, exporter(f.exportSvg, t.exportSvg))
    .lambda(S.ExportPdf, exporter(f.exportPdf, t.exportPdf))
    .lambda(S.SplitExport, {
      functionArn: f.exportSplit,
      timeoutSeconds: t.exportSplit,
      parameters: {
        formatVersion: EXPORT_STATE_FORMAT_VERSION,
        "jobId.$": "$.jobId",
        "documentKey.$": "$.documentKey",
        "format.$": "$.format",
        "pages.$": "$.estimate.pages",
        "pagesPerChunk.$": "$.estimate.pagesPerChunk",
      },
      resultPath: "$.split",
      retry,
      catch: [recordFailure],
      next: S.ExportPages,
    })
    .map(S.ExportPages, {
      itemsPath: "$.split.chunks",
      maxConcurrency: props.mapMaxConcurrency,
      processor: chunk,
      // The parts replace the chunk list: the state carries one of the two lists, never both, under the 256 KiB
      // every state is limited to (the estimate sizes the split to fit; estimate.ts MAP_PAYLOAD_BYTES).
      resultPath: "$.split",
      catch: [recordFailure],
      next: S.CombineExport,
    })
    .lambda(S.CombineExport, {
      functionArn: f.exportCombine,
      timeoutSeconds: t.exportCombine,
      parameters: { formatVersion: EXPORT_STATE_FORMAT_VERSION, "jobId.$": "$.jobId", "format.$": "$.format", "parts.$": "$.split" },
      resultPath: "$.result",
      retry,
      catch: [recordFailure],
      next: S.RecordJobSucceeded,
    })
    .ecsRunTaskWithToken(S.ExportOnFargate, {
      comment: "Work that cannot be split, or a Lambda attempt that timed out: the same renderer in our container.",
      clusterArn: props.worker.clusterArn,
      taskDefinitionArn: props.worker.taskDefinitionArn,
      passRoleArns: [props.worker.taskRoleArn, props.worker.executionRoleArn],
      containerName: props.worker.containerName,
      subnetIds: props.worker.subnetIds,
      securityGroupIds: props.worker.securityGroupIds,
      assignPublicIp: props.worker.assignPublicIp,
      environment: { TASK_TOKEN: { path: "$$.Task.Token" }, EXPORT_JOB: { path: "States.JsonToString($.job)" } },
      heartbeatSeconds: props.worker.heartbeatSeconds,
      timeoutSeconds: props.worker.timeoutSeconds,
      resultPath: "$.result",
      // A lost container (no heartbeat) or a reported failure is final for this job; retrying a multi-hour task
      // blindly would double the bill — the job is recorded FAILED and can be resubmitted.
      catch: [recordFailure],
      next: S.RecordJobSucceeded,
    })
    .lambda(S.RecordJobSucceeded, {
      functionArn: f.exportJobStatus,
      timeoutSeconds: t.exportJobStatus,
      parameters: {
        formatVersion: EXPORT_STATE_FORMAT_VERSION,
        "jobId.$": "$.jobId",
        status: "SUCCEEDED",
        "runtime.$": "$.result.runtime",
        "outputKey.$": "$.result.outputKey",
        "pages.$": "$.result.pages",
        "bytes.$": "$.result.bytes",
      },
      resultPath: null,
      retry,
      catch: [recordFailure],
      next: S.ExportSucceeded,
    })
    .lambda(S.RecordJobFailed, {
      functionArn: f.exportJobStatus,
      timeoutSeconds: t.exportJobStatus,
      parameters: { formatVersion: EXPORT_STATE_FORMAT_VERSION, "jobId.$": "$.jobId", status: "FAILED", "error.$": "$.error" },
      resultPath: null,
      retry,
      next: S.ExportFailed,
    })
    .succeed(S.ExportSucceeded, { outputPath: "$.result" })
    .fail(S.ExportFailed, { errorPath: "$.error.Error", causePath: "$.error.Cause" })
    .render(S.PrepareJob);
}
