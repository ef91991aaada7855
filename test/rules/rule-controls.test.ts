import { expect } from "chai";
import { programGraph, type GraphResource, type ProgramGraph } from "../../scripts/program-graph";
import { JUSTIFICATIONS } from "./justifications";
import { RULES } from "./rules";

/**
 * Controls for every rule of the pack, so that no rule can pass by finding nothing: a positive control (a resource
 * built to break the rule, and the exact findings it must produce: rule, resource, message), a negative control (the
 * same resource made compliant, which must produce none), and the real program (dev and prod), whose findings for
 * the rule must be none or justified.
 */
const resource = (type: string, name: string, inputs: Record<string, unknown> = {}, state: Record<string, unknown> = {}): GraphResource => ({ type, name, custom: true, inputs, state });
const graphOf = (resources: GraphResource[]): ProgramGraph => ({ stack: "control", region: "eu-central-1", outputs: {}, resources });

const FUNCTION = "aws:lambda/function:Function";
const STATE_MACHINE = "aws:sfn/stateMachine:StateMachine";
const TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition";
const BUCKET = "aws:s3/bucket:Bucket";
const TOPIC = "aws:sns/topic:Topic";
const QUEUE = "aws:sqs/queue:Queue";
const TABLE = "aws:dynamodb/table:Table";
const REPOSITORY = "aws:ecr/repository:Repository";

const bucket = resource(BUCKET, "docs", {}, { bucket: "docs-1234" });
const topic = resource(TOPIC, "events", {}, { arn: "arn:aws:sns:eu-central-1:000000000000:events" });
const queue = resource(QUEUE, "parked", {}, { arn: "arn:aws:sqs:eu-central-1:000000000000:parked", url: "https://sqs.eu-central-1.amazonaws.com/000000000000/parked" });
const tlsOnly = (action: string) =>
  JSON.stringify({ Statement: [{ Effect: "Deny", Principal: "*", Action: action, Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }] });
/** A task definition with one container; `container` overrides a compliant container's fields. */
const taskDefinition = (name: string, container: Record<string, unknown> = {}, inputs: Record<string, unknown> = {}) =>
  resource(TASK_DEFINITION, name, {
    containerDefinitions: JSON.stringify([{ name: "app", user: "1000:1000", readonlyRootFilesystem: true, logConfiguration: { logDriver: "awslogs" }, ...container }]),
    ...inputs,
  });
const stateMachine = (name: string, inputs: Record<string, unknown>) =>
  resource(STATE_MACHINE, name, { loggingConfiguration: { level: "ALL", logDestination: "arn:aws:logs:eu-central-1:000000000000:log-group:sm:*" }, tracingConfiguration: { enabled: true }, ...inputs });

interface Control {
  readonly rule: string;
  /** What the positive control breaks, in words (the test name). */
  readonly breaks: string;
  readonly broken: GraphResource[];
  /** The findings the broken graph must produce: [resource, message]. */
  readonly findings: ReadonlyArray<readonly [string, string]>;
  /** The same resources made compliant: no finding. */
  readonly compliant: GraphResource[];
}

const CONTROLS: Control[] = [
  {
    rule: "AwsSolutions-IAM4",
    breaks: "an AWS managed policy on a role and attached to it",
    broken: [
      resource("aws:iam/role:Role", "role", { managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess"] }),
      resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach", { policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess" }),
    ],
    findings: [
      ["role", "role has managed policies"],
      ["attach", "attaches arn:aws:iam::aws:policy/ReadOnlyAccess"],
    ],
    compliant: [resource("aws:iam/role:Role", "role"), resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach", { policyArn: "arn:aws:iam::000000000000:policy/own" })],
  },
  {
    rule: "AwsSolutions-IAM5",
    breaks: "a wildcard action and a wildcard resource",
    broken: [resource("aws:iam/rolePolicy:RolePolicy", "policy", { policy: JSON.stringify({ Statement: [{ Sid: "Everything", Effect: "Allow", Action: ["s3:*"], Resource: ["*"] }] }) })],
    findings: [
      ["policy#Everything", "wildcard action s3:*"],
      ["policy#Everything", "wildcard resource *"],
    ],
    compliant: [resource("aws:iam/rolePolicy:RolePolicy", "policy", { policy: JSON.stringify({ Statement: [{ Sid: "One", Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::docs/a.json"] }] }) })],
  },
  {
    rule: "AwsSolutions-L1",
    breaks: "a function on an older Node.js runtime",
    broken: [resource(FUNCTION, "fn", { runtime: "nodejs20.x" })],
    findings: [["fn", "runtime nodejs20.x"]],
    compliant: [resource(FUNCTION, "fn", { runtime: "nodejs24.x" })],
  },
  {
    rule: "AwsSolutions-SF1",
    breaks: "a state machine logging only errors",
    broken: [stateMachine("sm", { loggingConfiguration: { level: "ERROR", logDestination: "arn:aws:logs:eu-central-1:000000000000:log-group:sm:*" } })],
    findings: [["sm", "logging level is not ALL"]],
    compliant: [stateMachine("sm", {})],
  },
  {
    rule: "AwsSolutions-SF2",
    breaks: "a state machine without X-Ray",
    broken: [stateMachine("sm", { tracingConfiguration: { enabled: false } })],
    findings: [["sm", "tracing disabled"]],
    compliant: [stateMachine("sm", {})],
  },
  {
    rule: "AwsSolutions-ECS2",
    breaks: "environment variables in a container definition",
    broken: [taskDefinition("td", { environment: [{ name: "BUCKET", value: "b" }, { name: "MODE", value: "x" }] })],
    findings: [["td", "container app sets BUCKET, MODE"]],
    compliant: [taskDefinition("td", { environment: [] })],
  },
  {
    rule: "AwsSolutions-ECS4",
    breaks: "a cluster with Container Insights disabled",
    broken: [resource("aws:ecs/cluster:Cluster", "cluster", { settings: [{ name: "containerInsights", value: "disabled" }] })],
    findings: [["cluster", "Container Insights off"]],
    compliant: [resource("aws:ecs/cluster:Cluster", "cluster", { settings: [{ name: "containerInsights", value: "enhanced" }] })],
  },
  {
    rule: "AwsSolutions-ECS7",
    breaks: "a container logging to a driver other than awslogs",
    broken: [taskDefinition("td", { logConfiguration: { logDriver: "json-file" } })],
    findings: [["td", "no awslogs configuration"]],
    compliant: [taskDefinition("td")],
  },
  {
    rule: "CKV_AWS_50",
    breaks: "a function with pass-through tracing",
    broken: [resource(FUNCTION, "fn", { tracingConfig: { mode: "PassThrough" } })],
    findings: [["fn", "tracing not Active"]],
    compliant: [resource(FUNCTION, "fn", { tracingConfig: { mode: "Active" } })],
  },
  {
    rule: "CKV_AWS_115",
    breaks: "a function without reserved concurrency",
    broken: [resource(FUNCTION, "fn", {})],
    findings: [["fn", "no reserved concurrency"]],
    compliant: [resource(FUNCTION, "fn", { reservedConcurrentExecutions: 5 })],
  },
  {
    rule: "CKV_AWS_116",
    breaks: "a function without a dead-letter queue",
    broken: [resource(FUNCTION, "fn", { deadLetterConfig: {} })],
    findings: [["fn", "no DLQ"]],
    compliant: [resource(FUNCTION, "fn", { deadLetterConfig: { targetArn: queue.state.arn } })],
  },
  {
    rule: "CKV_AWS_173",
    breaks: "a function whose environment uses the AWS-managed key",
    broken: [resource(FUNCTION, "fn", {})],
    findings: [["fn", "AWS-managed key"]],
    compliant: [resource(FUNCTION, "fn", { kmsKeyArn: "arn:aws:kms:eu-central-1:000000000000:key/1" })],
  },
  {
    rule: "CKV_AWS_284",
    breaks: "a state machine without a tracing configuration",
    broken: [stateMachine("sm", { tracingConfiguration: undefined })],
    findings: [["sm", "tracing disabled"]],
    compliant: [stateMachine("sm", {})],
  },
  {
    rule: "CKV_AWS_285",
    breaks: "a state machine logging nowhere",
    broken: [stateMachine("sm", { loggingConfiguration: { level: "ALL" } })],
    findings: [["sm", "no log destination"]],
    compliant: [stateMachine("sm", {})],
  },
  {
    rule: "CKV_AWS_334",
    breaks: "a privileged container",
    broken: [taskDefinition("td", { privileged: true })],
    findings: [["td", "privileged container"]],
    compliant: [taskDefinition("td", { privileged: false })],
  },
  {
    rule: "CKV_AWS_335",
    breaks: "a task definition sharing the host's process namespace",
    broken: [taskDefinition("td", {}, { pidMode: "host" })],
    findings: [["td", "pidMode host"]],
    compliant: [taskDefinition("td", {}, { pidMode: "task" })],
  },
  {
    rule: "CKV_AWS_336",
    breaks: "a container with a writable root filesystem",
    broken: [taskDefinition("td", { readonlyRootFilesystem: false })],
    findings: [["td", "writable root filesystem"]],
    compliant: [taskDefinition("td")],
  },
  {
    rule: "ECS-non-root",
    breaks: "containers without a user, as root by name and as uid 0",
    broken: [taskDefinition("td-none", { user: undefined }), taskDefinition("td-root", { user: "root" }), taskDefinition("td-uid0", { user: "0:1000" })],
    findings: [
      ["td-none", "runs as root"],
      ["td-root", "runs as root"],
      ["td-uid0", "runs as root"],
    ],
    compliant: [taskDefinition("td-none", { user: "1000" }), taskDefinition("td-root", { user: "app" }), taskDefinition("td-uid0", { user: "1000:0" })],
  },
  {
    rule: "AwsSolutions-S2",
    breaks: "a bucket whose public access block leaves public policies allowed",
    broken: [bucket, resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab", { bucket: "docs-1234", blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true, restrictPublicBuckets: true })],
    findings: [["docs", "public access not blocked"]],
    compliant: [bucket, resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab", { bucket: "docs-1234", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true })],
  },
  {
    rule: "AwsSolutions-S10",
    breaks: "a bucket whose policy does not deny requests without TLS",
    broken: [bucket, resource("aws:s3/bucketPolicy:BucketPolicy", "policy", { bucket: "docs-1234", policy: JSON.stringify({ Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:DeleteBucket", Resource: "*" }] }) })],
    findings: [["docs", "no TLS-only policy"]],
    compliant: [bucket, resource("aws:s3/bucketPolicy:BucketPolicy", "policy", { bucket: "docs-1234", policy: tlsOnly("s3:*") })],
  },
  {
    rule: "AwsSolutions-S1",
    breaks: "a bucket without server access logging",
    broken: [bucket, resource("aws:s3/bucketLogging:BucketLogging", "logging", { bucket: "other-bucket" })],
    findings: [["docs", "no access logging"]],
    compliant: [bucket, resource("aws:s3/bucketLogging:BucketLogging", "logging", { bucket: "docs-1234" })],
  },
  {
    rule: "CKV_AWS_19",
    breaks: "a bucket without default encryption",
    broken: [bucket],
    findings: [["docs", "no default encryption"]],
    compliant: [bucket, resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "sse", { bucket: "docs-1234" })],
  },
  {
    rule: "CKV_AWS_21",
    breaks: "a bucket whose versioning is suspended",
    broken: [bucket, resource("aws:s3/bucketVersioning:BucketVersioning", "versioning", { bucket: "docs-1234", versioningConfiguration: { status: "Suspended" } })],
    findings: [["docs", "versioning off"]],
    compliant: [bucket, resource("aws:s3/bucketVersioning:BucketVersioning", "versioning", { bucket: "docs-1234", versioningConfiguration: { status: "Enabled" } })],
  },
  {
    rule: "AwsSolutions-SNS2",
    breaks: "an unencrypted topic",
    broken: [topic],
    findings: [["events", "not encrypted"]],
    compliant: [resource(TOPIC, "events", { kmsMasterKeyId: "alias/events" }, topic.state)],
  },
  {
    rule: "AwsSolutions-SNS3",
    breaks: "a topic whose policy belongs to another topic",
    broken: [topic, resource("aws:sns/topicPolicy:TopicPolicy", "policy", { arn: "arn:aws:sns:eu-central-1:000000000000:other", policy: tlsOnly("sns:Publish") })],
    findings: [["events", "no TLS-only policy"]],
    compliant: [topic, resource("aws:sns/topicPolicy:TopicPolicy", "policy", { arn: topic.state.arn, policy: tlsOnly("sns:Publish") })],
  },
  {
    rule: "AwsSolutions-SQS2",
    breaks: "an unencrypted queue",
    broken: [queue],
    findings: [["parked", "not encrypted"]],
    compliant: [resource(QUEUE, "parked", { sqsManagedSseEnabled: true }, queue.state)],
  },
  {
    rule: "AwsSolutions-SQS3",
    breaks: "a queue that has no dead-letter queue and is none",
    broken: [queue],
    findings: [["parked", "no DLQ and not a DLQ"]],
    compliant: [
      resource(QUEUE, "work", { redrivePolicy: JSON.stringify({ deadLetterTargetArn: queue.state.arn, maxReceiveCount: 3 }) }, { arn: "arn:aws:sqs:eu-central-1:000000000000:work" }),
      queue,
    ],
  },
  {
    rule: "AwsSolutions-SQS4",
    breaks: "a queue whose policy only allows",
    broken: [queue, resource("aws:sqs/queuePolicy:QueuePolicy", "policy", { queueUrl: queue.state.url, policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "sqs:SendMessage", Resource: "*" }] }) })],
    findings: [["parked", "no TLS-only policy"]],
    compliant: [queue, resource("aws:sqs/queuePolicy:QueuePolicy", "policy", { queueUrl: queue.state.url, policy: tlsOnly("sqs:*") })],
  },
  {
    rule: "AwsSolutions-DDB3",
    breaks: "a table without point-in-time recovery",
    broken: [resource(TABLE, "orders", { pointInTimeRecovery: { enabled: false } })],
    findings: [["orders", "no PITR"]],
    compliant: [resource(TABLE, "orders", { pointInTimeRecovery: { enabled: true } })],
  },
  {
    rule: "CKV_AWS_119",
    breaks: "a table encrypted with the AWS-managed key",
    broken: [resource(TABLE, "orders", { serverSideEncryption: { enabled: true } })],
    findings: [["orders", "AWS-managed key"]],
    compliant: [resource(TABLE, "orders", { serverSideEncryption: { enabled: true, kmsKeyArn: "arn:aws:kms:eu-central-1:000000000000:key/1" } })],
  },
  {
    rule: "Kinesis-encryption",
    breaks: "an unencrypted stream",
    broken: [resource("aws:kinesis/stream:Stream", "stream", { encryptionType: "NONE" })],
    findings: [["stream", "not encrypted"]],
    compliant: [resource("aws:kinesis/stream:Stream", "stream", { encryptionType: "KMS" })],
  },
  {
    rule: "CloudWatch-retention",
    breaks: "a log group kept forever",
    broken: [resource("aws:cloudwatch/logGroup:LogGroup", "logs", {})],
    findings: [["logs", "logs kept forever"]],
    compliant: [resource("aws:cloudwatch/logGroup:LogGroup", "logs", { retentionInDays: 14 })],
  },
  {
    rule: "KMS-rotation",
    breaks: "a key that does not rotate",
    broken: [resource("aws:kms/key:Key", "key", { enableKeyRotation: false })],
    findings: [["key", "no rotation"]],
    compliant: [resource("aws:kms/key:Key", "key", { enableKeyRotation: true })],
  },
  {
    rule: "ECR-scan",
    breaks: "a repository that scans without a lifecycle policy, and one with a lifecycle policy that does not scan",
    broken: [
      resource(REPOSITORY, "scans", { imageScanningConfiguration: { scanOnPush: true } }, { name: "scans" }),
      resource(REPOSITORY, "kept", { imageScanningConfiguration: { scanOnPush: false } }, { name: "kept" }),
      resource("aws:ecr/lifecyclePolicy:LifecyclePolicy", "lifecycle", { repository: "kept" }),
    ],
    findings: [
      ["scans", "no scan on push or no lifecycle policy"],
      ["kept", "no scan on push or no lifecycle policy"],
    ],
    compliant: [
      resource(REPOSITORY, "scans", { imageScanningConfiguration: { scanOnPush: true } }, { name: "scans" }),
      resource("aws:ecr/lifecyclePolicy:LifecyclePolicy", "lifecycle", { repository: "scans" }),
    ],
  },
  {
    rule: "EC2-no-ingress",
    breaks: "a security group with an inbound rule",
    broken: [resource("aws:ec2/securityGroup:SecurityGroup", "sg", { ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }] })],
    findings: [["sg", "has inbound rules"]],
    compliant: [resource("aws:ec2/securityGroup:SecurityGroup", "sg", { ingress: [], egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] })],
  },
];

describe("rule pack controls: every rule fires on a resource built to break it, and only then", function () {
  this.timeout(120_000);
  const programs: ProgramGraph[] = [];
  before(async () => {
    programs.push(await programGraph("dev"), await programGraph("prod"));
  });

  it("has a control for every rule of the pack, and none for a rule it does not have", () => {
    expect(CONTROLS.map((c) => c.rule)).to.deep.equal(RULES.map((r) => r.id));
  });

  for (const control of CONTROLS) {
    const rule = () => RULES.find((r) => r.id === control.rule)!;

    describe(control.rule, () => {
      it(`fires on ${control.breaks}, naming the resource and what is wrong`, () => {
        expect(rule().check(graphOf(control.broken))).to.deep.equal(control.findings.map(([resource, message]) => ({ rule: control.rule, resource, message })));
      });

      it("finds nothing once the same resources are made compliant", () => {
        expect(rule().check(graphOf(control.compliant))).to.deep.equal([]);
      });

      it("passes the program in dev and prod, or every finding is justified", () => {
        const findings = programs.flatMap((g) => rule().check(g));
        const unjustified = findings.filter((f) => !JUSTIFICATIONS.some((j) => j.rule === f.rule && j.matches.test(`${f.resource} ${f.message}`)));
        expect(unjustified.map((f) => `${f.resource}: ${f.message}`)).to.deep.equal([]);
      });
    });
  }
});
