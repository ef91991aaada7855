import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { NOTIFICATION_FORMAT_VERSION } from "./format";

export const OrderEventType = {
  OrderCompleted: "OrderCompleted",
  PaymentFailed: "PaymentFailed",
  OrderCancelled: "OrderCancelled",
} as const;
export type OrderEventType = (typeof OrderEventType)[keyof typeof OrderEventType];

/** Fields every order event carries besides `formatVersion`, `type` and `occurredAt`. */
export interface OrderEventFields {
  readonly orderId: string;
  readonly [field: string]: unknown;
}

/**
 * Publishes an order event to the notifications topic: a JSON body with `formatVersion`, `type` and `occurredAt`,
 * and the same facts as message attributes so subscriptions can filter without parsing the body.
 *
 * SNS standard topics deliver at least once, and a retried step publishes again, so subscribers deduplicate on the
 * `eventId` attribute (`<orderId>#<type>`), which is the same for every copy of one event. `occurredAt` is the time
 * of this publication and may differ between copies.
 */
export async function publishOrderEvent(
  client: SNSClient,
  topicArn: string,
  type: OrderEventType,
  fields: OrderEventFields,
  occurredAt: string,
): Promise<string> {
  const body = { formatVersion: NOTIFICATION_FORMAT_VERSION, type, ...fields, occurredAt };
  const { MessageId } = await client.send(
    new PublishCommand({
      TopicArn: topicArn,
      Message: JSON.stringify(body),
      MessageAttributes: {
        formatVersion: { DataType: "Number", StringValue: String(NOTIFICATION_FORMAT_VERSION) },
        type: { DataType: "String", StringValue: type },
        eventId: { DataType: "String", StringValue: `${fields.orderId}#${type}` },
      },
    }),
  );
  if (MessageId === undefined) throw new Error(`SNS returned no MessageId for ${type} of order "${fields.orderId}"`);
  return MessageId;
}
