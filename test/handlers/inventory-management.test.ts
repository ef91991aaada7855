import { anOrder, awsError, conditionalCheckFailed, ddbMock, dynamoWrites, rejectionOf, resetMocks } from "./support";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { handler } from "../../handlers/inventory-management";
import { ErrorNames, InvalidDocumentError, OutOfStockError, UnsupportedFormatVersionError } from "../../handlers/shared/errors";
import { ReservationResultSchema } from "../../handlers/shared/order-state";

const RESERVE = {
  UpdateExpression: "SET stock = stock - :q, reservations.#oid = :q",
  ConditionExpression: "stock >= :q AND attribute_not_exists(reservations.#oid)",
};
const RELEASE = {
  UpdateExpression: "SET stock = stock + :q REMOVE reservations.#oid",
  ConditionExpression: "reservations.#oid = :q",
};

describe("InventoryManagement", () => {
  const state = {
    formatVersion: 1,
    order: anOrder(),
    paymentToken: "tok_visa",
    payment: { formatVersion: 1, chargeId: "ch_1", amount: 2800, currency: "EUR" },
  };

  beforeEach(resetMocks);

  it("reserves every line for the order with the contract's conditional update", async () => {
    const reservation = await handler(state);

    expect(reservation).to.deep.equal({
      formatVersion: 1,
      reserved: [
        { sku: "SKU-BOOK", quantity: 2 },
        { sku: "SKU-PEN", quantity: 1 },
      ],
    });
    expect(ReservationResultSchema.safeParse(reservation).success).to.equal(true);
    expect(dynamoWrites()).to.deep.equal(
      [
        ["SKU-BOOK", 2],
        ["SKU-PEN", 1],
      ].map(([sku, quantity]) => ({
        command: "UpdateCommand",
        input: {
          TableName: "inventory",
          Key: { sku },
          ...RESERVE,
          ExpressionAttributeNames: { "#oid": "order-1" },
          ExpressionAttributeValues: { ":q": quantity },
        },
      })),
    );
  });

  it("returns the same reservation when repeated, decrementing nothing again", async () => {
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());
    ddbMock.on(GetCommand).callsFake((input) => ({
      Item: { sku: input.Key.sku, stock: 3, price: 100, currency: "EUR", reservations: { "order-1": input.Key.sku === "SKU-BOOK" ? 2 : 1 } },
    }));

    const reservation = await handler(state);

    expect(reservation.reserved).to.deep.equal(state.order.items.map(({ sku, quantity }) => ({ sku, quantity })));
    expect(dynamoWrites().map((write) => write.input.UpdateExpression), "only the refused conditional reserves").to.deep.equal([
      RESERVE.UpdateExpression,
      RESERVE.UpdateExpression,
    ]);
    expect(ddbMock.commandCalls(GetCommand).every((call) => call.args[0].input.ConsistentRead === true)).to.equal(true);
  });

  it("on a shortage, releases the order's lines and fails with OutOfStock naming the SKU", async () => {
    ddbMock.on(UpdateCommand, { Key: { sku: "SKU-PEN" }, ...RESERVE }).rejects(conditionalCheckFailed());
    ddbMock.on(UpdateCommand, { Key: { sku: "SKU-PEN" }, ...RELEASE }).rejects(conditionalCheckFailed());
    ddbMock.on(GetCommand).resolves({ Item: { sku: "SKU-PEN", stock: 0, price: 300, currency: "EUR", reservations: { "order-2": 4 } } });

    const error = await rejectionOf(handler(state));

    expect(error).to.be.instanceOf(OutOfStockError);
    expect(error.name).to.equal(ErrorNames.OutOfStock);
    expect(error.message).to.equal('sku "SKU-PEN": 1 requested, 0 in stock');
    expect((error as OutOfStockError).sku).to.equal("SKU-PEN");
    const releases = dynamoWrites().filter((write) => write.input.UpdateExpression === RELEASE.UpdateExpression);
    expect(releases.map((write) => [write.input.Key.sku, write.input.ExpressionAttributeValues[":q"]])).to.have.deep.members([
      ["SKU-BOOK", 2],
      ["SKU-PEN", 1],
    ]);
  });

  it("lets a throttling error through, so the workflow retries the step", async () => {
    ddbMock.on(UpdateCommand).rejects(awsError("ProvisionedThroughputExceededException", "slow down"));

    const error = await rejectionOf(handler(state));

    expect(error.name).to.equal("ProvisionedThroughputExceededException");
  });

  it("refuses an unknown formatVersion without touching stock", async () => {
    const error = await rejectionOf(handler({ ...state, formatVersion: 2 }));

    expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
    expect(error.message).to.equal("InventoryManagement event: formatVersion 2 is not supported (supported: 1)");
    expect(ddbMock.calls()).to.have.length(0);
  });

  it("refuses an order line with a zero quantity, naming it, without touching stock", async () => {
    const order = anOrder();
    order.items[1].quantity = 0;

    const error = await rejectionOf(handler({ ...state, order }));

    expect(error).to.be.instanceOf(InvalidDocumentError);
    expect(error.message).to.equal("InventoryManagement event: order.items[1].quantity: must be an integer ≥ 1");
    expect(ddbMock.calls()).to.have.length(0);
  });
});
