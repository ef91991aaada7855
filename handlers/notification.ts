import type { Context } from "aws-lambda";
import { sns } from "./shared/clients";
import { lazyConfig } from "./shared/config";
import { ORDER_STATE_FORMAT_VERSION } from "./shared/format";
import { logger } from "./shared/logger";
import { OrderEventType, publishOrderEvent } from "./shared/notify";
import { ShippedOrderStateSchema, parseState, type NotificationResult } from "./shared/order-state";

const config = lazyConfig(["NOTIFICATIONS_TOPIC_ARN"]);

/** Announces the completed order on the notifications topic (at least once; see shared/notify.ts). */
export async function handler(event: unknown, context?: Context): Promise<NotificationResult> {
  if (context !== undefined) logger.addContext(context);
  const { NOTIFICATIONS_TOPIC_ARN } = config();
  const { order, shipment } = parseState(ShippedOrderStateSchema, event, "Notification event");

  const messageId = await publishOrderEvent(
    sns,
    NOTIFICATIONS_TOPIC_ARN,
    OrderEventType.OrderCompleted,
    {
      orderId: order.orderId,
      customerId: order.customerId,
      email: order.email,
      total: order.total,
      currency: order.currency,
      carrier: shipment.carrier,
      trackingNumber: shipment.trackingNumber,
    },
    new Date().toISOString(),
  );
  logger.info("order completion announced", { orderId: order.orderId, messageId });
  return { formatVersion: ORDER_STATE_FORMAT_VERSION, messageId };
}
