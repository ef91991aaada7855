import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface CountAlarmArgs {
  /** Physical alarm name. */
  readonly alarmName: string;
  /** What the on-call engineer reads in the notification. */
  readonly description: string;
  /** CloudWatch namespace, e.g. `AWS/Lambda`. */
  readonly namespace: string;
  /** A count metric, e.g. `Errors`, `ExecutionsFailed`. */
  readonly metricName: string;
  /** Which resource's metric. */
  readonly dimensions: Record<string, pulumi.Input<string>>;
  /** Topic notified on ALARM and on OK. */
  readonly topicArn: pulumi.Input<string>;
}

/**
 * "At least one in five minutes" on a count metric (errors, failed executions): any occurrence is worth a look, and
 * no data means nothing happened. Notifies on ALARM and on OK.
 */
export function countAlarm(name: string, args: CountAlarmArgs, opts: pulumi.CustomResourceOptions): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(
    name,
    {
      name: args.alarmName,
      alarmDescription: args.description,
      namespace: args.namespace,
      metricName: args.metricName,
      dimensions: args.dimensions,
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [args.topicArn],
      okActions: [args.topicArn],
    },
    opts,
  );
}
