// Namespace import: lets esbuild drop the parts of zod a bundle does not use (≈90 KB instead of ≈450 KB).
import * as z from "zod";
import { InvalidDocumentError, UnsupportedFormatVersionError } from "./errors";
import { ORDER_STATE_FORMAT_VERSION } from "./format";
import {
  customerIdSchema,
  emailSchema,
  orderIdSchema,
  paymentTokenSchema,
  quantitySchema,
  shipToShape,
  skuSchema,
  text,
} from "./order-schema";
import { describeProblems, fieldPath, plainMessages, problemsOf } from "./validation";

/**
 * The Step Functions state: what each task receives and returns. The workflow places every task's result in the
 * state with ResultPath, so objects are parsed with `z.object` (extra keys stripped): each reader checks what it
 * reads and tolerates what later steps add. A handler only requires the parts of the state it uses.
 */

export const SUPPORTED_STATE_VERSIONS = [ORDER_STATE_FORMAT_VERSION] as const;

const formatVersion = z.literal(ORDER_STATE_FORMAT_VERSION, {
  error: (iss) => (iss.input === undefined ? `is required (this step reads formatVersion ${ORDER_STATE_FORMAT_VERSION})` : "is not supported"),
});

const minorUnits = z.number().int({ error: "must be an integer amount in minor units" }).min(0, { error: "must not be negative" });

export const currencySchema = z.string().regex(/^[A-Z]{3}$/, { error: "must be an ISO 4217 code such as EUR" });

const isoTimestamp = z.iso.datetime({ error: "must be an ISO 8601 UTC timestamp" });

export const OrderLineSchema = z.object({ sku: skuSchema, quantity: quantitySchema, unitPrice: minorUnits });
export type OrderLine = z.output<typeof OrderLineSchema>;

export const ShipToSchema = z.object(shipToShape);
export type ShipTo = z.output<typeof ShipToSchema>;

/** The priced order as it travels through the workflow. */
export const OrderSchema = z.object({
  orderId: orderIdSchema,
  customerId: customerIdSchema,
  email: emailSchema,
  items: z.array(OrderLineSchema).min(1),
  total: minorUnits,
  currency: currencySchema,
  shipTo: ShipToSchema,
  createdAt: isoTimestamp,
});
export type Order = z.output<typeof OrderSchema>;

/** OrderPlacement's result; the workflow replaces the whole state with it. */
export const PlacedOrderStateSchema = z.object({ formatVersion, order: OrderSchema, paymentToken: paymentTokenSchema });
export type PlacedOrderState = z.output<typeof PlacedOrderStateSchema>;

/** The state as every step after OrderPlacement sees it; each step adds its own part (`payment`, `shipment`, …). */
export const OrderStateSchema = z.object({ formatVersion, order: OrderSchema });

/** `$.payment` */
export const PaymentResultSchema = z.object({
  formatVersion,
  chargeId: text(256),
  amount: minorUnits,
  currency: currencySchema,
});
export type PaymentResult = z.output<typeof PaymentResultSchema>;

const SkuQuantitySchema = z.object({ sku: skuSchema, quantity: quantitySchema });
export type SkuQuantity = z.output<typeof SkuQuantitySchema>;

/** `$.reservation` */
export const ReservationResultSchema = z.object({ formatVersion, reserved: z.array(SkuQuantitySchema) });
export type ReservationResult = z.output<typeof ReservationResultSchema>;

/** `$.shipment` */
export const ShipmentResultSchema = z.object({ formatVersion, carrier: text(64), trackingNumber: text(64) });
export type ShipmentResult = z.output<typeof ShipmentResultSchema>;

/** `$.notification` */
export interface NotificationResult {
  readonly formatVersion: typeof ORDER_STATE_FORMAT_VERSION;
  readonly messageId: string;
}

/** `$.refund`; `refundId` is null when the order had no charge to refund. */
export interface RefundResult {
  readonly formatVersion: typeof ORDER_STATE_FORMAT_VERSION;
  readonly refundId: string | null;
  readonly amount: number;
}

/** `$.release` */
export interface ReleaseResult {
  readonly formatVersion: typeof ORDER_STATE_FORMAT_VERSION;
  readonly released: SkuQuantity[];
}

/** The result of the steps that end an order in a failure status. */
export interface OrderOutcome<S extends "PAYMENT_FAILED" | "CANCELLED"> {
  readonly formatVersion: typeof ORDER_STATE_FORMAT_VERSION;
  readonly orderStatus: S;
  readonly reason: string;
}

/**
 * The output of a Step Functions `Catch` (`ResultPath: "$.error"`). Written by the service, not by us, so it has no
 * formatVersion and is read leniently: only `Error` is required.
 */
export const CaughtErrorSchema = z.object({
  Error: z.string({ error: "must be the error name from the Catch output" }),
  Cause: z.string().optional(),
});
export type CaughtError = z.output<typeof CaughtErrorSchema>;

/** Notification reads what Shipping added. */
export const ShippedOrderStateSchema = OrderStateSchema.extend({ shipment: ShipmentResultSchema });

/** HandlePaymentFailure and CancelOrder read the Catch output the workflow put at `$.error`. */
export const FailedOrderStateSchema = OrderStateSchema.extend({ error: CaughtErrorSchema });

/** Reasons are stored on the order and sent to customers; a stack-trace-sized cause is cut here. */
export const MAX_REASON_LENGTH = 500;

/**
 * A human-readable reason from a Catch output. `Cause` is the failed Lambda's error as a JSON string
 * (`{"errorType","errorMessage","trace"}`) for task failures, but plain text for States.* errors (timeouts,
 * permissions), so anything that does not parse is used as text.
 */
export function reasonFromError(error: CaughtError): string {
  let errorType = error.Error;
  let message: string | undefined;
  if (error.Cause !== undefined && error.Cause.trim() !== "") {
    try {
      const cause: unknown = JSON.parse(error.Cause);
      if (typeof cause === "object" && cause !== null) {
        const { errorType: type, errorMessage } = cause as { errorType?: unknown; errorMessage?: unknown };
        if (typeof type === "string" && type !== "") errorType = type;
        if (typeof errorMessage === "string" && errorMessage !== "") message = errorMessage;
      } else if (typeof cause === "string") {
        message = cause;
      }
    } catch {
      message = error.Cause;
    }
  }
  const reason = message === undefined || message === errorType ? errorType : `${errorType}: ${message}`;
  return reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason;
}

/**
 * Parses a state payload at a handler's edge. A `formatVersion` this code does not know, anywhere in the parts it
 * reads, is UnsupportedFormatVersion (checked first: a newer writer's payload is not "malformed"); anything else
 * wrong, a missing formatVersion included, is InvalidDocument with every problem named, e.g. `Shipping event: order.shipTo.country: is required`.
 */
export function parseState<S extends z.ZodType>(schema: S, event: unknown, what: string): z.output<S> {
  const result = schema.safeParse(event, { error: plainMessages });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    if (issue.path[issue.path.length - 1] !== "formatVersion") continue;
    const found = issue.path.reduce<unknown>((value, key) => (value as Record<PropertyKey, unknown> | undefined)?.[key], event);
    // A missing version is a malformed payload (reported below); a different one is a writer we do not understand.
    if (found === undefined) continue;
    const parent = issue.path.slice(0, -1);
    throw new UnsupportedFormatVersionError(parent.length > 0 ? `${what} ${fieldPath(parent)}` : what, found, SUPPORTED_STATE_VERSIONS);
  }
  throw new InvalidDocumentError(`${what}: ${describeProblems(problemsOf(result.error))}`);
}
