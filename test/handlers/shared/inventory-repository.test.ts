import { awsError, conditionalCheckFailed, rejectionOf, scriptedDynamo } from "../support";
import { BatchGetCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { InvalidDocumentError, OutOfStockError, ErrorNames } from "../../../handlers/shared/errors";
import { InventoryRepository } from "../../../handlers/shared/inventory-repository";
import { logger } from "../../../handlers/shared/logger";
import { dynaliteTablePerTest, type LocalTables } from "../dynalite";

describe("InventoryRepository (on dynalite)", () => {
  const fixture = dynaliteTablePerTest("inventory", "sku");
  let tables: LocalTables;
  let inventory: InventoryRepository;
  let tableName: string;

  beforeEach(async () => {
    tables = fixture.tables();
    tableName = fixture.name();
    inventory = new InventoryRepository(tables.db, tableName);
    await seed({ sku: "SKU-BOOK", stock: 5, price: 1250, currency: "EUR", reservations: {} });
    await seed({ sku: "SKU-PEN", stock: 2, price: 300, currency: "EUR", reservations: {} });
  });

  async function seed(item: Record<string, unknown>): Promise<void> {
    await tables.db.send(new PutCommand({ TableName: tableName, Item: item }));
  }
  async function item(sku: string): Promise<Record<string, any> | undefined> {
    return (await tables.db.send(new GetCommand({ TableName: tableName, Key: { sku }, ConsistentRead: true }))).Item;
  }

  describe("reserveLines", () => {
    it("takes each line's quantity from stock and records it under the orderId", async () => {
      const reserved = await inventory.reserveLines("order-1", [
        { sku: "SKU-BOOK", quantity: 2 },
        { sku: "SKU-PEN", quantity: 2 },
      ]);

      expect(reserved).to.deep.equal([
        { sku: "SKU-BOOK", quantity: 2 },
        { sku: "SKU-PEN", quantity: 2 },
      ]);
      expect(await item("SKU-BOOK")).to.deep.include({ stock: 3, reservations: { "order-1": 2 } });
      expect(await item("SKU-PEN")).to.deep.include({ stock: 0, reservations: { "order-1": 2 } });
    });

    it("reserves nothing twice when the same order is reserved again", async () => {
      const lines = [{ sku: "SKU-BOOK", quantity: 2 }];
      const first = await inventory.reserveLines("order-1", lines);
      const second = await inventory.reserveLines("order-1", lines);

      expect(second).to.deep.equal(first);
      expect(await item("SKU-BOOK")).to.deep.include({ stock: 3, reservations: { "order-1": 2 } });
    });

    it("keeps other orders' reservations apart", async () => {
      await inventory.reserveLines("order-1", [{ sku: "SKU-BOOK", quantity: 2 }]);
      await inventory.reserveLines("order-2", [{ sku: "SKU-BOOK", quantity: 3 }]);

      expect(await item("SKU-BOOK")).to.deep.include({ stock: 0, reservations: { "order-1": 2, "order-2": 3 } });
    });

    it("on a shortage, gives back the lines it reserved and throws OutOfStock naming the SKU", async () => {
      const error = await rejectionOf(
        inventory.reserveLines("order-1", [
          { sku: "SKU-BOOK", quantity: 2 },
          { sku: "SKU-PEN", quantity: 3 },
        ]),
      );

      expect(error).to.be.instanceOf(OutOfStockError);
      expect(error.name).to.equal(ErrorNames.OutOfStock);
      expect(error.message).to.equal('sku "SKU-PEN": 3 requested, 2 in stock');
      expect((error as OutOfStockError).sku).to.equal("SKU-PEN");
      expect(await item("SKU-BOOK")).to.deep.include({ stock: 5, reservations: {} });
      expect(await item("SKU-PEN")).to.deep.include({ stock: 2, reservations: {} });
    });

    it("on a shortage during a retry, also gives back lines an earlier attempt reserved", async () => {
      await inventory.reserveLines("order-1", [{ sku: "SKU-BOOK", quantity: 2 }]);
      await seed({ sku: "SKU-PEN", stock: 0, price: 300, currency: "EUR", reservations: {} });

      await rejectionOf(
        inventory.reserveLines("order-1", [
          { sku: "SKU-BOOK", quantity: 2 },
          { sku: "SKU-PEN", quantity: 1 },
        ]),
      );

      expect(await item("SKU-BOOK")).to.deep.include({ stock: 5, reservations: {} });
    });

    it("creates the reservations map on an item that has none", async () => {
      await seed({ sku: "SKU-MUG", stock: 4, price: 900, currency: "EUR" });

      await inventory.reserveLines("order-1", [{ sku: "SKU-MUG", quantity: 1 }]);

      expect(await item("SKU-MUG")).to.deep.include({ stock: 3, reservations: { "order-1": 1 } });
    });

    it("reports a shortage on an item without a reservations map, leaving it unchanged", async () => {
      await seed({ sku: "SKU-MUG", stock: 0, price: 900, currency: "EUR" });

      const error = await rejectionOf(inventory.reserveLines("order-1", [{ sku: "SKU-MUG", quantity: 1 }]));

      expect(error.message).to.equal('sku "SKU-MUG": 1 requested, 0 in stock');
      expect(await item("SKU-MUG")).to.deep.equal({ sku: "SKU-MUG", stock: 0, price: 900, currency: "EUR" });
    });

    it("treats a SKU that left the catalogue as out of stock, without recreating it", async () => {
      const error = await rejectionOf(inventory.reserveLines("order-1", [{ sku: "SKU-GONE", quantity: 1 }]));

      expect(error).to.be.instanceOf(OutOfStockError);
      expect(error.message).to.equal('sku "SKU-GONE" is no longer in the catalogue');
      expect(await item("SKU-GONE")).to.equal(undefined);
    });

    it("refuses an item whose reservations attribute is not a map", async () => {
      await seed({ sku: "SKU-MUG", stock: 4, price: 900, currency: "EUR", reservations: "none" });

      const error = await rejectionOf(inventory.reserveLines("order-1", [{ sku: "SKU-MUG", quantity: 1 }]));

      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.message).to.equal('inventory item "SKU-MUG": reservations must be a map of orderId to quantity');
      expect((await item("SKU-MUG"))!.stock).to.equal(4);
    });
  });

  describe("releaseLines", () => {
    it("gives the order's reserved quantities back and forgets the reservations", async () => {
      await inventory.reserveLines("order-1", [
        { sku: "SKU-BOOK", quantity: 2 },
        { sku: "SKU-PEN", quantity: 1 },
      ]);

      const released = await inventory.releaseLines("order-1", [
        { sku: "SKU-BOOK", quantity: 2 },
        { sku: "SKU-PEN", quantity: 1 },
      ]);

      expect(released).to.deep.equal([
        { sku: "SKU-BOOK", quantity: 2 },
        { sku: "SKU-PEN", quantity: 1 },
      ]);
      expect(await item("SKU-BOOK")).to.deep.include({ stock: 5, reservations: {} });
      expect(await item("SKU-PEN")).to.deep.include({ stock: 2, reservations: {} });
    });

    it("gives nothing back twice when released again", async () => {
      await inventory.reserveLines("order-1", [{ sku: "SKU-BOOK", quantity: 2 }]);
      await inventory.releaseLines("order-1", [{ sku: "SKU-BOOK", quantity: 2 }]);

      const again = await inventory.releaseLines("order-1", [{ sku: "SKU-BOOK", quantity: 2 }]);

      expect(again).to.deep.equal([]);
      expect(await item("SKU-BOOK")).to.deep.include({ stock: 5, reservations: {} });
    });

    it("leaves other orders' reservations and never-reserved or missing items alone", async () => {
      await inventory.reserveLines("order-2", [{ sku: "SKU-BOOK", quantity: 1 }]);
      await seed({ sku: "SKU-MUG", stock: 4, price: 900, currency: "EUR" });

      const released = await inventory.releaseLines("order-1", [
        { sku: "SKU-BOOK", quantity: 1 },
        { sku: "SKU-MUG", quantity: 1 },
        { sku: "SKU-GONE", quantity: 1 },
      ]);

      expect(released).to.deep.equal([]);
      expect(await item("SKU-BOOK")).to.deep.include({ stock: 4, reservations: { "order-2": 1 } });
      expect(await item("SKU-MUG")).to.deep.equal({ sku: "SKU-MUG", stock: 4, price: 900, currency: "EUR" });
      expect(await item("SKU-GONE")).to.equal(undefined);
    });
  });

  describe("getItems", () => {
    it("returns the catalogue entries it finds and leaves unknown SKUs out", async () => {
      const found = await inventory.getItems(["SKU-BOOK", "SKU-GHOST", "SKU-BOOK"]);

      expect([...found.keys()]).to.deep.equal(["SKU-BOOK"]);
      expect(found.get("SKU-BOOK")).to.deep.include({ sku: "SKU-BOOK", stock: 5, price: 1250, currency: "EUR" });
    });
  });
});

/**
 * What dynalite cannot be made to do on cue — leave keys unprocessed, lose a race between a write and its read, delete
 * a SKU mid-reserve — scripted on a client of its own.
 */
describe("InventoryRepository (against a scripted DynamoDB)", () => {
  const { client, ddb } = scriptedDynamo();
  const BOOK = { sku: "SKU-BOOK", stock: 10, price: 1250, currency: "EUR", reservations: {} };
  let pauses: number[];
  let inventory: InventoryRepository;

  beforeEach(() => {
    pauses = [];
    inventory = new InventoryRepository(client, "inventory", async (ms) => {
      pauses.push(ms);
    });
  });

  const invalidPath = () => awsError("ValidationException", "The document path provided in the update expression is invalid for update");
  const isInit = (input: { UpdateExpression?: string }) => input.UpdateExpression!.startsWith("SET reservations = if_not_exists");

  describe("getItems", () => {
    it("asks again only for the keys left unprocessed, after 100 ms, then 200, 400 and 800 ms, and gives up after five attempts", async () => {
      ddb.on(BatchGetCommand).resolves({ Responses: { inventory: [BOOK] }, UnprocessedKeys: { inventory: { Keys: [{ sku: "SKU-PEN" }] } } });

      const error = await rejectionOf(inventory.getItems(["SKU-BOOK", "SKU-PEN"]));

      expect(error.message).to.equal("inventory: 1 catalogue keys still unprocessed after 5 BatchGetItem attempts");
      expect(pauses).to.deep.equal([100, 200, 400, 800]);
      expect(ddb.commandCalls(BatchGetCommand).map((call) => call.args[0].input.RequestItems)).to.deep.equal([
        { inventory: { Keys: [{ sku: "SKU-BOOK" }, { sku: "SKU-PEN" }] } },
        ...Array.from({ length: 4 }, () => ({ inventory: { Keys: [{ sku: "SKU-PEN" }] } })),
      ]);
    });

    it("returns what the fifth attempt completes, having waited before each retry only", async () => {
      const pen = { sku: "SKU-PEN", stock: 2, price: 300, currency: "EUR" };
      const unprocessed = { Responses: { inventory: [] }, UnprocessedKeys: { inventory: { Keys: [{ sku: "SKU-PEN" }] } } };
      ddb.on(BatchGetCommand).resolvesOnce(unprocessed).resolvesOnce(unprocessed).resolvesOnce(unprocessed).resolvesOnce(unprocessed).resolves({ Responses: { inventory: [pen] } });

      const found = await inventory.getItems(["SKU-PEN"]);

      expect([...found.values()]).to.deep.equal([pen]);
      expect(pauses).to.deep.equal([100, 200, 400, 800]);
    });
  });

  describe("reserveLines", () => {
    it("tries again when another order's update landed between its write and its read, and takes the last units", async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionalCheckFailed()).resolves({});
      ddb.on(GetCommand).resolves({ Item: { ...BOOK, stock: 2, reservations: { "order-2": 8 } } });

      expect(await inventory.reserveLines("order-1", [{ sku: "SKU-BOOK", quantity: 2 }])).to.deep.equal([{ sku: "SKU-BOOK", quantity: 2 }]);
      expect(ddb.commandCalls(UpdateCommand)).to.have.length(2);
    });

    it("gives up after four lost races, naming the SKU, the quantity and the order", async () => {
      ddb.on(UpdateCommand).rejects(conditionalCheckFailed());
      ddb.on(GetCommand).resolves({ Item: BOOK });

      const error = await rejectionOf(inventory.reserveLines("order-1", [{ sku: "SKU-BOOK", quantity: 2 }]));

      expect(error).to.not.be.instanceOf(OutOfStockError);
      expect(error.message).to.equal('sku "SKU-BOOK": could not reserve 2 for order "order-1" after 4 attempts (contention)');
      expect(ddb.commandCalls(UpdateCommand)).to.have.length(4);
    });

    it("logs a line this order already holds, with the quantity held", async () => {
      ddb.on(UpdateCommand).rejects(conditionalCheckFailed());
      ddb.on(GetCommand).resolves({ Item: { ...BOOK, reservations: { "order-1": 3 } } });
      const logged: unknown[][] = [];
      const info = logger.info;
      logger.info = (...args: unknown[]) => void logged.push(args);
      try {
        expect(await inventory.reserveLines("order-1", [{ sku: "SKU-BOOK", quantity: 3 }])).to.deep.equal([{ sku: "SKU-BOOK", quantity: 3 }]);
      } finally {
        logger.info = info;
      }

      expect(logged).to.deep.equal([["line already reserved by this order", { orderId: "order-1", sku: "SKU-BOOK", quantity: 3 }]]);
    });

    it("reports a SKU deleted while it was adding the reservations map as no longer in the catalogue", async () => {
      ddb.on(UpdateCommand).callsFake((input) => {
        if (isInit(input)) throw conditionalCheckFailed();
        if (ddb.commandCalls(UpdateCommand).length === 1) throw invalidPath();
        throw conditionalCheckFailed();
      });
      ddb.on(GetCommand).resolves({});

      const error = await rejectionOf(inventory.reserveLines("order-1", [{ sku: "SKU-MUG", quantity: 1 }]));

      expect(error).to.be.instanceOf(OutOfStockError);
      expect(error.message).to.equal('sku "SKU-MUG" is no longer in the catalogue');
    });

    it("fails with DynamoDB's error when adding the reservations map fails for another reason", async () => {
      ddb.on(UpdateCommand).callsFake((input) => {
        if (isInit(input)) throw awsError("ProvisionedThroughputExceededException", "Rate of requests exceeds the allowed throughput");
        if (ddb.commandCalls(UpdateCommand).length === 1) throw invalidPath();
        return {};
      });

      const error = await rejectionOf(inventory.reserveLines("order-1", [{ sku: "SKU-MUG", quantity: 1 }]));

      expect(error.name).to.equal("ProvisionedThroughputExceededException");
    });
  });
});
