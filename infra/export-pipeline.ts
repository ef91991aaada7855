import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EXPORTER_BUNDLE_PLUGINS } from "../handlers/export/bundle-assets";
import { fargateHeartbeatIntervalSeconds, FunctionSizing, Settings } from "./config";
import { exportRoutingEnvironment } from "./export-routing";
import { ExportFunctionArns, exportWorkflow } from "./export-workflow";
import { EXPORT_WORKER_CONTAINER, ExportWorkerTask } from "./export-worker-task";
import { createFunctionSet, FunctionSpec, invokeArns, taskTimeoutsOf } from "./function-set";
import { LambdaFunction } from "./lambda-function";
import { PolicyStatement } from "./policy";
import { denyInsecureTransport, resourcePolicy } from "./resource-policies";
import { StateMachine } from "./state-machine";

type ExportFunctionKey = keyof ExportFunctionArns;

/** Key prefixes in the documents bucket; IAM grants are scoped to them. */
export const DOCUMENTS_PREFIX = "documents/";
export const EXPORTS_PREFIX = "exports/";
export const PARTS_PREFIX = "parts/";


/** Plain values, like OrderPipelineArgs: they come from stack config and are validated before anything is created. */
export interface ExportPipelineArgs {
  /** Prefix of physical names, e.g. `order-pipeline-dev`. */
  readonly namePrefix: string;
  /** Memory, timeout and concurrency per function, from stack config. */
  readonly sizing: Record<ExportFunctionKey, FunctionSizing>;
  /** Estimated seconds per page, per format (the seed measured 30 s/page for PDF). */
  readonly secondsPerPage: { readonly svg: number; readonly pdf: number };
  /** Estimates up to this run in one Lambda invocation (below Lambda's 900 s). */
  readonly lambdaBudgetSeconds: number;
  /** Page-range exports running at once in the Map state. */
  readonly mapMaxConcurrency: number;
  /** Days exported files are kept. */
  readonly exportRetentionDays: number;
  /** Upper bound for one export execution; must cover the longest path (checked in config). */
  readonly workflowTimeoutSeconds: number;
  /** The Fargate worker: size, network, heartbeat window and the state's timeout. */
  readonly fargate: {
    readonly cpu: number;
    readonly memoryMb: number;
    readonly network: "private" | "public";
    readonly heartbeatSeconds: number;
    readonly timeoutSeconds: number;
    /** Time the state's windows spend before the worker starts: task provisioning and the image pull. */
    readonly startupAllowanceSeconds: number;
  };
  /** Days every log group of the pipeline keeps its logs. */
  readonly logRetentionDays: number;
  /**
   * Let `pulumi destroy` delete the documents bucket with every object version, the worker's images and the jobs
   * table (which otherwise carries DynamoDB's deletion protection). @default false
   */
  readonly forceDestroy?: boolean;
  /** Level of the handlers' structured logger. */
  readonly logLevel: string;
  /** Topic the alarms notify. */
  readonly alarmTopicArn: pulumi.Input<string>;
}

/** The pipeline's arguments as a stack's settings give them, plus what other components provide. */
export function exportPipelineArgs(settings: Settings, wiring: { readonly namePrefix: string; readonly alarmTopicArn: pulumi.Input<string> }): ExportPipelineArgs {
  return {
    namePrefix: wiring.namePrefix,
    sizing: settings.functions,
    secondsPerPage: { svg: settings.exportSecondsPerPageSvg, pdf: settings.exportSecondsPerPagePdf },
    lambdaBudgetSeconds: settings.exportLambdaBudgetSeconds,
    mapMaxConcurrency: settings.exportMapMaxConcurrency,
    exportRetentionDays: settings.exportRetentionDays,
    workflowTimeoutSeconds: settings.exportWorkflowTimeoutSeconds,
    fargate: {
      cpu: settings.fargateCpu,
      memoryMb: settings.fargateMemoryMb,
      network: settings.fargateNetwork,
      heartbeatSeconds: settings.fargateHeartbeatSeconds,
      timeoutSeconds: settings.fargateTimeoutSeconds,
      startupAllowanceSeconds: settings.fargateStartupAllowanceSeconds,
    },
    logRetentionDays: settings.logRetentionDays,
    forceDestroy: settings.forceDestroy,
    logLevel: settings.logLevel,
    alarmTopicArn: wiring.alarmTopicArn,
  };
}

/**
 * Document exports: the documents bucket, the jobs table, the exporters sized by their memory needs (a small SVG
 * exporter, a large PDF exporter), split/combine for parallel work, the Fargate worker for work that cannot be split,
 * and the state machine that routes each job by its estimate.
 *
 * @example
 * const exports = new ExportPipeline("exports", { namePrefix: "order-pipeline-dev", sizing, secondsPerPage: { svg: 0.5, pdf: 30 }, ... });
 */
export class ExportPipeline extends pulumi.ComponentResource {
  public readonly bucket: aws.s3.Bucket;
  public readonly jobsTable: aws.dynamodb.Table;
  public readonly functions: Record<ExportFunctionKey, LambdaFunction>;
  public readonly worker: ExportWorkerTask;
  public readonly stateMachine: StateMachine;

  constructor(name: string, args: ExportPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("order-pipeline:exports:ExportPipeline", name, {}, opts);
    validate(args);
    this.bucket = this.createBucket(name, args);
    this.jobsTable = new aws.dynamodb.Table(
      `${name}-jobs`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "jobId",
        attributes: [{ name: "jobId", type: "S" }],
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: !(args.forceDestroy ?? false),
      },
      { parent: this },
    );
    this.functions = this.createFunctions(name, args);
    this.worker = this.createWorker(name, args);
    this.stateMachine = this.createStateMachine(name, args);
    this.registerOutputs({ bucket: this.bucket.bucket, jobsTable: this.jobsTable.name, stateMachineArn: this.stateMachine.arn });
  }

  private createBucket(name: string, args: ExportPipelineArgs): aws.s3.Bucket {
    // A versioned bucket cannot be deleted while it holds any object version: forceDestroy empties it first.
    const bucket = new aws.s3.Bucket(`${name}-documents`, { forceDestroy: args.forceDestroy ?? false }, { parent: this });
    new aws.s3.BucketOwnershipControls(`${name}-documents-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent: this });
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-documents-public-access`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      { parent: this },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-documents-encryption`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
      { parent: this },
    );
    new aws.s3.BucketVersioning(`${name}-documents-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, { parent: this });
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-documents-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          // Versioning keeps deleted objects as noncurrent versions: expire those too, per prefix, or an "expired"
          // export would live on for the noncurrent period.
          {
            id: "expire-exports",
            status: "Enabled",
            filter: { prefix: EXPORTS_PREFIX },
            expiration: { days: args.exportRetentionDays },
            noncurrentVersionExpiration: { noncurrentDays: 1 },
          },
          { id: "expire-parts", status: "Enabled", filter: { prefix: PARTS_PREFIX }, expiration: { days: 1 }, noncurrentVersionExpiration: { noncurrentDays: 1 } },
          { id: "expire-old-document-versions", status: "Enabled", filter: { prefix: DOCUMENTS_PREFIX }, noncurrentVersionExpiration: { noncurrentDays: 30 } },
          // `prefix: ""` is the whole bucket, said explicitly: an empty `filter: {}` has been warned about or refused
          // by the upstream Terraform provider (hashicorp/terraform-provider-aws#42112, #42624), and S3 drops an empty
          // filter when the rule is saved elsewhere (terraform-aws-modules/terraform-aws-s3-bucket#262), a diff on
          // the next preview.
          { id: "drop-expired-delete-markers", status: "Enabled", filter: { prefix: "" }, expiration: { expiredObjectDeleteMarker: true } },
          { id: "abort-incomplete-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
        ],
      },
      { parent: this },
    );
    new aws.s3.BucketPolicy(
      `${name}-documents-tls-only`,
      {
        bucket: bucket.id,
        policy: resourcePolicy([denyInsecureTransport("s3:*", [bucket.arn, pulumi.interpolate`${bucket.arn}/*`])]),
      },
      // S3 rejects a policy change while the public access block is being applied.
      { parent: this, dependsOn: [publicAccess] },
    );
    return bucket;
  }

  private objects(prefix: string): pulumi.Output<string> {
    return pulumi.interpolate`${this.bucket.arn}/${prefix}*`;
  }

  private createFunctions(name: string, args: ExportPipelineArgs): Record<ExportFunctionKey, LambdaFunction> {
    const readDocuments: PolicyStatement = { sid: "ReadDocuments", actions: ["s3:GetObject"], resources: [this.objects(DOCUMENTS_PREFIX)] };
    // Exports over 5 MiB upload in parts; a failed upload is aborted rather than left to the lifecycle rule.
    const writeExports: PolicyStatement = { sid: "WriteExports", actions: ["s3:AbortMultipartUpload", "s3:PutObject"], resources: [this.objects(EXPORTS_PREFIX), this.objects(PARTS_PREFIX)] };
    const bucketEnv = {
      DOCUMENTS_BUCKET: this.bucket.bucket,
      EXPORTS_PREFIX,
      PARTS_PREFIX,
    };
    const specs: Record<ExportFunctionKey, FunctionSpec> = {
      exportJobStatus: {
        entry: "handlers/export-job-status.ts",
        description: "The one writer of export job records",
        grants: [{ sid: "WriteJobs", actions: ["dynamodb:UpdateItem"], resources: [this.jobsTable.arn] }],
        environment: { JOBS_TABLE: this.jobsTable.name },
      },
      exportEstimate: {
        entry: "handlers/export-estimate.ts",
        description: "Reads a document and estimates its export duration",
        grants: [readDocuments],
        environment: {
          ...bucketEnv,
          SECONDS_PER_PAGE_SVG: String(args.secondsPerPage.svg),
          SECONDS_PER_PAGE_PDF: String(args.secondsPerPage.pdf),
          LAMBDA_BUDGET_SECONDS: String(args.lambdaBudgetSeconds),
          ...exportRoutingEnvironment({ sizing: args.sizing, mapMaxConcurrency: args.mapMaxConcurrency, workflowTimeoutSeconds: args.workflowTimeoutSeconds, fargate: args.fargate }),
        },
      },
      exportSvg: {
        entry: "handlers/export-svg.ts",
        description: "Renders a document or page range to SVG (streams page by page)",
        grants: [readDocuments, writeExports],
        environment: bucketEnv,
      },
      exportPdf: {
        entry: "handlers/export-pdf.ts",
        description: "Renders a document or page range to PDF",
        grants: [readDocuments, writeExports],
        environment: bucketEnv,
        bundlePlugins: EXPORTER_BUNDLE_PLUGINS,
      },
      exportSplit: {
        entry: "handlers/export-split.ts",
        description: "Splits a long export into page ranges",
        grants: [],
        environment: { PARTS_PREFIX },
      },
      exportCombine: {
        entry: "handlers/export-combine.ts",
        description: "Combines the parts of a parallel export into one file",
        grants: [
          { sid: "ConsumeParts", actions: ["s3:DeleteObject", "s3:GetObject"], resources: [this.objects(PARTS_PREFIX)] },
          // GetObject on the result lets a retried combine see that it already finished (the parts are gone by then).
          { sid: "WriteExports", actions: ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"], resources: [this.objects(EXPORTS_PREFIX)] },
        ],
        environment: bucketEnv,
        bundlePlugins: EXPORTER_BUNDLE_PLUGINS,
      },
    };
    return createFunctionSet(this, name, specs, args.sizing, args);
  }

  private createWorker(name: string, args: ExportPipelineArgs): ExportWorkerTask {
    const heartbeatInterval = fargateHeartbeatIntervalSeconds(args.fargate.heartbeatSeconds);
    return new ExportWorkerTask(
      `${name}-worker`,
      {
        namePrefix: args.namePrefix,
        cpu: args.fargate.cpu,
        memoryMb: args.fargate.memoryMb,
        network: args.fargate.network,
        // Three heartbeats per HeartbeatSeconds window: one lost call does not fail the job.
        heartbeatIntervalSeconds: heartbeatInterval,
        environment: {
          DOCUMENTS_BUCKET: this.bucket.bucket,
          EXPORTS_PREFIX,
          // With a task token Step Functions never stops the task itself, so the worker ends itself: when it has made
          // no progress for a while — early enough to report WorkerStalled before the state's heartbeat timeout
          // (the last heartbeat may be an interval old) — or before the state's timeout, which also counts
          // Fargate's start-up (provisioning, image pull).
          STALL_SECONDS: String(Math.max(10, args.fargate.heartbeatSeconds - heartbeatInterval - 10)),
          DEADLINE_SECONDS: String(Math.max(60, args.fargate.timeoutSeconds - args.fargate.startupAllowanceSeconds)),
        },
        grants: [
          { sid: "ReadDocuments", actions: ["s3:GetObject"], resources: [this.objects(DOCUMENTS_PREFIX)] },
          { sid: "WriteExports", actions: ["s3:AbortMultipartUpload", "s3:PutObject"], resources: [this.objects(EXPORTS_PREFIX)] },
        ],
        logRetentionDays: args.logRetentionDays,
        forceDestroy: args.forceDestroy,
      },
      { parent: this },
    );
  }

  private createStateMachine(name: string, args: ExportPipelineArgs): StateMachine {
    const arns = invokeArns(this.functions);
    const timeouts = taskTimeoutsOf(Object.keys(this.functions) as ExportFunctionKey[], args.sizing);
    const w = this.worker;
    const workflow = pulumi
      .all([arns, w.cluster.arn, w.taskDefinition.arn, w.taskRole.arn, w.executionRole.arn, w.subnetIds, w.securityGroup.id])
      .apply(([functions, clusterArn, taskDefinitionArn, taskRoleArn, executionRoleArn, subnetIds, securityGroupId]) =>
        exportWorkflow({
          functions,
          timeouts,
          worker: {
            clusterArn,
            taskDefinitionArn,
            taskRoleArn,
            executionRoleArn,
            containerName: EXPORT_WORKER_CONTAINER,
            subnetIds,
            securityGroupIds: [securityGroupId],
            assignPublicIp: w.assignPublicIp,
            heartbeatSeconds: args.fargate.heartbeatSeconds,
            timeoutSeconds: args.fargate.timeoutSeconds,
          },
          lambdaBudgetSeconds: args.lambdaBudgetSeconds,
          mapMaxConcurrency: args.mapMaxConcurrency,
          timeoutSeconds: args.workflowTimeoutSeconds,
        }),
      );
    return new StateMachine(
      `${name}-workflow`,
      { stateMachineName: `${args.namePrefix}-exports`, workflow, logRetentionDays: args.logRetentionDays, alarmTopicArn: args.alarmTopicArn },
      { parent: this },
    );
  }
}

function validate(args: ExportPipelineArgs): void {
  for (const key of ["exportSvg", "exportPdf"] as const) {
    if (args.sizing[key].timeoutSeconds < args.lambdaBudgetSeconds) {
      throw new Error(`\`sizing.${key}.timeoutSeconds\` (${args.sizing[key].timeoutSeconds}) must be at least \`lambdaBudgetSeconds\` (${args.lambdaBudgetSeconds})`);
    }
  }
  if (args.fargate.heartbeatSeconds >= args.fargate.timeoutSeconds) throw new Error("`fargate.heartbeatSeconds` must be below `fargate.timeoutSeconds`");
  if (args.secondsPerPage.svg <= 0 || args.secondsPerPage.pdf <= 0) throw new Error("`secondsPerPage` values must be positive");
}
