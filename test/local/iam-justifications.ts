/**
 * Granted (action, resource) pairs no scenario of the test run uses, each with the reason it stays granted. The
 * least-privilege check (test/local/hooks.ts) fails on an unused grant no entry covers, and on an entry that covers
 * nothing any more (a fault test started to exercise it, or the grant went away): this list cannot go stale.
 */
export interface UnusedGrantJustification {
  /** Matched against the principal (`lambda:<name>`, `ecs-task:<family>`, `state-machine:<name>`). */
  readonly principal: RegExp;
  /** Matched against `<action> <resource>`. */
  readonly grant: RegExp;
  readonly reason: string;
}

export const UNUSED_GRANT_JUSTIFICATIONS: UnusedGrantJustification[] = [
  {
    principal: /^lambda:/,
    grant: /^logs:(CreateLogStream|PutLogEvents) arn:aws:logs:[^ ]+:log-group:\/aws\/lambda\/[^ ]+:\*$/,
    reason: "The Lambda service writes the function's logs with the function's role; the handler code never calls CloudWatch Logs.",
  },
  {
    principal: /^(lambda|state-machine):/,
    grant: /^xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets) \*$/,
    reason: "Active tracing: the Lambda and Step Functions services send segments with the principal's role, not our code.",
  },
  {
    principal: /^state-machine:/,
    grant: /^logs:(CreateLogDelivery|DeleteLogDelivery|DescribeLogGroups|DescribeResourcePolicies|GetLogDelivery|ListLogDeliveries|PutResourcePolicy|UpdateLogDelivery) \*$/,
    reason: "Step Functions sets up vended log delivery (logging level ALL) with the state machine's role when it is created/updated.",
  },
  {
    principal: /^ecs-task:[a-z0-9-]+-export-worker\/execution$/,
    grant: /^(ecr:(GetAuthorizationToken|BatchCheckLayerAvailability|BatchGetImage|GetDownloadUrlForLayer)|logs:(CreateLogStream|PutLogEvents)) /,
    reason: "The task execution role is used by ECS itself to pull the image and ship container logs (awslogs); the job never sees it.",
  },
  {
    principal: /^(lambda:order-pipeline-[a-z0-9-]+-export-(svg|pdf|combine)|ecs-task:[a-z0-9-]+-export-worker)$/,
    grant: /^s3:AbortMultipartUpload arn:aws:s3:::[^ ]+\/(exports|parts)\/\*$/,
    reason: "Only a failed multipart upload (exports over 5 MiB) is aborted; no scenario fails an upload part-way.",
  },
];
