/**
 * Findings we choose not to fix, each with the reason. A justification names a rule and a pattern matched against
 * the finding's resource and message; the rule-pack test fails on any finding no justification covers, and on any
 * justification that no longer covers a finding (so this list cannot go stale).
 */
export interface Justification {
  readonly rule: string;
  /** Matched against `${resource} ${message}`. */
  readonly matches: RegExp;
  readonly reason: string;
}

export const JUSTIFICATIONS: Justification[] = [
  {
    rule: "AwsSolutions-IAM5",
    matches: /#WriteTraces wildcard resource \*$/,
    reason: "X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* have no resource types: IAM accepts only *.",
  },
  {
    rule: "AwsSolutions-IAM5",
    matches: /#DeliverExecutionLogs wildcard resource \*$/,
    reason: "Step Functions log delivery (logs:CreateLogDelivery etc.) has no resource-level permissions.",
  },
  {
    rule: "AwsSolutions-IAM5",
    matches: /#AuthenticateToRegistry wildcard resource \*$/,
    reason: "ecr:GetAuthorizationToken is registry-wide and has no resource type.",
  },
  {
    rule: "AwsSolutions-IAM5",
    matches: /#ReportToWorkflow wildcard resource \*$/,
    reason: "states:SendTaskSuccess/Failure/Heartbeat act on a task token and have no resource type.",
  },
  {
    rule: "AwsSolutions-IAM5",
    matches: /#(WriteOwnLogs|WriteTaskLogs) wildcard resource arn:aws:logs:[^*]+:log-group:[^*]+:\*$/,
    reason: "The log streams of the principal's own log group: stream names are created at run time.",
  },
  {
    rule: "AwsSolutions-IAM5",
    matches: /#(ReadDocuments|WriteExports|ConsumeParts) wildcard resource arn:aws:s3:::[a-z0-9.-]+\/(documents|exports|parts)\/\*$/,
    reason: "Object keys under one prefix of one bucket: keys are chosen per job at run time.",
  },
  {
    rule: "AwsSolutions-IAM5",
    matches: /#RunExportTask wildcard resource arn:aws:ecs:[^*]+:task-definition\/[A-Za-z0-9_-]+:\*$/,
    reason: "Every revision of the export worker's own task-definition family, in its own cluster (ecs:cluster condition): an execution started before a deploy still runs the revision it was started with.",
  },
  {
    rule: "AwsSolutions-ECS2",
    matches: /sets (DEADLINE_SECONDS|DOCUMENTS_BUCKET|EXPORTS_PREFIX|HEARTBEAT_SECONDS|STALL_SECONDS)(, (DEADLINE_SECONDS|DOCUMENTS_BUCKET|EXPORTS_PREFIX|HEARTBEAT_SECONDS|STALL_SECONDS))*$/,
    reason: "Plain, non-secret configuration (bucket name, key prefix, heartbeat, stall and deadline intervals); the job needs no secret.",
  },
  {
    rule: "CKV_AWS_115",
    matches: /no reserved concurrency$/,
    reason: "Reserved concurrency is set per stack where it protects the account (prod: order placement, payment, inventory, PDF exporter); elsewhere it would only cap throughput.",
  },
  {
    rule: "CKV_AWS_116",
    matches: /no DLQ$/,
    reason: "Every function is invoked synchronously by Step Functions; a DLQ applies only to asynchronous invocations. Failures are caught by the workflow (retry, compensation, the failed-notifications queue).",
  },
  {
    rule: "CKV_AWS_173",
    matches: /AWS-managed key$/,
    reason: "No secret is in an environment variable (the gateway key is an SSM SecureString); the AWS-managed key encrypts the rest at rest.",
  },
  {
    rule: "AwsSolutions-S1",
    matches: /no access logging$/,
    reason: "Object access is recorded by CloudTrail data events where the account enables them; a second logging bucket would itself need logging.",
  },
  {
    rule: "AwsSolutions-SQS3",
    matches: /failed-notifications no DLQ and not a DLQ$/,
    reason: "The failed-notifications queue is itself the parking place for failed deliveries (the workflow sends to it); nothing consumes it automatically, so there is nothing to redrive.",
  },
  {
    rule: "CKV_AWS_119",
    matches: /AWS-managed key$/,
    reason: "Tables are encrypted with the AWS-managed DynamoDB key; a customer-managed key would add a KMS grant to nine roles without limiting who can read (IAM already does).",
  },
];
