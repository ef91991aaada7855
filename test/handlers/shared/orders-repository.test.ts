import { anOrder, awsError, conditionalCheckFailed, rejectionOf, scriptedDynamo } from "../support";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { ErrorNames, InvalidDocumentError, InvalidOrderTransitionError, UnsupportedFormatVersionError } from "../../../handlers/shared/errors";
import { OrdersRepository } from "../../../handlers/shared/orders-repository";
import { startDynalite, type LocalTables } from "../dynalite";

describe("OrdersRepository (on dynalite)", () => {
  const NOW = "2025-01-02T03:04:05.000Z";
  const LATER = "2025-01-02T04:00:00.000Z";
  let tables: LocalTables;
  let orders: OrdersRepository;

  before(async () => {
    tables = await startDynalite();
    await tables.createTable("orders", "orderId");
    orders = new OrdersRepository(tables.db, "orders");
  });
  after(async () => {
    await tables.close();
  });

  let sequence = 0;
  /** A PLACED order under a fresh id. */
  async function placed(): Promise<string> {
    sequence += 1;
    const orderId = `order-${sequence}`;
    expect(await orders.createPlaced(anOrder({ orderId }), NOW)).to.equal("created");
    return orderId;
  }
  async function stored(orderId: string): Promise<Record<string, any> | undefined> {
    return (await tables.db.send(new GetCommand({ TableName: "orders", Key: { orderId } }))).Item;
  }

  describe("createPlaced / createRejected", () => {
    it("stores the order once; a second create reports the id as taken and changes nothing", async () => {
      const orderId = await placed();
      const before = await stored(orderId);

      expect(await orders.createPlaced(anOrder({ orderId, total: 1 }), LATER)).to.equal("exists");
      expect(await orders.createRejected(orderId, "email: must be a valid e-mail address", LATER)).to.equal("exists");
      expect(await stored(orderId)).to.deep.equal(before);
      expect(before).to.deep.include({ status: "PLACED", createdAt: anOrder().createdAt, updatedAt: NOW, formatVersion: 1 });
    });

    it("reads back a rejection with exactly its id, status, reason, time and version", async () => {
      expect(await orders.createRejected("order-rejected", "items: must list at least one item", NOW)).to.equal("created");

      expect(await orders.get("order-rejected")).to.deep.equal({
        orderId: "order-rejected",
        status: "REJECTED",
        reason: "items: must list at least one item",
        createdAt: NOW,
        formatVersion: 1,
      });
    });
  });

  describe("transition", () => {
    it("moves a PLACED order to the target status with the reason and time", async () => {
      const orderId = await placed();

      expect(await orders.transition(orderId, "CANCELLED", LATER, "OutOfStock: sku")).to.equal("changed");

      expect(await stored(orderId)).to.deep.include({ status: "CANCELLED", reason: "OutOfStock: sku", updatedAt: LATER });
    });

    it("treats the same move again as done, keeping the first reason and time", async () => {
      const orderId = await placed();
      await orders.transition(orderId, "PAYMENT_FAILED", LATER, "PaymentFailed: card_declined");

      expect(await orders.transition(orderId, "PAYMENT_FAILED", "2025-01-03T00:00:00.000Z", "another reason")).to.equal("unchanged");

      expect(await stored(orderId)).to.deep.include({
        status: "PAYMENT_FAILED",
        reason: "PaymentFailed: card_declined",
        updatedAt: LATER,
      });
    });

    it("refuses a different move away from a final status", async () => {
      const orderId = await placed();
      await orders.transition(orderId, "COMPLETED", LATER);

      const error = await rejectionOf(orders.transition(orderId, "CANCELLED", LATER, "late failure"));

      expect(error).to.be.instanceOf(InvalidOrderTransitionError);
      expect(error.name).to.equal(ErrorNames.InvalidOrderTransition);
      // dynalite returns no item with the failed condition, so the status itself is not named here.
      expect(error.message).to.equal(
        `order "${orderId}" does not exist or is in another final status and cannot become CANCELLED; only PLACED orders change status`,
      );
      expect(await stored(orderId)).to.deep.include({ status: "COMPLETED" });
    });

    it("refuses to move a REJECTED order", async () => {
      await orders.createRejected("order-r2", "email: is required", NOW);

      const error = await rejectionOf(orders.transition("order-r2", "COMPLETED", LATER));

      expect(error).to.be.instanceOf(InvalidOrderTransitionError);
      expect((await stored("order-r2"))!.status).to.equal("REJECTED");
    });

    it("refuses to move an order that does not exist, and does not create it", async () => {
      const error = await rejectionOf(orders.transition("order-missing", "COMPLETED", LATER));

      expect(error).to.be.instanceOf(InvalidOrderTransitionError);
      expect(await stored("order-missing")).to.equal(undefined);
    });
  });

  describe("get", () => {
    it("refuses a stored order with an unknown formatVersion", async () => {
      await tables.db.send(new PutCommand({ TableName: "orders", Item: { ...anOrder({ orderId: "order-v2" }), status: "PLACED", updatedAt: NOW, formatVersion: 2 } }));

      const error = await rejectionOf(orders.get("order-v2"));

      expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
      expect(error.message).to.equal('orders item "order-v2": formatVersion 2 is not supported (supported: 1)');
    });

    it("names a missing field of a stored order as required", async () => {
      const { total: _, ...withoutTotal } = anOrder({ orderId: "order-no-total" });
      await tables.db.send(new PutCommand({ TableName: "orders", Item: { ...withoutTotal, status: "PLACED", updatedAt: NOW, formatVersion: 1 } }));

      const error = await rejectionOf(orders.get("order-no-total"));

      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.message).to.equal('orders item "order-no-total": total: is required');
    });

    it("refuses a malformed stored order, naming the field", async () => {
      await tables.db.send(new PutCommand({ TableName: "orders", Item: { ...anOrder({ orderId: "order-bad" }), status: "SHIPPED", updatedAt: NOW, formatVersion: 1 } }));

      const error = await rejectionOf(orders.get("order-bad"));

      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.message).to.match(/^orders item "order-bad": status: /);
    });
  });
});

/** The requests themselves, and failures dynalite does not produce on cue, on a client of its own. */
describe("OrdersRepository (against a scripted DynamoDB)", () => {
  const { client, ddb } = scriptedDynamo();
  const orders = new OrdersRepository(client, "orders");
  const NOW = "2025-01-02T03:04:05.000Z";
  const throttled = () => awsError("ProvisionedThroughputExceededException", "Rate of requests exceeds the allowed throughput");

  it("reads an order strongly consistent, since it reads right after a conditional write lost", async () => {
    ddb.on(GetCommand).resolves({});

    expect(await orders.get("order-1")).to.equal(undefined);
    expect(ddb.commandCalls(GetCommand)[0].args[0].input).to.deep.equal({ TableName: "orders", Key: { orderId: "order-1" }, ConsistentRead: true });
  });

  it("names the reason in the update only when there is one (DynamoDB refuses unused expression names and values)", async () => {
    ddb.on(UpdateCommand).resolves({});

    await orders.transition("order-1", "COMPLETED", NOW);
    await orders.transition("order-2", "CANCELLED", NOW, "OutOfStock: sku");

    expect(ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input)).to.deep.equal([
      {
        TableName: "orders",
        Key: { orderId: "order-1" },
        UpdateExpression: "SET #status = :to, updatedAt = :now",
        ConditionExpression: "#status = :placed",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":to": "COMPLETED", ":now": NOW, ":placed": "PLACED" },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
      {
        TableName: "orders",
        Key: { orderId: "order-2" },
        UpdateExpression: "SET #status = :to, updatedAt = :now, #reason = :reason",
        ConditionExpression: "#status = :placed",
        ExpressionAttributeNames: { "#status": "status", "#reason": "reason" },
        ExpressionAttributeValues: { ":to": "CANCELLED", ":now": NOW, ":placed": "PLACED", ":reason": "OutOfStock: sku" },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
    ]);
  });

  it("names the current status when DynamoDB returns it with the failed condition", async () => {
    ddb.on(UpdateCommand).rejects(Object.assign(conditionalCheckFailed(), { Item: { status: { S: "COMPLETED" } } }));

    const error = await rejectionOf(orders.transition("order-1", "CANCELLED", NOW, "late"));

    expect(error).to.be.instanceOf(InvalidOrderTransitionError);
    expect(error.message).to.equal('order "order-1" is COMPLETED and cannot become CANCELLED; only PLACED orders change status');
    expect(ddb.commandCalls(UpdateCommand)).to.have.length(1);
  });

  it("fails with DynamoDB's own error when the move fails for another reason than its condition", async () => {
    ddb.on(UpdateCommand).rejectsOnce(throttled()).resolves({});

    expect((await rejectionOf(orders.transition("order-1", "COMPLETED", NOW))).name).to.equal("ProvisionedThroughputExceededException");
  });

  it("fails with DynamoDB's own error when the check for a repeated move fails for another reason", async () => {
    ddb.on(UpdateCommand).rejectsOnce(conditionalCheckFailed()).rejects(throttled());

    expect((await rejectionOf(orders.transition("order-1", "COMPLETED", NOW))).name).to.equal("ProvisionedThroughputExceededException");
  });
});
