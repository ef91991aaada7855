import type { Context } from "aws-lambda";
import { ssm } from "./shared/clients";
import { lazyConfig } from "./shared/config";
import { ORDER_STATE_FORMAT_VERSION } from "./shared/format";
import { logger } from "./shared/logger";
import { OrderStateSchema, parseState, type RefundResult } from "./shared/order-state";
import { paymentGatewayFromConfig } from "./shared/payment-gateway-client";
import { secureParameterCache } from "./shared/secure-parameter";

const config = lazyConfig(["PAYMENT_GATEWAY_URL", "PAYMENT_KEY_PARAMETER", "PAYMENT_TIMEOUT_MS"]);
const secrets = secureParameterCache(ssm);

/**
 * Compensation: refunds whatever the order was charged. It asks by orderId rather than using `$.payment`, because
 * after a timed-out charge the state has no payment although the gateway may have charged; the gateway answers
 * `refundId: null` when there was no charge. Idempotency-Key `refund-<orderId>` makes retries safe.
 */
export async function handler(event: unknown, context?: Context): Promise<RefundResult> {
  if (context !== undefined) logger.addContext(context);
  const gateway = paymentGatewayFromConfig(config(), secrets);
  const { order } = parseState(OrderStateSchema, event, "RefundPayment event");

  const refund = await gateway.refund(order.orderId);
  logger.info(refund.refundId === null ? "nothing to refund: the order has no charge" : "payment refunded", {
    orderId: order.orderId,
    refundId: refund.refundId,
    amount: refund.amount,
  });
  return { formatVersion: ORDER_STATE_FORMAT_VERSION, refundId: refund.refundId, amount: refund.amount };
}
