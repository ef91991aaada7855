import type { Context } from "aws-lambda";
import { lazyConfig } from "./shared/config";
import { dynamo } from "./shared/dynamo";
import { ShippingFailedError } from "./shared/errors";
import { ORDER_STATE_FORMAT_VERSION } from "./shared/format";
import { logger } from "./shared/logger";
import { OrderStateSchema, parseState, type ShipmentResult } from "./shared/order-state";
import { OrderStatus, OrdersRepository } from "./shared/orders-repository";
import { ShipmentsRepository, carrierFor, trackingNumberFor } from "./shared/shipments";

const config = lazyConfig(["ORDERS_TABLE", "SHIPMENTS_TABLE", "SUPPORTED_SHIP_COUNTRIES"]);

/**
 * Books the shipment (one per order; carrier by country, tracking number derived from the orderId, so a retry
 * books the same one) and marks the order COMPLETED. An unsupported destination → ShippingFailedError, before
 * anything is written.
 */
export async function handler(event: unknown, context?: Context): Promise<ShipmentResult> {
  if (context !== undefined) logger.addContext(context);
  const { ORDERS_TABLE, SHIPMENTS_TABLE, SUPPORTED_SHIP_COUNTRIES } = config();
  const { order } = parseState(OrderStateSchema, event, "Shipping event");
  const { country } = order.shipTo;

  if (!SUPPORTED_SHIP_COUNTRIES.includes(country)) {
    throw new ShippingFailedError(
      `cannot ship order "${order.orderId}" to ${country}: supported destinations are ${SUPPORTED_SHIP_COUNTRIES.join(", ")}`,
    );
  }

  const now = new Date().toISOString();
  const { record, created } = await new ShipmentsRepository(dynamo, SHIPMENTS_TABLE).createOnce({
    orderId: order.orderId,
    carrier: carrierFor(country),
    trackingNumber: trackingNumberFor(order.orderId),
    createdAt: now,
  });
  await new OrdersRepository(dynamo, ORDERS_TABLE).transition(order.orderId, OrderStatus.Completed, now);

  logger.info(created ? "shipment booked; order completed" : "shipment already booked; order completed", {
    orderId: order.orderId,
    carrier: record.carrier,
    trackingNumber: record.trackingNumber,
  });
  return { formatVersion: ORDER_STATE_FORMAT_VERSION, carrier: record.carrier, trackingNumber: record.trackingNumber };
}
