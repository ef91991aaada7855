import { rejectionOf } from "../support";
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { OutOfStockError } from "../../../handlers/shared/errors";
import { InventoryRepository } from "../../../handlers/shared/inventory-repository";
import { dynaliteTablePerTest, type LocalTables } from "../dynalite";

/**
 * Orders racing for the same units, on a real engine (dynalite). Concurrency is real where only the outcome matters
 * (many orders at once); where a test needs one exact interleaving — another order's write landing between this
 * order's failed reserve and its re-read — the interleaving is made by a hook on the client, never by timing.
 */
describe("InventoryRepository when orders race for the same units (on dynalite)", () => {
  const fixture = dynaliteTablePerTest("inventory-race", "sku");
  let tables: LocalTables;
  let tableName: string;

  beforeEach(async () => {
    tables = fixture.tables();
    tableName = fixture.name();
    await tables.db.send(new PutCommand({ TableName: tableName, Item: { sku: "SKU-LAST", stock: 5, price: 100, currency: "EUR", reservations: {} } }));
  });

  const item = async (sku: string) => (await tables.db.send(new GetCommand({ TableName: tableName, Key: { sku }, ConsistentRead: true }))).Item!;
  const other = () => new InventoryRepository(tables.db, tableName);

  /**
   * The client the order under test uses: after each of its reserve updates that fails its condition, `between` runs
   * (another order's write) before the failure reaches the repository.
   */
  function racing(between: (failures: number) => Promise<void>): DynamoDBDocumentClient {
    let failures = 0;
    return {
      send: async (command: unknown) => {
        try {
          return await tables.db.send(command as UpdateCommand);
        } catch (error) {
          if (command instanceof UpdateCommand && (error as Error).name === "ConditionalCheckFailedException") await between(++failures);
          throw error;
        }
      },
    } as unknown as DynamoDBDocumentClient;
  }

  it("gives the last units to exactly as many of 20 concurrent orders as there are units, and refuses the rest as out of stock", async () => {
    const orders = Array.from({ length: 20 }, (_, i) => `race-${i}`);

    const outcomes = await Promise.allSettled(orders.map((orderId) => other().reserveLines(orderId, [{ sku: "SKU-LAST", quantity: 1 }])));

    const won = outcomes.filter((o) => o.status === "fulfilled");
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(won).to.have.length(5);
    expect(lost).to.have.length(15);
    for (const { reason } of lost) expect(reason).to.be.instanceOf(OutOfStockError);
    const after = await item("SKU-LAST");
    expect(after.stock).to.equal(0);
    expect(Object.keys(after.reservations)).to.have.length(5);
  });

  it("retries a reserve that lost to a write which then gave the units back, and reserves", async () => {
    // All five units are held by another order; this order's reserve fails, then the other order releases.
    await other().reserveLines("holder", [{ sku: "SKU-LAST", quantity: 5 }]);
    const repository = new InventoryRepository(
      racing(async () => {
        await other().releaseLines("holder", [{ sku: "SKU-LAST", quantity: 5 }]);
      }),
      tableName,
    );

    const reserved = await repository.reserveLines("latecomer", [{ sku: "SKU-LAST", quantity: 2 }]);

    expect(reserved).to.deep.equal([{ sku: "SKU-LAST", quantity: 2 }]);
    expect(await item("SKU-LAST")).to.deep.include({ stock: 3, reservations: { latecomer: 2 } });
  });

  it("gives up with a contention error (not OutOfStock) when every attempt loses such a race, and holds nothing", async () => {
    await other().reserveLines("holder-0", [{ sku: "SKU-LAST", quantity: 5 }]);
    // After each failure, the holder of the units gives them back and the next holder takes them again before this
    // order's next attempt: the re-read always sees units free, every write finds them gone.
    let holder = 0;
    const repository = new InventoryRepository(
      racing(async () => {
        await other().releaseLines(`holder-${holder}`, [{ sku: "SKU-LAST", quantity: 5 }]);
        holder += 1;
      }),
      tableName,
    );
    const original = tables.db.send.bind(tables.db);
    // The next holder takes the units right after the re-read (a GetCommand), before the next attempt's write.
    tables.db.send = (async (command: unknown) => {
      const answer = await original(command as GetCommand);
      if (command instanceof GetCommand && (answer as { Item?: { stock?: number } }).Item?.stock === 5) {
        await other().reserveLines(`holder-${holder}`, [{ sku: "SKU-LAST", quantity: 5 }]);
      }
      return answer;
    }) as typeof tables.db.send;

    try {
      const error = await rejectionOf(repository.reserveLines("unlucky", [{ sku: "SKU-LAST", quantity: 1 }]));

      expect(error).not.to.be.instanceOf(OutOfStockError);
      expect(error.message).to.equal('sku "SKU-LAST": could not reserve 1 for order "unlucky" after 4 attempts (contention)');
    } finally {
      tables.db.send = original;
    }
    const after = await item("SKU-LAST");
    expect(after.reservations).not.to.have.property("unlucky");
    expect(after.stock).to.equal(0);
  });
});
