import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, resourcePolicy } from "./resource-policies";

export interface AlarmChannelArgs {
  /** Address subscribed to the alarm topic; the subscription must be confirmed from the e-mail. @default no subscription */
  readonly email?: string;
}

/**
 * The SNS topic every alarm notifies, encrypted with its own customer-managed KMS key: CloudWatch cannot publish to a
 * topic encrypted with the AWS-managed `alias/aws/sns` key, so the key policy grants CloudWatch exactly
 * GenerateDataKey and Decrypt.
 *
 * @example
 * const alarms = new AlarmChannel("alarms", { email: "oncall@example.com" });
 */
export class AlarmChannel extends pulumi.ComponentResource {
  public readonly topic: aws.sns.Topic;
  public readonly key: aws.kms.Key;

  constructor(name: string, args: AlarmChannelArgs, opts?: pulumi.ComponentResourceOptions) {
    super("order-pipeline:observability:AlarmChannel", name, {}, opts);
    this.key = this.createKey(name);
    this.topic = new aws.sns.Topic(`${name}-topic`, { kmsMasterKeyId: this.key.id }, { parent: this });
    this.createTopicPolicy(name);
    if (args.email) {
      new aws.sns.TopicSubscription(`${name}-email`, { topic: this.topic.arn, protocol: "email", endpoint: args.email }, { parent: this });
    }
    this.registerOutputs({ topicArn: this.topic.arn });
  }

  /** Replaces the default topic policy: CloudWatch of this account may publish, and only over TLS. */
  private createTopicPolicy(name: string): void {
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    new aws.sns.TopicPolicy(
      `${name}-topic-policy`,
      {
        arn: this.topic.arn,
        policy: resourcePolicy([
          {
            Sid: "CloudWatchAlarmsPublish",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: "sns:Publish",
            Resource: this.topic.arn,
            Condition: { StringEquals: { "aws:SourceAccount": identity.accountId } },
          },
          denyInsecureTransport("sns:Publish", [this.topic.arn]),
        ]),
      },
      { parent: this },
    );
  }

  private createKey(name: string): aws.kms.Key {
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    return new aws.kms.Key(
      `${name}-key`,
      {
        description: "Encrypts the alarm topic; usable by CloudWatch alarms",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.all([identity.accountId, partition.partition]).apply(([account, part]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "AccountAdministersKey",
                Effect: "Allow",
                Principal: { AWS: `arn:${part}:iam::${account}:root` },
                Action: "kms:*",
                // In a key policy "*" means this key; the account's IAM policies decide who else may use it.
                Resource: "*",
              },
              {
                Sid: "CloudWatchPublishesAlarms",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                Resource: "*",
                Condition: { StringEquals: { "aws:SourceAccount": account } },
              },
            ],
          }),
        ),
      },
      { parent: this },
    );
  }
}
