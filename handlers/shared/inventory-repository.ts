import { BatchGetCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { setTimeout as sleep } from "node:timers/promises";
// Namespace import: lets esbuild drop the parts of zod a bundle does not use (≈90 KB instead of ≈450 KB).
import * as z from "zod";
import { InvalidDocumentError, OutOfStockError } from "./errors";
import { isConditionalCheckFailed, isInvalidDocumentPath } from "./dynamo";
import { logger } from "./logger";
import type { SkuQuantity } from "./order-state";
import { describeProblems, plainMessages, problemsOf } from "./validation";

/** BatchGetItem may leave keys unprocessed under throttling; they are asked for again this many times. */
const BATCH_GET_ATTEMPTS = 5;
/** A reserve that loses a race with another order's update is re-tried this many times before giving up. */
const RESERVE_ATTEMPTS = 4;

const CatalogueItemSchema = z.object({
  sku: z.string(),
  name: z.string().optional(),
  stock: z.number().int().min(0),
  price: z.number().int().min(0),
  currency: z.string().regex(/^[A-Z]{3}$/),
  reservations: z.record(z.string(), z.number()).optional(),
});
export type CatalogueItem = z.output<typeof CatalogueItemSchema>;

/**
 * The inventory table (the catalogue, key `sku`). Stock is reserved per order with single-item conditional updates
 * — the local DynamoDB (dynalite) has no transactions — and each item keeps `reservations: { [orderId]: quantity }`
 * so a retried step can tell "already reserved by this order" from "another order took the stock".
 *
 * Item size: reservation entries stay on the item after the order COMPLETES (they are the idempotency record for a
 * re-run of the workflow), at roughly 70 bytes each (orderId ≤ 64 + number). DynamoDB's 400 KB item limit therefore
 * caps a SKU at about 5,000 reservations; beyond that the reserve update fails with a ValidationException. Entries
 * of finished orders must be pruned (e.g. a periodic sweep removing those older than the workflow's longest
 * execution) or moved to an (sku, orderId) reservations table once transactions are available everywhere.
 */
export class InventoryRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Waits between BatchGetItem attempts; tests pass one that records the delays instead of waiting. */
    private readonly pause: (ms: number) => Promise<unknown> = sleep,
  ) {}

  /** The catalogue entries for `skus`; SKUs not in the catalogue are absent from the map. At most 100 SKUs. */
  async getItems(skus: readonly string[]): Promise<Map<string, CatalogueItem>> {
    const found = new Map<string, CatalogueItem>();
    let keys: Record<string, unknown>[] = [...new Set(skus)].map((sku) => ({ sku }));
    for (let attempt = 1; keys.length > 0; attempt++) {
      if (attempt > BATCH_GET_ATTEMPTS) {
        throw new Error(`${this.tableName}: ${keys.length} catalogue keys still unprocessed after ${BATCH_GET_ATTEMPTS} BatchGetItem attempts`);
      }
      if (attempt > 1) await this.pause(25 * 2 ** attempt);
      const { Responses, UnprocessedKeys } = await this.db.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }),
      );
      for (const item of Responses?.[this.tableName] ?? []) {
        const parsed = parseCatalogueItem(item);
        found.set(parsed.sku, parsed);
      }
      keys = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return found;
  }

  /**
   * Reserves every line for `orderId`, in order. Lines this order already holds count as reserved, so a retry
   * decrements nothing twice. On a shortage every line of the order is released again (releasing a line it does
   * not hold is a no-op) and OutOfStockError names the SKU.
   */
  async reserveLines(orderId: string, lines: readonly SkuQuantity[]): Promise<SkuQuantity[]> {
    for (const line of lines) {
      const shortage = await this.reserve(orderId, line);
      if (shortage !== undefined) {
        await this.releaseLines(orderId, lines);
        throw new OutOfStockError(shortage, line.sku);
      }
    }
    return lines.map(({ sku, quantity }) => ({ sku, quantity }));
  }

  /**
   * Releases this order's reservation on every line; a line it does not hold (never reserved, or already released)
   * is left alone. Returns the lines that were released by this call.
   */
  async releaseLines(orderId: string, lines: readonly SkuQuantity[]): Promise<SkuQuantity[]> {
    const outcomes = await Promise.allSettled(lines.map((line) => this.release(orderId, line)));
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    return lines.filter((_, index) => (outcomes[index] as PromiseFulfilledResult<boolean>).value);
  }

  /** Undefined when reserved (now or earlier); otherwise why the line cannot be reserved. */
  private async reserve(orderId: string, { sku, quantity }: SkuQuantity): Promise<string | undefined> {
    let initialized = false;
    for (let attempt = 1; attempt <= RESERVE_ATTEMPTS; attempt++) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { sku },
            UpdateExpression: "SET stock = stock - :q, reservations.#oid = :q",
            ConditionExpression: "stock >= :q AND attribute_not_exists(reservations.#oid)",
            ExpressionAttributeNames: { "#oid": orderId },
            ExpressionAttributeValues: { ":q": quantity },
          }),
        );
        return undefined;
      } catch (error) {
        if (isInvalidDocumentPath(error)) {
          if (initialized) throw new InvalidDocumentError(`inventory item "${sku}": reservations must be a map of orderId to quantity`);
          // The item has no `reservations` map yet (seeded items carry `{}`, hand-written ones may not).
          await this.initReservations(sku);
          initialized = true;
          continue;
        }
        if (!isConditionalCheckFailed(error)) throw error;
      }
      const item = await this.getItem(sku);
      if (item === undefined) return `sku "${sku}" is no longer in the catalogue`;
      if (item.reservations?.[orderId] !== undefined) {
        logger.info("line already reserved by this order", { orderId, sku, quantity: item.reservations[orderId] });
        return undefined;
      }
      if (item.stock < quantity) return `sku "${sku}": ${quantity} requested, ${item.stock} in stock`;
      // Enough stock and not reserved: another order's update landed between our write and our read. Try again.
    }
    throw new Error(`sku "${sku}": could not reserve ${quantity} for order "${orderId}" after ${RESERVE_ATTEMPTS} attempts (contention)`);
  }

  /** True when this call released the reservation; false when the order held none (already released). */
  private async release(orderId: string, { sku, quantity }: SkuQuantity): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { sku },
          UpdateExpression: "SET stock = stock + :q REMOVE reservations.#oid",
          ConditionExpression: "reservations.#oid = :q",
          ExpressionAttributeNames: { "#oid": orderId },
          ExpressionAttributeValues: { ":q": quantity },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private async initReservations(sku: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { sku },
          UpdateExpression: "SET reservations = if_not_exists(reservations, :empty)",
          // Without it an update of a deleted SKU would create a stock-less item.
          ConditionExpression: "attribute_exists(sku)",
          ExpressionAttributeValues: { ":empty": {} },
        }),
      );
    } catch (error) {
      // The SKU is gone; the next reserve attempt fails its condition and reports it.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  private async getItem(sku: string): Promise<CatalogueItem | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { sku }, ConsistentRead: true }));
    return Item === undefined ? undefined : parseCatalogueItem(Item);
  }
}

function parseCatalogueItem(item: Record<string, unknown>): CatalogueItem {
  const result = CatalogueItemSchema.safeParse(item, { error: plainMessages });
  if (result.success) return result.data;
  throw new InvalidDocumentError(`inventory item ${JSON.stringify(item.sku)}: ${describeProblems(problemsOf(result.error))}`);
}
