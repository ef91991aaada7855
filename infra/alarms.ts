import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface CountAlarmArgs {
  readonly alarmName: string;
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, pulumi.Input<string>>;
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
