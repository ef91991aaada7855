import type { Context } from "aws-lambda";
import { lazyConfig } from "./shared/config";
import { dynamo } from "./shared/dynamo";
import { ORDER_STATE_FORMAT_VERSION } from "./shared/format";
import { InventoryRepository } from "./shared/inventory-repository";
import { logger } from "./shared/logger";
import { OrderStateSchema, parseState, type ReservationResult } from "./shared/order-state";

const config = lazyConfig(["INVENTORY_TABLE"]);

/**
 * Reserves stock for every line of the order. A shortage releases what the order holds and throws
 * OutOfStockError naming the SKU; a retry after a partial success reserves nothing twice.
 */
export async function handler(event: unknown, context?: Context): Promise<ReservationResult> {
  if (context !== undefined) logger.addContext(context);
  const { INVENTORY_TABLE } = config();
  const { order } = parseState(OrderStateSchema, event, "InventoryManagement event");

  const reserved = await new InventoryRepository(dynamo, INVENTORY_TABLE).reserveLines(order.orderId, order.items);
  logger.info("stock reserved", { orderId: order.orderId, lines: reserved.length });
  return { formatVersion: ORDER_STATE_FORMAT_VERSION, reserved };
}
