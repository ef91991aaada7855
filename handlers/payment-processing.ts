import type { Context } from "aws-lambda";
import { ssm } from "./shared/clients";
import { lazyConfig } from "./shared/config";
import { ORDER_STATE_FORMAT_VERSION } from "./shared/format";
import { logger } from "./shared/logger";
import { PlacedOrderStateSchema, parseState, type PaymentResult } from "./shared/order-state";
import { paymentGatewayFromConfig } from "./shared/payment-gateway-client";
import { secureParameterCache } from "./shared/secure-parameter";

const config = lazyConfig(["PAYMENT_GATEWAY_URL", "PAYMENT_KEY_PARAMETER", "PAYMENT_TIMEOUT_MS"]);
const secrets = secureParameterCache(ssm);

/**
 * Charges the order total with the client's payment token. The charge's Idempotency-Key is `charge-<orderId>`, so
 * the workflow may retry PaymentGatewayUnavailable freely. Declines → PaymentFailedError.
 */
export async function handler(event: unknown, context?: Context): Promise<PaymentResult> {
  if (context !== undefined) logger.addContext(context);
  const gateway = paymentGatewayFromConfig(config(), secrets);
  const { order, paymentToken } = parseState(PlacedOrderStateSchema, event, "PaymentProcessing event");

  const charge = await gateway.charge({
    orderId: order.orderId,
    amount: order.total,
    currency: order.currency,
    token: paymentToken,
  });
  logger.info("payment charged", { orderId: order.orderId, chargeId: charge.chargeId, amount: charge.amount, currency: charge.currency });
  return { formatVersion: ORDER_STATE_FORMAT_VERSION, chargeId: charge.chargeId, amount: charge.amount, currency: charge.currency };
}
