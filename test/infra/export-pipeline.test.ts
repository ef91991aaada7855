import { expect } from "chai";
import { ExportPipeline, exportPipelineArgs } from "../../infra/export-pipeline";
import { evaluate } from "../../local/iam/evaluate";
import { ofType, promiseOf, registered, settled, setupMocks } from "../mocks";
import { stackSettings } from "../stacks";

const ACCOUNT = "000000000000";
const REGION = "eu-central-1";

async function build(stack: string): Promise<ExportPipeline> {
  await setupMocks();
  const pipeline = new ExportPipeline(`exports-${stack}`, exportPipelineArgs(stackSettings(stack), { namePrefix: `shop-${stack}`, alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:alarms` }));
  await promiseOf(pipeline.stateMachine.arn);
  await settled();
  return pipeline;
}

const policyNamed = (name: string): any => {
  const p = registered.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs.name === name);
  if (!p) throw new Error(`no policy ${name}`);
  return JSON.parse(p.inputs.policy);
};

describe("ExportPipeline (Pulumi mocks)", function () {
  this.timeout(120_000);
  const definitions: Record<string, any> = {};
  before(async () => {
    for (const stack of ["dev", "prod"]) definitions[stack] = JSON.parse(await promiseOf((await build(stack)).stateMachine.definition));
  });

  const bucketArn = (stack: string) => ofType("aws:s3/bucket:Bucket", `exports-${stack}-documents`)[0].state.arn as string;
  const fn = (stack: string, name: string) => ofType("aws:lambda/function:Function", `exports-${stack}-${name}-function`)[0].inputs;

  it("protects prod's jobs table against deletion, and leaves dev's deletable (its `forceDestroy`)", () => {
    const protection = (stack: string) => ofType("aws:dynamodb/table:Table", `exports-${stack}-jobs`).map((t) => t.inputs.deletionProtectionEnabled);
    expect([protection("prod"), protection("dev")]).to.deep.equal([[true], [false]]);
  });

  it("sizes the SVG and PDF exporters separately, from each stack's config", () => {
    expect([fn("dev", "export-svg").memorySize, fn("dev", "export-pdf").memorySize]).to.deep.equal([208, 352]);
    expect([fn("prod", "export-svg").memorySize, fn("prod", "export-pdf").memorySize]).to.deep.equal([224, 384]);
    expect(fn("prod", "export-pdf").reservedConcurrentExecutions).to.equal(50);
  });

  it("gives the estimate the limits it routes with, from each stack's config, and the workflow the same Map concurrency", () => {
    // Map: 14,400 s execution − (job status 20 × 2 + estimate 40 + split 40 + combine 610 + 120 margin) = 13,550 s,
    // each Lambda Task at its function's timeout + Lambda's 10 s init limit; in waves as long as the format's
    // exporter Task timeout (780 + 10 s).
    // Fargate: the worker's deadline, timeout − 120 s start-up. Speed-up: a vCPU of Fargate vs 208/352 MB (dev),
    // 224/384 MB (prod) of Lambda, one vCPU being 1,769 MB.
    const expected = {
      dev: { MAP_MAX_CONCURRENCY: "5", MAP_SECONDS_AVAILABLE: "13550", MAP_CHUNK_SECONDS_SVG: "790", MAP_CHUNK_SECONDS_PDF: "790", FARGATE_SECONDS_AVAILABLE: "10680", FARGATE_SPEEDUP_SVG: "8.505", FARGATE_SPEEDUP_PDF: "5.026" },
      prod: { MAP_MAX_CONCURRENCY: "20", MAP_SECONDS_AVAILABLE: "13550", MAP_CHUNK_SECONDS_SVG: "790", MAP_CHUNK_SECONDS_PDF: "790", FARGATE_SECONDS_AVAILABLE: "12880", FARGATE_SPEEDUP_SVG: "7.897", FARGATE_SPEEDUP_PDF: "4.607" },
    };
    for (const stack of ["dev", "prod"] as const) {
      const estimate = ofType("aws:lambda/function:Function", `exports-${stack}-export-estimate`)[0].inputs.environment.variables;
      expect(estimate, stack).to.deep.include({ ...expected[stack], LAMBDA_BUDGET_SECONDS: "720", SECONDS_PER_PAGE_PDF: "30" });
      const d = definitions[stack];
      expect(d.States.ExportPages.MaxConcurrency, stack).to.equal(Number(expected[stack].MAP_MAX_CONCURRENCY));
      expect(d.States.ChooseRuntime.Default, stack).to.equal("RefuseExport");
      expect(d.States.ExportSvg.Catch[0].Next).to.equal("ExportOnFargate");
      // The exporters' Tasks wait their 780 s plus Lambda's 10 s init limit, as long as MAP_CHUNK_SECONDS says.
      expect([d.States.ExportSvg.TimeoutSeconds, d.States.ExportPdf.TimeoutSeconds, d.States.ExportPages.ItemProcessor.States.ExportPdfPages.TimeoutSeconds], stack).to.deep.equal([790, 790, 790]);
    }
  });

  it("starts the Fargate task in its own VPC: public subnets with a public IP and no NAT in dev, private subnets behind one NAT in prod", () => {
    const net = (stack: string) => definitions[stack].States.ExportOnFargate.Parameters.NetworkConfiguration.AwsvpcConfiguration;
    const vpc = (stack: string) => registered.filter((r) => r.type === "awsx:ec2:Vpc" && r.name.startsWith(`exports-${stack}`));
    const [devVpc] = vpc("dev");
    const [prodVpc] = vpc("prod");
    expect([vpc("dev").length, vpc("prod").length]).to.deep.equal([1, 1]);
    expect(devVpc.inputs).to.deep.include({ subnetSpecs: [{ type: "Public" }], natGateways: { strategy: "None" }, numberOfAvailabilityZones: 2 });
    expect(devVpc.state.publicSubnetIds).to.have.length(2);
    expect(net("dev")).to.deep.include({ AssignPublicIp: "ENABLED", Subnets: devVpc.state.publicSubnetIds });
    expect(prodVpc.inputs.natGateways).to.deep.equal({ strategy: "Single" });
    expect(net("prod")).to.deep.include({ AssignPublicIp: "DISABLED", Subnets: prodVpc.state.privateSubnetIds });
    const sg = (stack: string) => ofType("aws:ec2/securityGroup:SecurityGroup", `exports-${stack}-`)[0].inputs.vpcId;
    expect([sg("dev"), sg("prod")]).to.deep.equal([devVpc.state.vpcId, prodVpc.state.vpcId]);
  });

  it("never depends on the account's default VPC, which many organisations delete", () => {
    expect(registered.filter((r) => r.type === "awsx:ec2:DefaultVpc").map((r) => r.name)).to.deep.equal([]);
  });

  it("defines the worker task: Fargate, config CPU/memory, read-only root, non-root user, awslogs, only /tmp writable", () => {
    const td = ofType("aws:ecs/taskDefinition:TaskDefinition", "exports-prod-")[0].inputs;
    expect([td.cpu, td.memory, td.networkMode, td.requiresCompatibilities]).to.deep.equal(["2048", "4096", "awsvpc", ["FARGATE"]]);
    expect(td.taskRoleArn).to.not.equal(td.executionRoleArn);
    const [container] = JSON.parse(td.containerDefinitions);
    expect(container).to.deep.include({ name: "export-worker", user: "1000:1000", readonlyRootFilesystem: true, essential: true });
    expect(container.mountPoints).to.deep.equal([{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }]);
    expect(container.logConfiguration).to.deep.equal({
      logDriver: "awslogs",
      options: { "awslogs-group": "/ecs/shop-prod-export-worker", "awslogs-region": REGION, "awslogs-stream-prefix": "export" },
    });
    expect(container.image).to.match(/^000000000000\.dkr\.ecr\.eu-central-1\.amazonaws\.com\/.+@sha256:[0-9a-f]{64}$/);
    expect(Object.fromEntries(container.environment.map((e: any) => [e.name, e.value]))).to.deep.include({
      EXPORTS_PREFIX: "exports/",
      // prod: HeartbeatSeconds 240 → a heartbeat every 80 s; stall watchdog 240 − 80 − 10; deadline 13,000 − 120 start-up.
      HEARTBEAT_SECONDS: "80",
      STALL_SECONDS: "150",
      DEADLINE_SECONDS: "12880",
    });
    expect(td.skipDestroy).to.equal(true);
    const logs = ofType("aws:cloudwatch/logGroup:LogGroup", "exports-prod-worker-logs")[0].inputs;
    expect(logs).to.deep.include({ name: "/ecs/shop-prod-export-worker", retentionInDays: 365 });
  });

  it("builds the image from our Dockerfile into a repository that scans on push and expires old images", () => {
    const image = registered.find((r) => r.type === "awsx:ecr:Image" && r.name.startsWith("exports-dev"))!.inputs;
    // Relative: awsx names the image after these strings, so an absolute path would rename it per checkout.
    expect([image.context, image.dockerfile]).to.deep.equal([".", "containers/export-worker/Dockerfile"]);
    expect(image.platform).to.equal("linux/amd64");
    expect(ofType("aws:ecr/repository:Repository", "exports-dev-")[0].inputs.imageScanningConfiguration).to.deep.equal({ scanOnPush: true });
    expect(ofType("aws:ecr/lifecyclePolicy:LifecyclePolicy", "exports-dev-")).to.have.length(1);
    expect(ofType("aws:ecs/cluster:Cluster", "exports-dev-")[0].inputs.settings).to.deep.equal([{ name: "containerInsights", value: "enabled" }]);
  });

  it("lets the worker's task role read documents, write exports and report on its task token — nothing else", () => {
    expect(policyNamed("shop-dev-export-task-policy").Statement).to.deep.equal([
      { Sid: "ReadDocuments", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`${bucketArn("dev")}/documents/*`] },
      { Sid: "WriteExports", Effect: "Allow", Action: ["s3:AbortMultipartUpload", "s3:PutObject"], Resource: [`${bucketArn("dev")}/exports/*`] },
      { Sid: "ReportToWorkflow", Effect: "Allow", Action: ["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"], Resource: ["*"] },
    ]);
  });

  it("lets the execution role pull only our image and write only the task's logs", () => {
    const repo = ofType("aws:ecr/repository:Repository", "exports-dev-")[0].state.arn;
    expect(policyNamed("shop-dev-export-exec-policy").Statement).to.deep.equal([
      { Sid: "AuthenticateToRegistry", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
      { Sid: "PullImage", Effect: "Allow", Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], Resource: [repo] },
      { Sid: "WriteTaskLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/shop-dev-export-worker:*`] },
    ]);
  });

  it("lets the state machine run only its task definition's revisions in its cluster and pass only the task's two roles", () => {
    const td = ofType("aws:ecs/taskDefinition:TaskDefinition", "exports-dev-")[0];
    const cluster = ofType("aws:ecs/cluster:Cluster", "exports-dev-")[0].state.arn;
    const statements = policyNamed("shop-dev-exports-policy").Statement;
    expect(statements.find((s: any) => s.Sid === "RunExportTask")).to.deep.equal({
      Sid: "RunExportTask",
      Effect: "Allow",
      Action: ["ecs:RunTask"],
      Resource: [`${td.state.arnWithoutRevision}:*`],
      Condition: { ArnEquals: { "ecs:cluster": cluster } },
    });
    expect(definitions.dev.States.ExportOnFargate.Parameters.TaskDefinition).to.equal(td.state.arn);
    expect(statements.find((s: any) => s.Sid === "PassExportTaskRoles").Resource).to.deep.equal([td.inputs.executionRoleArn, td.inputs.taskRoleArn].sort());
    const aliases = ofType("aws:lambda/alias:Alias", "exports-dev-").map((a) => a.state.arn).sort();
    expect(statements.find((s: any) => s.Sid === "InvokeFunctions").Resource).to.deep.equal(aliases);
    expect(aliases).to.have.length(6);
  });

  it("lets an execution started before a deploy run the revision it names, and nothing outside the family or the cluster", () => {
    // GIVEN the role's policy as deployed, evaluated as IAM evaluates it (the local cloud's evaluator)
    const policy = policyNamed("shop-dev-exports-policy");
    const family = ofType("aws:ecs/taskDefinition:TaskDefinition", "exports-dev-")[0].state.arnWithoutRevision as string;
    const cluster = ofType("aws:ecs/cluster:Cluster", "exports-dev-")[0].state.arn as string;
    const runTask = (resource: string, inCluster = cluster) => evaluate([policy], { action: "ecs:RunTask", resource, context: { "ecs:cluster": inCluster } }).allowed;
    // THEN the current revision and an older one (an execution started before the deploy) may run
    expect([runTask(`${family}:1`), runTask(`${family}:7`)]).to.deep.equal([true, true]);
    // AND a family whose name merely starts with ours, or ours in another cluster, may not
    expect([runTask(`${family}-debug:1`), runTask(`${family}:1`, cluster.replace(/cluster\/.+$/, "cluster/other"))]).to.deep.equal([false, false]);
  });

  it("gives each export function exactly its policy, compared whole: its logs and traces, then its key prefixes and table", () => {
    const b = bucketArn("dev");
    const jobs = ofType("aws:dynamodb/table:Table", "exports-dev-jobs")[0].state.arn;
    const readDocuments = { Sid: "ReadDocuments", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`${b}/documents/*`] };
    const writeExportsAndParts = { Sid: "WriteExports", Effect: "Allow", Action: ["s3:AbortMultipartUpload", "s3:PutObject"], Resource: [`${b}/exports/*`, `${b}/parts/*`] };
    const expected: Record<string, object[]> = {
      estimate: [readDocuments],
      svg: [readDocuments, writeExportsAndParts],
      pdf: [readDocuments, writeExportsAndParts],
      split: [],
      combine: [
        { Sid: "ConsumeParts", Effect: "Allow", Action: ["s3:DeleteObject", "s3:GetObject"], Resource: [`${b}/parts/*`] },
        { Sid: "WriteExports", Effect: "Allow", Action: ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"], Resource: [`${b}/exports/*`] },
      ],
      "job-status": [{ Sid: "WriteJobs", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [jobs] }],
    };
    const functions = ofType("aws:lambda/function:Function", "exports-dev-").map((f) => f.inputs.name.replace(/^shop-dev-export-/, ""));
    expect(functions.sort(), "every export function has an expected policy").to.deep.equal(Object.keys(expected).sort());
    for (const [name, statements] of Object.entries(expected)) {
      const logs = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/shop-dev-export-${name}:*`;
      expect(policyNamed(`shop-dev-export-${name}-policy`), name).to.deep.equal({
        Version: "2012-10-17",
        Statement: [
          { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [logs] },
          { Sid: "WriteTraces", Effect: "Allow", Action: ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], Resource: ["*"] },
          ...statements,
        ],
      });
    }
  });

  it("lets destroy empty the documents bucket and the image repository in dev only, as each stack's config says", () => {
    const destroyable = (stack: string) => [
      ofType("aws:s3/bucket:Bucket", `exports-${stack}-documents`)[0].inputs.forceDestroy,
      ofType("aws:ecr/repository:Repository", `exports-${stack}-`)[0].inputs.forceDelete,
    ];
    expect([destroyable("dev"), destroyable("prod")]).to.deep.equal([
      [true, true],
      [false, false],
    ]);
  });

  it("protects the documents bucket: encrypted, versioned, no public access, TLS only, exports expire", () => {
    const bucket = ofType("aws:s3/bucket:Bucket", "exports-dev-documents")[0].state.bucket;
    const on = (type: string) => registered.find((r) => r.type === type && r.inputs.bucket === bucket)!.inputs;
    expect(on("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").rules).to.deep.equal([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }]);
    expect(on("aws:s3/bucketVersioning:BucketVersioning").versioningConfiguration).to.deep.equal({ status: "Enabled" });
    expect(on("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")).to.deep.include({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(JSON.parse(on("aws:s3/bucketPolicy:BucketPolicy").policy).Statement[0]).to.deep.include({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    // Every rule names its scope with a prefix; "" is the whole bucket.
    expect(on("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").rules).to.deep.equal([
      { id: "expire-exports", status: "Enabled", filter: { prefix: "exports/" }, expiration: { days: 7 }, noncurrentVersionExpiration: { noncurrentDays: 1 } },
      { id: "expire-parts", status: "Enabled", filter: { prefix: "parts/" }, expiration: { days: 1 }, noncurrentVersionExpiration: { noncurrentDays: 1 } },
      { id: "expire-old-document-versions", status: "Enabled", filter: { prefix: "documents/" }, noncurrentVersionExpiration: { noncurrentDays: 30 } },
      { id: "drop-expired-delete-markers", status: "Enabled", filter: { prefix: "" }, expiration: { expiredObjectDeleteMarker: true } },
      { id: "abort-incomplete-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
    ]);
  });
});
