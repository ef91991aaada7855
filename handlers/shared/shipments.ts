import { GetCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createHash } from "node:crypto";
// Namespace import: lets esbuild drop the parts of zod a bundle does not use (≈90 KB instead of ≈450 KB).
import * as z from "zod";
import { InvalidDocumentError, UnsupportedFormatVersionError } from "./errors";
import { ORDER_STATE_FORMAT_VERSION } from "./format";
import { isConditionalCheckFailed } from "./dynamo";
import { describeProblems, plainMessages, problemsOf } from "./validation";

/** Carrier per destination; anything not listed goes with the international fallback. */
const CARRIER_BY_COUNTRY: Readonly<Record<string, string>> = {
  DE: "DHL",
  AT: "DHL",
  NL: "PostNL",
  BE: "bpost",
  FR: "Colissimo",
  GB: "Royal Mail",
  US: "UPS",
};
const FALLBACK_CARRIER = "DHL Express";

export function carrierFor(country: string): string {
  return CARRIER_BY_COUNTRY[country] ?? FALLBACK_CARRIER;
}

/** Derived from the orderId alone, so a retried Shipping step (or a lost write) yields the same number. */
export function trackingNumberFor(orderId: string): string {
  return `TRK${createHash("sha256").update(`shipment:${orderId}`).digest("hex").slice(0, 16).toUpperCase()}`;
}

const ShipmentRecordSchema = z.object({
  orderId: z.string(),
  carrier: z.string().min(1),
  trackingNumber: z.string().min(1),
  createdAt: z.string(),
  formatVersion: z.literal(ORDER_STATE_FORMAT_VERSION),
});
export type ShipmentRecord = z.output<typeof ShipmentRecordSchema>;

/** The shipments table (key `orderId`): at most one shipment per order. */
export class ShipmentsRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Creates the order's shipment, or returns the one that already exists (the first write wins). */
  async createOnce(shipment: Omit<ShipmentRecord, "formatVersion">): Promise<{ record: ShipmentRecord; created: boolean }> {
    const record: ShipmentRecord = { ...shipment, formatVersion: ORDER_STATE_FORMAT_VERSION };
    try {
      await this.db.send(
        new PutCommand({ TableName: this.tableName, Item: record, ConditionExpression: "attribute_not_exists(orderId)" }),
      );
      return { record, created: true };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { orderId: shipment.orderId }, ConsistentRead: true }),
    );
    if (Item === undefined) {
      // Only possible if the shipment was deleted between our write and our read.
      throw new Error(`shipment for order "${shipment.orderId}" exists by its condition but could not be read`);
    }
    return { record: parseShipment(Item), created: false };
  }
}

function parseShipment(item: Record<string, unknown>): ShipmentRecord {
  const what = `shipments item ${JSON.stringify(item.orderId)}`;
  if (item.formatVersion !== ORDER_STATE_FORMAT_VERSION) {
    throw new UnsupportedFormatVersionError(what, item.formatVersion, [ORDER_STATE_FORMAT_VERSION]);
  }
  const result = ShipmentRecordSchema.safeParse(item, { error: plainMessages });
  if (!result.success) throw new InvalidDocumentError(`${what}: ${describeProblems(problemsOf(result.error))}`);
  return result.data;
}
