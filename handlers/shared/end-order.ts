import type { Context } from "aws-lambda";
import { sns } from "./clients";
import { lazyConfig } from "./config";
import { dynamo } from "./dynamo";
import { ORDER_STATE_FORMAT_VERSION } from "./format";
import { logger } from "./logger";
import { OrderEventType, publishOrderEvent } from "./notify";
import { FailedOrderStateSchema, parseState, reasonFromError, type OrderOutcome } from "./order-state";
import { OrderStatus, OrdersRepository } from "./orders-repository";

const config = lazyConfig(["ORDERS_TABLE", "NOTIFICATIONS_TOPIC_ARN"]);

type FailedStatus = typeof OrderStatus.PaymentFailed | typeof OrderStatus.Cancelled;

/** What distinguishes the two ways an order ends unsuccessfully after the workflow caught an error. */
export interface FailedEnding<S extends FailedStatus> {
  readonly step: string;
  readonly status: S;
  readonly eventType: (typeof OrderEventType)[keyof typeof OrderEventType];
  readonly logMessage: string;
}

/**
 * Records the terminal status with the reason from the caught error, then publishes the customer event. A repeat is
 * a no-op update and publishes again (subscribers deduplicate on eventId), so a crash between the two writes cannot
 * lose the notification.
 */
export async function endFailedOrder<S extends FailedStatus>(ending: FailedEnding<S>, event: unknown, context?: Context): Promise<OrderOutcome<S>> {
  if (context !== undefined) logger.addContext(context);
  const { ORDERS_TABLE, NOTIFICATIONS_TOPIC_ARN } = config();
  const { order, error } = parseState(FailedOrderStateSchema, event, `${ending.step} event`);
  const reason = reasonFromError(error);
  const now = new Date().toISOString();
  const change = await new OrdersRepository(dynamo, ORDERS_TABLE).transition(order.orderId, ending.status, now, reason);
  await publishOrderEvent(
    sns,
    NOTIFICATIONS_TOPIC_ARN,
    ending.eventType,
    { orderId: order.orderId, customerId: order.customerId, email: order.email, total: order.total, currency: order.currency, reason },
    now,
  );
  logger.warn(ending.logMessage, { orderId: order.orderId, reason, change });
  return { formatVersion: ORDER_STATE_FORMAT_VERSION, orderStatus: ending.status, reason } as OrderOutcome<S>;
}
