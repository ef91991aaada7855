import type { Context } from "aws-lambda";
import { endFailedOrder } from "./shared/end-order";
import { OrderEventType } from "./shared/notify";
import type { OrderOutcome } from "./shared/order-state";
import { OrderStatus } from "./shared/orders-repository";

/** Last step of the compensation (after refund and release): CANCELLED with the reason, then an OrderCancelled event. */
export async function handler(event: unknown, context?: Context): Promise<OrderOutcome<"CANCELLED">> {
  return endFailedOrder({ step: "CancelOrder", status: OrderStatus.Cancelled, eventType: OrderEventType.OrderCancelled, logMessage: "order cancelled" }, event, context);
}
