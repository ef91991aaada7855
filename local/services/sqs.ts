import { createHash, randomUUID } from "node:crypto";
import { LOCAL_ACCOUNT, LOCAL_PARTITION } from "../program/resource-state";
import { Access, ServiceError } from "./errors";

/**
 * The smallest SQS the program needs: SendMessage / ReceiveMessage / DeleteMessage (+ GetQueueUrl,
 * GetQueueAttributes, PurgeQueue) in the AWS JSON 1.0 protocol that current SDK v3 clients speak, and the Step
 * Functions `sqs:sendMessage` integration. Visibility timeout, delay and maximum message size are honoured as the
 * queue sets them; long polling returns at once; FIFO queues keep order and need a MessageGroupId, with content-based
 * deduplication when the queue enables it. ReceiveMessage returns the system attributes and message attributes the
 * request names, and no others (SQS API reference, ReceiveMessage: MessageSystemAttributeNames / AttributeNames,
 * MessageAttributeNames with "All", ".*" and "prefix.*").
 */
export interface SqsMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  readonly messageGroupId?: string;
  readonly deduplicationId?: string;
  readonly sentBy: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  invisibleUntil: number;
  receiptHandle?: string;
}

export interface QueueRecord {
  readonly url: string;
  readonly arn: string;
  readonly name: string;
  readonly fifo: boolean;
  readonly contentBasedDeduplication: boolean;
  readonly visibilityTimeoutSeconds: number;
  /** The queue's DelaySeconds: how long a new message stays invisible. */
  readonly delaySeconds: number;
  /** The queue's MaximumMessageSize, in bytes. */
  readonly maxMessageSize: number;
  /** Messages not yet deleted. */
  readonly live: SqsMessage[];
  /** Every message ever sent, for tests. */
  readonly sent: SqsMessage[];
}

export class LocalSqs {
  readonly queues = new Map<string, QueueRecord>();

  constructor(private readonly region: string) {}

  createQueue(input: {
    url: string;
    arn: string;
    name: string;
    fifo?: boolean;
    contentBasedDeduplication?: boolean;
    visibilityTimeoutSeconds?: number;
    delaySeconds?: number;
    maxMessageSize?: number;
  }): QueueRecord {
    const queue: QueueRecord = this.queues.get(input.arn) ?? {
      url: input.url,
      arn: input.arn,
      name: input.name,
      fifo: !!input.fifo,
      contentBasedDeduplication: !!input.contentBasedDeduplication,
      visibilityTimeoutSeconds: input.visibilityTimeoutSeconds ?? 30,
      delaySeconds: input.delaySeconds ?? 0,
      maxMessageSize: input.maxMessageSize ?? 256 * 1024,
      live: [],
      sent: [],
    };
    this.queues.set(input.arn, queue);
    return queue;
  }

  /** The messages of every queue, by queue ARN, for `--persist`. */
  saved(): Record<string, { live: SqsMessage[]; sent: SqsMessage[] }> {
    return Object.fromEntries([...this.queues.values()].map((q) => [q.arn, { live: q.live, sent: q.sent }]));
  }

  /**
   * Messages kept from an earlier boot, put back in the queues the program still declares. Receipt handles from
   * before are not honoured (SQS invalidates them too once the visibility timeout has passed).
   */
  restore(saved: Record<string, { live: SqsMessage[]; sent: SqsMessage[] }>): void {
    for (const [arn, { live, sent }] of Object.entries(saved)) {
      const queue = this.queues.get(arn);
      if (!queue) continue;
      const byId = new Map(sent.map((m) => [m.messageId, m] as const));
      queue.sent.push(...sent);
      queue.live.push(...live.map((m) => Object.assign(byId.get(m.messageId) ?? m, { receiptHandle: undefined, invisibleUntil: 0 })));
    }
  }

  /** Finds a queue by URL (any host: the SDK may rewrite it to the local endpoint), ARN or name. */
  find(ref: string): QueueRecord | undefined {
    const direct = this.queues.get(ref);
    if (direct) return direct;
    const name = ref.includes("/") ? ref.replace(/\/+$/, "").split("/").pop() : ref.split(":").pop();
    return [...this.queues.values()].find((q) => q.name === name);
  }

  /** Every message sent to the queue (by URL, ARN or name), oldest first. */
  messages(ref: string): SqsMessage[] {
    return this.find(ref)?.sent ?? [];
  }

  queueArnFor(ref: string | undefined): string {
    if (!ref) return "*";
    const q = this.find(ref);
    if (q) return q.arn;
    const name = ref.replace(/\/+$/, "").split("/").pop();
    return `arn:${LOCAL_PARTITION}:sqs:${this.region}:${LOCAL_ACCOUNT}:${name}`;
  }

  describe(operation: string, input: Record<string, unknown>): Access[] {
    if (operation === "GetQueueUrl") return [{ action: "sqs:GetQueueUrl", resource: this.queueArnFor(String(input.QueueName ?? "")) }];
    const action = operation === "SendMessageBatch" ? "SendMessage" : operation === "DeleteMessageBatch" ? "DeleteMessage" : operation;
    return [{ action: `sqs:${action}`, resource: this.queueArnFor(input.QueueUrl as string | undefined) }];
  }

  handleJson(operation: string, input: Record<string, any>, caller: string): unknown {
    switch (operation) {
      case "SendMessage":
        return this.sendMessage(input as { QueueUrl: string; MessageBody: string }, caller);
      case "SendMessageBatch": {
        const successful = (input.Entries ?? []).map((e: Record<string, any>) => ({ Id: e.Id, ...this.sendMessage({ ...e, QueueUrl: input.QueueUrl } as { QueueUrl: string; MessageBody: string }, caller) }));
        return { Successful: successful, Failed: [] };
      }
      case "ReceiveMessage":
        return this.receiveMessage(input);
      case "DeleteMessage":
        this.deleteMessage(this.requireQueue(input.QueueUrl), input.ReceiptHandle);
        return {};
      case "DeleteMessageBatch": {
        const queue = this.requireQueue(input.QueueUrl);
        for (const e of input.Entries ?? []) this.deleteMessage(queue, e.ReceiptHandle);
        return { Successful: (input.Entries ?? []).map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] };
      }
      case "GetQueueUrl": {
        const queue = this.find(String(input.QueueName ?? ""));
        if (!queue) throw nonExistent();
        return { QueueUrl: queue.url };
      }
      case "GetQueueAttributes": {
        const queue = this.requireQueue(input.QueueUrl);
        const now = Date.now();
        return {
          Attributes: {
            QueueArn: queue.arn,
            ApproximateNumberOfMessages: String(queue.live.filter((m) => m.invisibleUntil <= now).length),
            ApproximateNumberOfMessagesNotVisible: String(queue.live.filter((m) => m.invisibleUntil > now).length),
            VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
            FifoQueue: String(queue.fifo),
          },
        };
      }
      case "PurgeQueue":
        this.requireQueue(input.QueueUrl).live.length = 0;
        return {};
      default:
        throw new ServiceError("InvalidAction", `The action ${operation} is not implemented by the local SQS`, 400);
    }
  }

  sendMessage(
    input: { QueueUrl: string; MessageBody: string; MessageAttributes?: SqsMessage["attributes"]; MessageGroupId?: string; MessageDeduplicationId?: string; DelaySeconds?: number },
    caller: string,
  ): { MessageId: string; MD5OfMessageBody: string; MD5OfMessageAttributes?: string; SequenceNumber?: string } {
    const queue = this.requireQueue(input.QueueUrl);
    if (typeof input.MessageBody !== "string" || input.MessageBody.length === 0) {
      throw new ServiceError("MissingParameter", "The request must contain the parameter MessageBody.", 400);
    }
    if (Buffer.byteLength(input.MessageBody) > queue.maxMessageSize) {
      throw new ServiceError("InvalidParameterValue", `One or more parameters are invalid. Reason: Message must be shorter than ${queue.maxMessageSize} bytes.`, 400);
    }
    if (queue.fifo && input.DelaySeconds !== undefined) {
      throw new ServiceError("InvalidParameterValue", `Value ${input.DelaySeconds} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`, 400);
    }
    let deduplicationId = input.MessageDeduplicationId;
    if (queue.fifo) {
      if (!input.MessageGroupId) throw new ServiceError("MissingParameter", "The request must contain the parameter MessageGroupId.", 400);
      if (!deduplicationId && queue.contentBasedDeduplication) deduplicationId = createHash("sha256").update(input.MessageBody).digest("hex");
      if (!deduplicationId) {
        throw new ServiceError("InvalidParameterValue", "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly", 400);
      }
      const fiveMinutesAgo = Date.now() - 5 * 60_000;
      const duplicate = queue.sent.find((m) => m.deduplicationId === deduplicationId && m.sentAt > fiveMinutesAgo);
      if (duplicate) return { MessageId: duplicate.messageId, MD5OfMessageBody: duplicate.md5OfBody };
    }
    const message: SqsMessage = {
      messageId: randomUUID(),
      body: input.MessageBody,
      md5OfBody: md5(input.MessageBody),
      attributes: input.MessageAttributes ?? {},
      messageGroupId: input.MessageGroupId,
      deduplicationId,
      sentBy: caller,
      sentAt: Date.now(),
      receiveCount: 0,
      invisibleUntil: Date.now() + (input.DelaySeconds ?? queue.delaySeconds) * 1000,
    };
    queue.live.push(message);
    queue.sent.push(message);
    const attributesMd5 = Object.keys(message.attributes).length ? md5OfAttributes(message.attributes) : undefined;
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5OfBody,
      ...(attributesMd5 ? { MD5OfMessageAttributes: attributesMd5 } : {}),
      ...(queue.fifo ? { SequenceNumber: String(queue.sent.length).padStart(20, "0") } : {}),
    };
  }

  private receiveMessage(input: Record<string, any>): unknown {
    const queue = this.requireQueue(input.QueueUrl);
    const max = Math.min(Math.max(Number(input.MaxNumberOfMessages ?? 1), 1), 10);
    const visibility = Number(input.VisibilityTimeout ?? queue.visibilityTimeoutSeconds);
    const now = Date.now();
    const taken: SqsMessage[] = [];
    const blockedGroups = new Set(queue.live.filter((m) => m.invisibleUntil > now && m.messageGroupId).map((m) => m.messageGroupId));
    for (const m of queue.live) {
      if (taken.length >= max) break;
      if (m.invisibleUntil > now) continue;
      // FIFO: a group with a message in flight delivers nothing more until that message is deleted or visible again.
      if (queue.fifo && blockedGroups.has(m.messageGroupId)) continue;
      m.receiveCount++;
      m.firstReceivedAt ??= now;
      m.invisibleUntil = now + visibility * 1000;
      m.receiptHandle = Buffer.from(`${m.messageId}:${randomUUID()}`).toString("base64");
      taken.push(m);
      if (queue.fifo) blockedGroups.add(m.messageGroupId);
    }
    const system = new Set<string>([...(input.AttributeNames ?? []), ...(input.MessageSystemAttributeNames ?? [])]);
    const wanted = (name: string) => system.has("All") || system.has(name);
    const named: string[] = input.MessageAttributeNames ?? [];
    const wantedAttribute = (name: string) =>
      named.some((n) => n === "All" || n === ".*" || n === name || (n.endsWith(".*") && name.startsWith(n.slice(0, -1))));
    return {
      Messages: taken.map((m) => {
        const systemAttributes: Record<string, string | undefined> = {
          SenderId: m.sentBy,
          SentTimestamp: String(m.sentAt),
          ApproximateReceiveCount: String(m.receiveCount),
          ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
          MessageGroupId: m.messageGroupId,
          MessageDeduplicationId: queue.fifo ? m.deduplicationId : undefined,
        };
        const attributes = Object.fromEntries(Object.entries(systemAttributes).filter(([k, v]) => v !== undefined && wanted(k)));
        const messageAttributes = Object.fromEntries(Object.entries(m.attributes).filter(([k]) => wantedAttribute(k)));
        return {
          MessageId: m.messageId,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: m.md5OfBody,
          Body: m.body,
          ...(Object.keys(attributes).length ? { Attributes: attributes } : {}),
          ...(Object.keys(messageAttributes).length ? { MessageAttributes: messageAttributes, MD5OfMessageAttributes: md5OfAttributes(messageAttributes) } : {}),
        };
      }),
    };
  }

  private deleteMessage(queue: QueueRecord, receiptHandle: string): void {
    const index = queue.live.findIndex((m) => m.receiptHandle === receiptHandle);
    if (index < 0) throw new ServiceError("ReceiptHandleIsInvalid", `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`, 400);
    queue.live.splice(index, 1);
  }

  private requireQueue(url: string | undefined): QueueRecord {
    const queue = url ? this.find(url) : undefined;
    if (!queue) throw nonExistent();
    return queue;
  }
}

function nonExistent(): ServiceError {
  return new ServiceError("QueueDoesNotExist", "The specified queue does not exist.", 400);
}

function md5(s: string | Buffer): string {
  return createHash("md5").update(s).digest("hex");
}

/** SQS's MD5 of message attributes: sorted names, each length-prefixed name, type, transport byte, value. */
function md5OfAttributes(attributes: SqsMessage["attributes"]): string {
  const parts: Buffer[] = [];
  const lengthPrefixed = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  };
  for (const name of Object.keys(attributes).sort()) {
    const a = attributes[name];
    lengthPrefixed(Buffer.from(name));
    lengthPrefixed(Buffer.from(a.DataType));
    if (a.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      lengthPrefixed(Buffer.from(a.BinaryValue, "base64"));
    } else {
      parts.push(Buffer.from([1]));
      lengthPrefixed(Buffer.from(a.StringValue ?? ""));
    }
  }
  return md5(Buffer.concat(parts));
}
