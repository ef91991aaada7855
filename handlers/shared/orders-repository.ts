import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
// Namespace import: lets esbuild drop the parts of zod a bundle does not use (≈90 KB instead of ≈450 KB).
import * as z from "zod";
import { InvalidDocumentError, InvalidOrderTransitionError, UnsupportedFormatVersionError } from "./errors";
import { ORDER_STATE_FORMAT_VERSION } from "./format";
import { isConditionalCheckFailed } from "./dynamo";
import { OrderSchema, type Order } from "./order-state";
import { describeProblems, plainMessages, problemsOf } from "./validation";

export const OrderStatus = {
  Placed: "PLACED",
  Completed: "COMPLETED",
  PaymentFailed: "PAYMENT_FAILED",
  Cancelled: "CANCELLED",
  Rejected: "REJECTED",
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

/** The statuses a PLACED order may move to. REJECTED is only ever written when the order is created. */
export type OrderTransitionTarget = typeof OrderStatus.Completed | typeof OrderStatus.PaymentFailed | typeof OrderStatus.Cancelled;

const formatVersion = z.literal(ORDER_STATE_FORMAT_VERSION);

const AcceptedOrderRecordSchema = OrderSchema.extend({
  status: z.enum([OrderStatus.Placed, OrderStatus.Completed, OrderStatus.PaymentFailed, OrderStatus.Cancelled]),
  updatedAt: z.string(),
  reason: z.string().optional(),
  formatVersion,
});

/** A rejected order is recorded with only what is known to be valid: its id and why. */
const RejectedOrderRecordSchema = z.object({
  orderId: z.string(),
  status: z.literal(OrderStatus.Rejected),
  reason: z.string(),
  createdAt: z.string(),
  formatVersion,
});

export type AcceptedOrderRecord = z.output<typeof AcceptedOrderRecordSchema>;
export type RejectedOrderRecord = z.output<typeof RejectedOrderRecordSchema>;
export type OrderRecord = AcceptedOrderRecord | RejectedOrderRecord;

/** The orders table (key `orderId`). Every status change is a conditional write; see `transition`. */
export class OrdersRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Strongly consistent: used right after a conditional write failed, to learn what won. */
  async get(orderId: string): Promise<OrderRecord | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { orderId }, ConsistentRead: true }));
    return Item === undefined ? undefined : parseOrderRecord(Item);
  }

  /** Stores a new PLACED order; `"exists"` when the orderId is already taken (a repeat or a concurrent submission). */
  async createPlaced(order: Order, now: string): Promise<"created" | "exists"> {
    const item: AcceptedOrderRecord = {
      ...order,
      status: OrderStatus.Placed,
      updatedAt: now,
      formatVersion: ORDER_STATE_FORMAT_VERSION,
    };
    return this.putIfAbsent(item);
  }

  /** Records a rejection; writes nothing when the orderId is already taken (an existing order is never overwritten). */
  async createRejected(orderId: string, reason: string, now: string): Promise<"created" | "exists"> {
    const item: RejectedOrderRecord = {
      orderId,
      status: OrderStatus.Rejected,
      reason,
      createdAt: now,
      formatVersion: ORDER_STATE_FORMAT_VERSION,
    };
    return this.putIfAbsent(item);
  }

  /**
   * Moves a PLACED order to `to`. Repeating the same move is a no-op (`"unchanged"`), so a retried step succeeds;
   * any other move away from a final status throws InvalidOrderTransitionError.
   *
   * Only UpdateItem is used (the functions that end orders are granted nothing else): when the move is refused,
   * DynamoDB returns the current item with the error (ReturnValuesOnConditionCheckFailure; the local cloud adds it to
   * dynalite's answer). Without an item — there is none, or an emulator left it out — a second update asks "is it
   * already `to`?" by writing the same status under that condition — no data changes, so no stream record either.
   */
  async transition(orderId: string, to: OrderTransitionTarget, now: string, reason?: string): Promise<"changed" | "unchanged"> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { orderId },
          UpdateExpression: `SET #status = :to, updatedAt = :now${reason === undefined ? "" : ", #reason = :reason"}`,
          ConditionExpression: "#status = :placed",
          ExpressionAttributeNames: { "#status": "status", ...(reason === undefined ? {} : { "#reason": "reason" }) },
          ExpressionAttributeValues: {
            ":to": to,
            ":now": now,
            ":placed": OrderStatus.Placed,
            ...(reason === undefined ? {} : { ":reason": reason }),
          },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return "changed";
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      // The raw item (AttributeValue form): the DocumentClient does not unmarshall errors.
      const current = (error as { Item?: { status?: { S?: string } } }).Item?.status?.S;
      if (current === to) return "unchanged";
      if (current !== undefined) throw refused(orderId, to, `is ${current}`);
    }
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { orderId },
          UpdateExpression: "SET #status = :to",
          ConditionExpression: "#status = :to",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":to": to },
        }),
      );
      return "unchanged";
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      throw refused(orderId, to, "does not exist or is in another final status");
    }
  }

  private async putIfAbsent(item: OrderRecord): Promise<"created" | "exists"> {
    try {
      await this.db.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: "attribute_not_exists(orderId)" }),
      );
      return "created";
    } catch (error) {
      if (isConditionalCheckFailed(error)) return "exists";
      throw error;
    }
  }
}

function refused(orderId: string, to: OrderTransitionTarget, state: string): InvalidOrderTransitionError {
  return new InvalidOrderTransitionError(
    `order "${orderId}" ${state} and cannot become ${to}; only ${OrderStatus.Placed} orders change status`,
  );
}

function parseOrderRecord(item: Record<string, unknown>): OrderRecord {
  const what = `orders item ${JSON.stringify(item.orderId)}`;
  if (item.formatVersion !== ORDER_STATE_FORMAT_VERSION) {
    throw new UnsupportedFormatVersionError(what, item.formatVersion, [ORDER_STATE_FORMAT_VERSION]);
  }
  const schema = item.status === OrderStatus.Rejected ? RejectedOrderRecordSchema : AcceptedOrderRecordSchema;
  const result = schema.safeParse(item, { error: plainMessages });
  if (!result.success) throw new InvalidDocumentError(`${what}: ${describeProblems(problemsOf(result.error))}`);
  return result.data;
}

/** The order as it travels in the workflow state: the stored record without status bookkeeping. */
export function orderFromRecord(record: AcceptedOrderRecord): Order {
  const { orderId, customerId, email, items, total, currency, shipTo, createdAt } = record;
  return { orderId, customerId, email, items, total, currency, shipTo, createdAt };
}
