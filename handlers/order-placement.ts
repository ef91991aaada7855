import type { Context } from "aws-lambda";
import { InvalidDocumentError, OrderRejectedError } from "./shared/errors";
import { ORDER_STATE_FORMAT_VERSION } from "./shared/format";
import { lazyConfig } from "./shared/config";
import { dynamo } from "./shared/dynamo";
import { InventoryRepository, type CatalogueItem } from "./shared/inventory-repository";
import { logger } from "./shared/logger";
import { parseOrderInput, type OrderInput } from "./shared/order-schema";
import type { Order, OrderLine, PlacedOrderState } from "./shared/order-state";
import { OrderStatus, OrdersRepository, orderFromRecord, type AcceptedOrderRecord } from "./shared/orders-repository";
import { describeProblems, type Problem } from "./shared/validation";

const config = lazyConfig(["ORDERS_TABLE", "INVENTORY_TABLE", "CURRENCY", "SUPPORTED_SHIP_COUNTRIES"]);

/**
 * Validates the client's order, prices it from the catalogue and stores it as PLACED. The result replaces the
 * workflow state. Everything that can be known before the card is charged is checked here, so an order that could
 * never ship is refused instead of charged and refunded: the input itself, the destination (a country we ship to),
 * the currency (if the client names one, the store's), the catalogue (every SKU exists, with enough stock now).
 * Any of these → OrderRejectedError, recorded as a REJECTED order when the orderId itself is usable, naming every
 * field that is wrong. Submitting the same order again returns the stored order: one orderId, one order.
 *
 * Stock can still run out between here and InventoryManagement (another order may take it first): that case is
 * compensated after payment, and Shipping keeps its own destination check for a configuration changed in between.
 */
export async function handler(event: unknown, context?: Context): Promise<PlacedOrderState> {
  if (context !== undefined) logger.addContext(context);
  const { ORDERS_TABLE, INVENTORY_TABLE, CURRENCY, SUPPORTED_SHIP_COUNTRIES } = config();
  const orders = new OrdersRepository(dynamo, ORDERS_TABLE);

  const parsed = parseOrderInput(event);
  if (!parsed.ok) {
    // Recorded against the orderId when it is usable; an existing order under that id is never overwritten.
    if (parsed.orderId !== undefined) await orders.createRejected(parsed.orderId, parsed.reason, new Date().toISOString());
    throw rejected(parsed.orderId, parsed.problems);
  }
  const input = parsed.order;

  const catalogue = await new InventoryRepository(dynamo, INVENTORY_TABLE).getItems(input.items.map((line) => line.sku));
  const priced = price(input, catalogue, CURRENCY, SUPPORTED_SHIP_COUNTRIES);
  if (!priced.ok) {
    const written = await orders.createRejected(input.orderId, describeProblems(priced.problems), new Date().toISOString());
    // The orderId may already hold this very order (a repeat after a SKU left the catalogue): answer with it.
    if (written === "exists") return existingOrder(orders, input);
    throw rejected(input.orderId, priced.problems);
  }

  const now = new Date().toISOString();
  const order: Order = {
    orderId: input.orderId,
    customerId: input.customerId,
    email: input.email,
    items: priced.items,
    total: priced.total,
    currency: CURRENCY,
    shipTo: input.shipTo,
    createdAt: now,
  };
  if ((await orders.createPlaced(order, now)) === "exists") return existingOrder(orders, input);

  logger.info("order placed", { orderId: order.orderId, total: order.total, currency: order.currency, lines: order.items.length });
  // The payment token travels in the state for the next step only; it is never stored.
  return { formatVersion: ORDER_STATE_FORMAT_VERSION, order, paymentToken: input.payment.token };
}

type Priced = { ok: true; items: OrderLine[]; total: number } | { ok: false; problems: Problem[] };

/**
 * Prices come only from the catalogue, in the store currency; the order must be one the store can fulfil. Every
 * problem is reported at once, each naming its field.
 */
function price(input: OrderInput, catalogue: ReadonlyMap<string, CatalogueItem>, currency: string, shipCountries: readonly string[]): Priced {
  const problems: Problem[] = [];
  const items: OrderLine[] = [];
  if (input.currency !== undefined && input.currency !== currency) {
    problems.push({ field: "currency", message: `the store sells in ${currency} only, got ${input.currency}` });
  }
  if (!shipCountries.includes(input.shipTo.country)) {
    problems.push({ field: "shipTo.country", message: `we do not ship to ${input.shipTo.country}; supported destinations: ${shipCountries.join(", ")}` });
  }
  input.items.forEach(({ sku, quantity }, index) => {
    const item = catalogue.get(sku);
    if (item === undefined) {
      problems.push({ field: `items[${index}].sku`, message: `unknown SKU "${sku}"` });
      return;
    }
    if (item.currency !== currency) {
      // The catalogue is wrong, not the customer: fail loudly instead of rejecting the order.
      throw new InvalidDocumentError(`inventory item "${sku}": priced in ${item.currency}, but the store sells in ${currency}`);
    }
    if (item.stock < quantity) {
      problems.push({ field: `items[${index}].quantity`, message: `${quantity} of "${sku}" requested, ${item.stock} in stock` });
      return;
    }
    items.push({ sku, quantity, unitPrice: item.price });
  });
  if (problems.length > 0) return { ok: false, problems };
  const total = items.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
  if (!Number.isSafeInteger(total)) return { ok: false, problems: [{ field: "items", message: "the order total is too large to charge" }] };
  return { ok: true, items, total };
}

function rejected(orderId: string | undefined, problems: readonly Problem[]): OrderRejectedError {
  const reason = describeProblems(problems);
  logger.warn("order rejected", { orderId, reason });
  return new OrderRejectedError(reason, problems[0]?.field);
}

/**
 * The orderId is taken. The same order (same customer, e-mail, lines and address) in PLACED or COMPLETED is
 * returned as is — a repeat must not become a second order. Anything else is refused:
 *   REJECTED → the original rejection again;
 *   PAYMENT_FAILED / CANCELLED → refused, because running the workflow again would reserve stock that the
 *     compensation already released;
 *   different content → refused: one orderId names one order.
 */
async function existingOrder(orders: OrdersRepository, input: OrderInput): Promise<PlacedOrderState> {
  const existing = await orders.get(input.orderId);
  if (existing === undefined) {
    // Taken by the conditional write, gone on the read: someone deleted it in between. Let the step retry.
    throw new Error(`order "${input.orderId}" was being created concurrently and then disappeared; retry`);
  }
  if (existing.status === OrderStatus.Rejected) throw new OrderRejectedError(existing.reason);
  if (!sameOrder(existing, input)) {
    throw new OrderRejectedError(
      `orderId: order "${input.orderId}" already exists with different content; submit a new orderId`,
      "orderId",
    );
  }
  if (existing.status === OrderStatus.PaymentFailed || existing.status === OrderStatus.Cancelled) {
    throw new OrderRejectedError(
      `orderId: order "${input.orderId}" already ended as ${existing.status}${existing.reason ? ` (${existing.reason})` : ""}; submit a new orderId`,
      "orderId",
    );
  }
  logger.info("order already placed; returning it", { orderId: input.orderId, status: existing.status });
  return { formatVersion: ORDER_STATE_FORMAT_VERSION, order: orderFromRecord(existing), paymentToken: input.payment.token };
}

/** Prices are not compared: the stored prices were fixed when the order was placed. */
function sameOrder(existing: AcceptedOrderRecord, input: OrderInput): boolean {
  const content = (order: Pick<OrderInput, "customerId" | "email" | "shipTo"> & { items: readonly { sku: string; quantity: number }[] }) =>
    JSON.stringify([
      order.customerId,
      order.email,
      order.items.map(({ sku, quantity }) => [sku, quantity]),
      [order.shipTo.name, order.shipTo.line1, order.shipTo.city, order.shipTo.postalCode, order.shipTo.country],
    ]);
  return content(existing) === content(input);
}
