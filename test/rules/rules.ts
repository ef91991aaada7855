/**
 * The checks cdk-nag (AwsSolutions), Checkov and Trivy apply to the resource types this program uses, written over the
 * resource graph the program registers under mocks. Each rule returns findings; a finding is either fixed in infra
 * or justified in JUSTIFICATIONS with the reason (listed in the README).
 */
import type { GraphResource, ProgramGraph } from "../../scripts/program-graph";

export interface Finding {
  readonly rule: string;
  /** Logical name of the resource, plus a detail where one resource has several findings. */
  readonly resource: string;
  readonly message: string;
}

export interface Rule {
  readonly id: string;
  readonly description: string;
  check(graph: ProgramGraph): Finding[];
}

const of = (graph: ProgramGraph, type: string): GraphResource[] => graph.resources.filter((r) => r.type === type);
const json = (value: unknown): any => (typeof value === "string" ? JSON.parse(value) : value);

function policyStatements(graph: ProgramGraph): { resource: string; statement: any }[] {
  return of(graph, "aws:iam/rolePolicy:RolePolicy").flatMap((p) => json(p.inputs.policy).Statement.map((statement: any) => ({ resource: p.name, statement })));
}

function containers(graph: ProgramGraph): { resource: string; container: any }[] {
  return of(graph, "aws:ecs/taskDefinition:TaskDefinition").flatMap((td) => json(td.inputs.containerDefinitions).map((container: any) => ({ resource: td.name, container })));
}

/** Does a resource policy attached to `arn` deny requests without TLS? */
function deniesInsecureTransport(graph: ProgramGraph, policyType: string, matches: (policy: GraphResource) => boolean): boolean {
  return of(graph, policyType)
    .filter(matches)
    .some((p) => json(p.inputs.policy).Statement.some((s: any) => s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"] === "false"));
}

const finding = (rule: string, resource: string, message: string): Finding => ({ rule, resource, message });

/** cdk-nag and Checkov both ask for X-Ray on state machines, under their own ids. */
const untracedStateMachines = (g: ProgramGraph, rule: string): Finding[] =>
  of(g, "aws:sfn/stateMachine:StateMachine").filter((s) => s.inputs.tracingConfiguration?.enabled !== true).map((s) => finding(rule, s.name, "tracing disabled"));

export const RULES: Rule[] = [
  {
    id: "AwsSolutions-IAM4",
    description: "No AWS managed policies on roles",
    check: (g) => [
      ...of(g, "aws:iam/role:Role").filter((r) => (r.inputs.managedPolicyArns ?? []).length > 0).map((r) => finding("AwsSolutions-IAM4", r.name, "role has managed policies")),
      ...of(g, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        .filter((a) => String(a.inputs.policyArn).includes(":aws:policy/"))
        .map((a) => finding("AwsSolutions-IAM4", a.name, `attaches ${a.inputs.policyArn}`)),
    ],
  },
  {
    id: "AwsSolutions-IAM5",
    description: "No wildcard actions or resources in identity policies",
    check: (g) =>
      policyStatements(g).flatMap(({ resource, statement }) => [
        ...statement.Action.filter((a: string) => a.includes("*")).map((a: string) => finding("AwsSolutions-IAM5", `${resource}#${statement.Sid}`, `wildcard action ${a}`)),
        ...statement.Resource.filter((r: string) => r.includes("*")).map((r: string) => finding("AwsSolutions-IAM5", `${resource}#${statement.Sid}`, `wildcard resource ${r}`)),
      ]),
  },
  {
    id: "AwsSolutions-L1",
    description: "Lambda functions use the latest Node.js runtime",
    check: (g) => of(g, "aws:lambda/function:Function").filter((f) => f.inputs.runtime !== "nodejs24.x").map((f) => finding("AwsSolutions-L1", f.name, `runtime ${f.inputs.runtime}`)),
  },
  {
    id: "AwsSolutions-SF1",
    description: "State machines log ALL events to CloudWatch Logs",
    check: (g) => of(g, "aws:sfn/stateMachine:StateMachine").filter((s) => s.inputs.loggingConfiguration?.level !== "ALL").map((s) => finding("AwsSolutions-SF1", s.name, "logging level is not ALL")),
  },
  {
    id: "AwsSolutions-SF2",
    description: "State machines have X-Ray tracing",
    check: (g) => untracedStateMachines(g, "AwsSolutions-SF2"),
  },
  {
    id: "AwsSolutions-ECS2",
    description: "Task definitions do not set environment variables directly",
    check: (g) => containers(g).filter(({ container }) => (container.environment ?? []).length > 0).map(({ resource, container }) => finding("AwsSolutions-ECS2", resource, `container ${container.name} sets ${container.environment.map((e: any) => e.name).join(", ")}`)),
  },
  {
    id: "AwsSolutions-ECS4",
    description: "ECS clusters use Container Insights",
    check: (g) =>
      of(g, "aws:ecs/cluster:Cluster")
        .filter((c) => !(c.inputs.settings ?? []).some((s: any) => s.name === "containerInsights" && ["enabled", "enhanced"].includes(s.value)))
        .map((c) => finding("AwsSolutions-ECS4", c.name, "Container Insights off")),
  },
  {
    id: "AwsSolutions-ECS7",
    description: "Containers log to CloudWatch (awslogs)",
    check: (g) => containers(g).filter(({ container }) => container.logConfiguration?.logDriver !== "awslogs").map(({ resource }) => finding("AwsSolutions-ECS7", resource, "no awslogs configuration")),
  },
  {
    id: "CKV_AWS_50",
    description: "Lambda functions have X-Ray tracing active",
    check: (g) => of(g, "aws:lambda/function:Function").filter((f) => f.inputs.tracingConfig?.mode !== "Active").map((f) => finding("CKV_AWS_50", f.name, "tracing not Active")),
  },
  {
    id: "CKV_AWS_115",
    description: "Lambda functions have a function-level concurrency limit (reserved concurrency)",
    check: (g) => of(g, "aws:lambda/function:Function").filter((f) => !(f.inputs.reservedConcurrentExecutions > 0)).map((f) => finding("CKV_AWS_115", f.name, "no reserved concurrency")),
  },
  {
    id: "CKV_AWS_116",
    description: "Lambda functions have a dead-letter queue",
    check: (g) => of(g, "aws:lambda/function:Function").filter((f) => !f.inputs.deadLetterConfig?.targetArn).map((f) => finding("CKV_AWS_116", f.name, "no DLQ")),
  },
  {
    id: "CKV_AWS_173",
    description: "Lambda environment variables are encrypted with a customer-managed KMS key",
    check: (g) => of(g, "aws:lambda/function:Function").filter((f) => !f.inputs.kmsKeyArn).map((f) => finding("CKV_AWS_173", f.name, "AWS-managed key")),
  },
  {
    id: "CKV_AWS_284",
    description: "State machines have X-Ray tracing",
    check: (g) => untracedStateMachines(g, "CKV_AWS_284"),
  },
  {
    id: "CKV_AWS_285",
    description: "State machines log execution history",
    check: (g) => of(g, "aws:sfn/stateMachine:StateMachine").filter((s) => !s.inputs.loggingConfiguration?.logDestination).map((s) => finding("CKV_AWS_285", s.name, "no log destination")),
  },
  {
    id: "CKV_AWS_334",
    description: "ECS containers do not run privileged",
    check: (g) => containers(g).filter(({ container }) => container.privileged === true).map(({ resource }) => finding("CKV_AWS_334", resource, "privileged container")),
  },
  {
    id: "CKV_AWS_335",
    description: "ECS task definitions do not share the host's process namespace",
    check: (g) => of(g, "aws:ecs/taskDefinition:TaskDefinition").filter((t) => t.inputs.pidMode === "host").map((t) => finding("CKV_AWS_335", t.name, "pidMode host")),
  },
  {
    id: "CKV_AWS_336",
    description: "ECS containers have a read-only root filesystem",
    check: (g) => containers(g).filter(({ container }) => container.readonlyRootFilesystem !== true).map(({ resource }) => finding("CKV_AWS_336", resource, "writable root filesystem")),
  },
  {
    id: "ECS-non-root",
    description: "ECS containers run as a non-root user (Trivy AVD-DS-0002 for the image; the task definition pins the user)",
    check: (g) => containers(g).filter(({ container }) => !container.user || /^(0|root)(:|$)/.test(container.user)).map(({ resource }) => finding("ECS-non-root", resource, "runs as root")),
  },
  {
    id: "AwsSolutions-S2",
    description: "S3 buckets block public access",
    check: (g) =>
      of(g, "aws:s3/bucket:Bucket")
        .filter((b) => !of(g, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").some((p) => p.inputs.bucket === b.state.bucket && p.inputs.blockPublicAcls && p.inputs.blockPublicPolicy && p.inputs.ignorePublicAcls && p.inputs.restrictPublicBuckets))
        .map((b) => finding("AwsSolutions-S2", b.name, "public access not blocked")),
  },
  {
    id: "AwsSolutions-S10",
    description: "S3 buckets deny requests without TLS",
    check: (g) =>
      of(g, "aws:s3/bucket:Bucket")
        .filter((b) => !deniesInsecureTransport(g, "aws:s3/bucketPolicy:BucketPolicy", (p) => p.inputs.bucket === b.state.bucket))
        .map((b) => finding("AwsSolutions-S10", b.name, "no TLS-only policy")),
  },
  {
    id: "AwsSolutions-S1",
    description: "S3 buckets have server access logging",
    check: (g) => of(g, "aws:s3/bucket:Bucket").filter((b) => !of(g, "aws:s3/bucketLogging:BucketLogging").some((l) => l.inputs.bucket === b.state.bucket)).map((b) => finding("AwsSolutions-S1", b.name, "no access logging")),
  },
  {
    id: "CKV_AWS_19",
    description: "S3 buckets encrypt at rest",
    check: (g) =>
      of(g, "aws:s3/bucket:Bucket")
        .filter((b) => !of(g, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").some((e) => e.inputs.bucket === b.state.bucket))
        .map((b) => finding("CKV_AWS_19", b.name, "no default encryption")),
  },
  {
    id: "CKV_AWS_21",
    description: "S3 buckets have versioning",
    check: (g) =>
      of(g, "aws:s3/bucket:Bucket")
        .filter((b) => !of(g, "aws:s3/bucketVersioning:BucketVersioning").some((v) => v.inputs.bucket === b.state.bucket && v.inputs.versioningConfiguration?.status === "Enabled"))
        .map((b) => finding("CKV_AWS_21", b.name, "versioning off")),
  },
  {
    id: "AwsSolutions-SNS2",
    description: "SNS topics are encrypted with KMS",
    check: (g) => of(g, "aws:sns/topic:Topic").filter((t) => !t.inputs.kmsMasterKeyId).map((t) => finding("AwsSolutions-SNS2", t.name, "not encrypted")),
  },
  {
    id: "AwsSolutions-SNS3",
    description: "SNS topics deny publishers without TLS",
    check: (g) => of(g, "aws:sns/topic:Topic").filter((t) => !deniesInsecureTransport(g, "aws:sns/topicPolicy:TopicPolicy", (p) => p.inputs.arn === t.state.arn)).map((t) => finding("AwsSolutions-SNS3", t.name, "no TLS-only policy")),
  },
  {
    id: "AwsSolutions-SQS2",
    description: "SQS queues are encrypted at rest",
    check: (g) => of(g, "aws:sqs/queue:Queue").filter((q) => !q.inputs.sqsManagedSseEnabled && !q.inputs.kmsMasterKeyId).map((q) => finding("AwsSolutions-SQS2", q.name, "not encrypted")),
  },
  {
    id: "AwsSolutions-SQS3",
    description: "SQS queues have a dead-letter queue (or are one)",
    check: (g) => {
      const dlqArns = new Set(of(g, "aws:sqs/queue:Queue").map((q) => json(q.inputs.redrivePolicy ?? "{}").deadLetterTargetArn).filter(Boolean));
      return of(g, "aws:sqs/queue:Queue").filter((q) => !q.inputs.redrivePolicy && !dlqArns.has(q.state.arn)).map((q) => finding("AwsSolutions-SQS3", q.name, "no DLQ and not a DLQ"));
    },
  },
  {
    id: "AwsSolutions-SQS4",
    description: "SQS queues deny requests without TLS",
    check: (g) => of(g, "aws:sqs/queue:Queue").filter((q) => !deniesInsecureTransport(g, "aws:sqs/queuePolicy:QueuePolicy", (p) => p.inputs.queueUrl === q.state.url)).map((q) => finding("AwsSolutions-SQS4", q.name, "no TLS-only policy")),
  },
  {
    id: "AwsSolutions-DDB3",
    description: "DynamoDB tables have point-in-time recovery",
    check: (g) => of(g, "aws:dynamodb/table:Table").filter((t) => t.inputs.pointInTimeRecovery?.enabled !== true).map((t) => finding("AwsSolutions-DDB3", t.name, "no PITR")),
  },
  {
    id: "CKV_AWS_119",
    description: "DynamoDB tables are encrypted with a customer-managed KMS key",
    check: (g) => of(g, "aws:dynamodb/table:Table").filter((t) => !t.inputs.serverSideEncryption?.kmsKeyArn).map((t) => finding("CKV_AWS_119", t.name, "AWS-managed key")),
  },
  {
    id: "Kinesis-encryption",
    description: "Kinesis streams are encrypted (AwsSolutions-KDS1/KDS3); no stream exists in this program",
    check: (g) => of(g, "aws:kinesis/stream:Stream").filter((s) => s.inputs.encryptionType !== "KMS").map((s) => finding("Kinesis-encryption", s.name, "not encrypted")),
  },
  {
    id: "CloudWatch-retention",
    description: "Every log group has a retention period (CKV_AWS_338 asks for ≥ 1 year: prod has 365 days)",
    check: (g) => of(g, "aws:cloudwatch/logGroup:LogGroup").filter((l) => !l.inputs.retentionInDays).map((l) => finding("CloudWatch-retention", l.name, "logs kept forever")),
  },
  {
    id: "KMS-rotation",
    description: "Customer-managed KMS keys rotate (CKV_AWS_7)",
    check: (g) => of(g, "aws:kms/key:Key").filter((k) => k.inputs.enableKeyRotation !== true).map((k) => finding("KMS-rotation", k.name, "no rotation")),
  },
  {
    id: "ECR-scan",
    description: "ECR repositories scan images on push (CKV_AWS_163) and have a lifecycle policy",
    check: (g) =>
      of(g, "aws:ecr/repository:Repository")
        .filter((r) => r.inputs.imageScanningConfiguration?.scanOnPush !== true || !of(g, "aws:ecr/lifecyclePolicy:LifecyclePolicy").some((p) => p.inputs.repository === r.state.name))
        .map((r) => finding("ECR-scan", r.name, "no scan on push or no lifecycle policy")),
  },
  {
    id: "EC2-no-ingress",
    description: "Security groups allow no inbound traffic (AwsSolutions-EC23, CKV_AWS_260)",
    check: (g) => of(g, "aws:ec2/securityGroup:SecurityGroup").filter((s) => (s.inputs.ingress ?? []).length > 0).map((s) => finding("EC2-no-ingress", s.name, "has inbound rules")),
  },
];
