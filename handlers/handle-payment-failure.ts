import type { Context } from "aws-lambda";
import { sns } from "./shared/clients";
import { lazyConfig } from "./shared/config";
import { dynamo } from "./shared/dynamo";
import { ORDER_STATE_FORMAT_VERSION } from "./shared/format";
import { logger } from "./shared/logger";
import { OrderEventType, publishOrderEvent } from "./shared/notify";
import { FailedOrderStateSchema, parseState, reasonFromError, type OrderOutcome } from "./shared/order-state";
import { OrderStatus, OrdersRepository } from "./shared/orders-repository";

const config = lazyConfig(["ORDERS_TABLE", "NOTIFICATIONS_TOPIC_ARN"]);

/**
 * Ends an order whose payment failed: PAYMENT_FAILED with the reason from the caught error, then a PaymentFailed
 * event. A repeat is a no-op update and publishes again (subscribers deduplicate on eventId), so a crash between
 * the two writes cannot lose the notification.
 */
export async function handler(event: unknown, context?: Context): Promise<OrderOutcome<"PAYMENT_FAILED">> {
  if (context !== undefined) logger.addContext(context);
  const { ORDERS_TABLE, NOTIFICATIONS_TOPIC_ARN } = config();
  const { order, error } = parseState(FailedOrderStateSchema, event, "HandlePaymentFailure event");
  const reason = reasonFromError(error);
  const now = new Date().toISOString();

  const change = await new OrdersRepository(dynamo, ORDERS_TABLE).transition(order.orderId, OrderStatus.PaymentFailed, now, reason);
  await publishOrderEvent(
    sns,
    NOTIFICATIONS_TOPIC_ARN,
    OrderEventType.PaymentFailed,
    {
      orderId: order.orderId,
      customerId: order.customerId,
      email: order.email,
      total: order.total,
      currency: order.currency,
      reason,
    },
    now,
  );
  logger.warn("order payment failed", { orderId: order.orderId, reason, change });
  return { formatVersion: ORDER_STATE_FORMAT_VERSION, orderStatus: OrderStatus.PaymentFailed, reason };
}
