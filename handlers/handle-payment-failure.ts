import type { Context } from "aws-lambda";
import { endFailedOrder } from "./shared/end-order";
import { OrderEventType } from "./shared/notify";
import type { OrderOutcome } from "./shared/order-state";
import { OrderStatus } from "./shared/orders-repository";

/** Ends an order whose payment failed: PAYMENT_FAILED with the reason, then a PaymentFailed event. */
export async function handler(event: unknown, context?: Context): Promise<OrderOutcome<"PAYMENT_FAILED">> {
  return endFailedOrder({ step: "HandlePaymentFailure", status: OrderStatus.PaymentFailed, eventType: OrderEventType.PaymentFailed, logMessage: "order payment failed" }, event, context);
}
