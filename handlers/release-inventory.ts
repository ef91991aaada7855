import type { Context } from "aws-lambda";
import { lazyConfig } from "./shared/config";
import { dynamo } from "./shared/dynamo";
import { ORDER_STATE_FORMAT_VERSION } from "./shared/format";
import { InventoryRepository } from "./shared/inventory-repository";
import { logger } from "./shared/logger";
import { OrderStateSchema, parseState, type ReleaseResult } from "./shared/order-state";

const config = lazyConfig(["INVENTORY_TABLE"]);

/**
 * Compensation: gives back the stock this order holds, line by line. `released` lists every line of the order —
 * none of them is held any more — so a repeat returns the same result; lines that were not held (never reserved,
 * or released before) are left untouched.
 */
export async function handler(event: unknown, context?: Context): Promise<ReleaseResult> {
  if (context !== undefined) logger.addContext(context);
  const { INVENTORY_TABLE } = config();
  const { order } = parseState(OrderStateSchema, event, "ReleaseInventory event");

  const changed = await new InventoryRepository(dynamo, INVENTORY_TABLE).releaseLines(order.orderId, order.items);
  logger.info("stock released", { orderId: order.orderId, releasedNow: changed.map((line) => line.sku) });
  return {
    formatVersion: ORDER_STATE_FORMAT_VERSION,
    released: order.items.map(({ sku, quantity }) => ({ sku, quantity })),
  };
}
