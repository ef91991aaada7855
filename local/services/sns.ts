import { randomUUID } from "node:crypto";
import type { Principal } from "../iam/principals";
import { Access, ServiceError } from "./errors";

/**
 * The smallest SNS the program's code needs: Publish (awsQuery protocol — form-encoded request, XML answer, as SDK v3
 * speaks it) to topics the program registered, every message kept for tests to read. No subscriptions are delivered.
 */
export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly message: string;
  readonly subject?: string;
  readonly attributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  readonly messageGroupId?: string;
  /** Access key's principal name (function name, state machine name, operator). */
  readonly publishedBy: string;
  readonly time: number;
}

export interface TopicRecord {
  readonly arn: string;
  readonly name: string;
  readonly fifo: boolean;
  /** The topic's KMS key (`kmsMasterKeyId`: id, ARN or alias), when it is encrypted. */
  readonly kmsMasterKeyId?: string;
  readonly messages: PublishedMessage[];
}

export class LocalSns {
  readonly topics = new Map<string, TopicRecord>();
  /**
   * Checks that the publisher may have a message encrypted for an encrypted topic (kms:GenerateDataKey and
   * kms:Decrypt through SNS); throws when not.
   */
  encrypt?: (publisher: Principal, topic: TopicRecord) => void;

  createTopic(arn: string, name: string, fifo = false, kmsMasterKeyId?: string): TopicRecord {
    const topic = this.topics.get(arn) ?? { arn, name, fifo, messages: [], ...(kmsMasterKeyId ? { kmsMasterKeyId } : {}) };
    this.topics.set(arn, topic);
    return topic;
  }

  /** Every message published to a topic (by ARN or name), oldest first. */
  messages(topic: string): PublishedMessage[] {
    return this.find(topic)?.messages ?? [];
  }

  find(topic: string): TopicRecord | undefined {
    return this.topics.get(topic) ?? [...this.topics.values()].find((t) => t.name === topic);
  }

  describe(action: string, params: Record<string, string>): Access[] {
    return [{ action: `sns:${action}`, resource: params.TopicArn ?? params.TargetArn ?? "*" }];
  }

  /** Serves one awsQuery request; returns the XML body. */
  handleQuery(action: string, params: Record<string, string>, caller: Principal): string {
    switch (action) {
      case "Publish": {
        const result = this.publish(
          {
            topicArn: params.TopicArn ?? params.TargetArn,
            message: params.Message,
            subject: params.Subject,
            messageGroupId: params.MessageGroupId,
            attributes: queryMessageAttributes(params),
          },
          caller,
        );
        return xml("Publish", `<MessageId>${result.messageId}</MessageId>`);
      }
      case "GetTopicAttributes": {
        const topic = this.requireTopic(params.TopicArn);
        return xml(
          "GetTopicAttributes",
          `<Attributes><entry><key>TopicArn</key><value>${escapeXml(topic.arn)}</value></entry></Attributes>`,
        );
      }
      default:
        throw new ServiceError("InvalidAction", `The action ${action} is not implemented by the local SNS`, 400);
    }
  }

  publish(
    input: { topicArn?: string; message?: string; subject?: string; messageGroupId?: string; attributes?: PublishedMessage["attributes"] },
    caller: Principal,
  ): { messageId: string } {
    if (!input.topicArn) throw new ServiceError("InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter", 400);
    if (input.message === undefined || input.message === "") throw new ServiceError("InvalidParameter", "Invalid parameter: Empty message", 400);
    if (Buffer.byteLength(input.message) > 256 * 1024) throw new ServiceError("InvalidParameter", "Invalid parameter: Message too long", 400);
    validateMessageAttributes(input.attributes ?? {});
    const topic = this.requireTopic(input.topicArn);
    if (topic.fifo && !input.messageGroupId) throw new ServiceError("InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics", 400);
    if (topic.kmsMasterKeyId !== undefined) this.encrypt?.(caller, topic);
    const messageId = randomUUID();
    topic.messages.push({
      messageId,
      topicArn: topic.arn,
      message: input.message,
      subject: input.subject,
      attributes: input.attributes ?? {},
      messageGroupId: input.messageGroupId,
      publishedBy: caller.name,
      time: Date.now(),
    });
    return { messageId };
  }

  private requireTopic(arn: string | undefined): TopicRecord {
    const topic = arn ? this.topics.get(arn) : undefined;
    if (!topic) throw new ServiceError("NotFound", "Topic does not exist", 404);
    return topic;
  }
}

/**
 * Message attributes as SNS accepts them (SNS developer guide, "Amazon SNS message attributes": at most 10 per
 * message; the type is String, String.Array, Number or Binary, each optionally followed by `.<custom>`; a value is
 * required; Number within ±10^126 with at most 5 decimals; names of up to 256 characters from A-Z a-z 0-9 _ - .,
 * not starting with "AWS." or "Amazon.", no leading, trailing or double dot). Refused as InvalidParameterValue, whose
 * error code SNS sends as ParameterValueInvalid; the message wording is this emulator's.
 */
function validateMessageAttributes(attributes: PublishedMessage["attributes"]): void {
  const invalid = (message: string) => new ServiceError("ParameterValueInvalid", message, 400);
  const entries = Object.entries(attributes);
  if (entries.length > 10) throw invalid(`Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`);
  for (const [name, value] of entries) {
    if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name) || /^(AWS\.|Amazon\.)/i.test(name) || /^\.|\.$|\.\./.test(name)) {
      throw invalid(`The message attribute name '${name}' is invalid.`);
    }
    const base = /^(String\.Array|String|Number|Binary)(\..+)?$/.exec(value.DataType ?? "")?.[1];
    if (!base) throw invalid(`The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    const field = base === "Binary" ? value.BinaryValue : value.StringValue;
    if (field === undefined || field === "") throw invalid(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${base}'.`);
    if (base === "Number" && (!/^-?\d+(\.\d{1,5})?$/.test(field.trim()) || Math.abs(Number(field)) > 1e126)) {
      throw invalid(`The message attribute '${name}' with type 'Number' has an invalid value '${field}'.`);
    }
    if (base === "String.Array") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(field);
      } catch {
        parsed = undefined;
      }
      if (!Array.isArray(parsed)) throw invalid(`The message attribute '${name}' with type 'String.Array' must be a JSON array.`);
    }
  }
}

/** `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue` → a map. */
function queryMessageAttributes(params: Record<string, string>): PublishedMessage["attributes"] {
  const out: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> = {};
  for (let i = 1; params[`MessageAttributes.entry.${i}.Name`] !== undefined; i++) {
    const prefix = `MessageAttributes.entry.${i}`;
    out[params[`${prefix}.Name`]] = {
      DataType: params[`${prefix}.Value.DataType`],
      ...(params[`${prefix}.Value.StringValue`] !== undefined ? { StringValue: params[`${prefix}.Value.StringValue`] } : {}),
      ...(params[`${prefix}.Value.BinaryValue`] !== undefined ? { BinaryValue: params[`${prefix}.Value.BinaryValue`] } : {}),
    };
  }
  return out;
}

function xml(action: string, result: string): string {
  return (
    `<${action}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/">` +
    `<${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>` +
    `</${action}Response>`
  );
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}
