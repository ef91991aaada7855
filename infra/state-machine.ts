import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { countAlarm } from "./alarms";
import { assumeRolePolicy, PolicyStatement, renderPolicy } from "./policy";
import { RenderedWorkflow } from "./workflow";

/** IAM role names are limited to 64 characters; the role is named `${stateMachineName}-role`. */
const MAX_NAME = 64 - "-role".length;

export interface StateMachineArgs {
  /** Physical name (also names the role and log group); at most 59 characters. */
  readonly stateMachineName: string;
  /** The rendered workflow: ASL plus the statements its states need (from the workflow builder). */
  readonly workflow: pulumi.Input<RenderedWorkflow>;
  /** Days CloudWatch keeps the execution history log. */
  readonly logRetentionDays: number;
  /** Topic the ExecutionsFailed / ExecutionsTimedOut alarms notify. @default no alarms */
  readonly alarmTopicArn?: pulumi.Input<string>;
}

/**
 * A Standard state machine whose role allows exactly what its states call (collected by the workflow builder),
 * logging ALL events to its own log group, traced with X-Ray, with alarms on failed and timed-out executions.
 *
 * @example
 * const sm = new StateMachine("orders", { stateMachineName: "shop-dev-orders", workflow, logRetentionDays: 14 });
 */
export class StateMachine extends pulumi.ComponentResource {
  public readonly stateMachine: aws.sfn.StateMachine;
  public readonly role: aws.iam.Role;
  public readonly logGroup: aws.cloudwatch.LogGroup;
  public readonly arn: pulumi.Output<string>;
  /** The ASL document as deployed. */
  public readonly definition: pulumi.Output<string>;

  constructor(name: string, args: StateMachineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("order-pipeline:workflow:StateMachine", name, {}, opts);
    validate(args);
    this.logGroup = this.createLogGroup(name, args);
    this.role = this.createRole(name, args);
    const policy = this.createPolicy(name, args);
    this.definition = pulumi.output(args.workflow).apply((w) => JSON.stringify(w.definition, null, 2));
    this.stateMachine = this.createStateMachine(name, args, policy);
    this.arn = this.stateMachine.arn;
    this.createAlarms(name, args);
    this.registerOutputs({ arn: this.arn, roleArn: this.role.arn });
  }

  private createLogGroup(name: string, args: StateMachineArgs): aws.cloudwatch.LogGroup {
    return new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/vendedlogs/states/${args.stateMachineName}`, retentionInDays: args.logRetentionDays },
      { parent: this },
    );
  }

  private createStateMachine(name: string, args: StateMachineArgs, policy: aws.iam.RolePolicy): aws.sfn.StateMachine {
    return new aws.sfn.StateMachine(
      `${name}-state-machine`,
      {
        name: args.stateMachineName,
        type: "STANDARD",
        roleArn: this.role.arn,
        definition: this.definition,
        loggingConfiguration: {
          level: "ALL",
          // Order and export payloads carry personal data (names, e-mail, addresses): log events, not payloads.
          includeExecutionData: false,
          logDestination: pulumi.interpolate`${this.logGroup.arn}:*`,
        },
        tracingConfiguration: { enabled: true },
      },
      // Step Functions checks the role's permissions when the state machine is created.
      { parent: this, dependsOn: [policy] },
    );
  }

  private createRole(name: string, args: StateMachineArgs): aws.iam.Role {
    return new aws.iam.Role(
      `${name}-role`,
      { name: `${args.stateMachineName}-role`, description: `Runs state machine ${args.stateMachineName} only`, assumeRolePolicy: assumeRolePolicy("states.amazonaws.com") },
      { parent: this },
    );
  }

  private createPolicy(name: string, args: StateMachineArgs): aws.iam.RolePolicy {
    const statements = pulumi.output(args.workflow).apply((w): PolicyStatement[] => [...w.statements, ...STATE_MACHINE_SERVICE_STATEMENTS]);
    return new aws.iam.RolePolicy(
      `${name}-policy`,
      { name: `${args.stateMachineName}-policy`, role: this.role.id, policy: statements.apply((s) => renderPolicy(s)) },
      { parent: this },
    );
  }

  private createAlarms(name: string, args: StateMachineArgs): void {
    if (!args.alarmTopicArn) return;
    for (const metric of ["ExecutionsFailed", "ExecutionsTimedOut"]) {
      countAlarm(
        `${name}-${metric.toLowerCase()}`,
        {
          alarmName: `${args.stateMachineName}-${metric}`,
          description: `${args.stateMachineName}: ${metric} — an execution ended outside the designed outcomes`,
          namespace: "AWS/States",
          metricName: metric,
          dimensions: { StateMachineArn: this.stateMachine.arn },
          topicArn: args.alarmTopicArn,
        },
        { parent: this },
      );
    }
  }
}

/** What every state machine needs for its own logging and tracing. */
export const STATE_MACHINE_SERVICE_STATEMENTS: PolicyStatement[] = [
  {
    sid: "DeliverExecutionLogs",
    actions: [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
    ],
    resources: ["*"],
    wildcardReason: "CloudWatch Logs vended-log delivery APIs (CreateLogDelivery etc.) do not support resource-level permissions",
  },
  {
    sid: "WriteTraces",
    actions: ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"],
    resources: ["*"],
    wildcardReason: "X-Ray trace and sampling APIs have no resource types; IAM accepts only *",
  },
];

function validate(args: StateMachineArgs): void {
  if (!/^[A-Za-z0-9_-]+$/.test(args.stateMachineName) || args.stateMachineName.length > MAX_NAME) {
    throw new Error(`\`stateMachineName\` "${args.stateMachineName}" must be letters, digits, - or _ and at most ${MAX_NAME} characters`);
  }
  if (!Number.isInteger(args.logRetentionDays) || args.logRetentionDays < 1) {
    throw new Error(`${args.stateMachineName}: \`logRetentionDays\` must be a positive integer`);
  }
}
