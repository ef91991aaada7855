import { anOrder, awsError, conditionalCheckFailed, ddbMock, dynamoWrites, rejectionOf, resetMocks } from "./support";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { handler } from "../../handlers/release-inventory";
import { InvalidDocumentError, UnsupportedFormatVersionError } from "../../handlers/shared/errors";

describe("ReleaseInventory", () => {
  const state = {
    formatVersion: 1,
    order: anOrder(),
    reservation: { formatVersion: 1, reserved: [{ sku: "SKU-BOOK", quantity: 2 }] },
    error: { Error: "ShippingFailed", Cause: "{}" },
  };
  const allLines = [
    { sku: "SKU-BOOK", quantity: 2 },
    { sku: "SKU-PEN", quantity: 1 },
  ];

  beforeEach(resetMocks);

  it("gives back each line this order holds with the contract's conditional update", async () => {
    const release = await handler(state);

    expect(release).to.deep.equal({ formatVersion: 1, released: allLines });
    expect(dynamoWrites().map((write) => write.input)).to.have.deep.members(
      allLines.map(({ sku, quantity }) => ({
        TableName: "inventory",
        Key: { sku },
        UpdateExpression: "SET stock = stock + :q REMOVE reservations.#oid",
        ConditionExpression: "reservations.#oid = :q",
        ExpressionAttributeNames: { "#oid": "order-1" },
        ExpressionAttributeValues: { ":q": quantity },
      })),
    );
  });

  it("returns the same result when repeated or when nothing was reserved (the conditions refuse every line)", async () => {
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());

    expect(await handler(state)).to.deep.equal({ formatVersion: 1, released: allLines });
  });

  it("lets any other DynamoDB error through after trying every line", async () => {
    ddbMock.on(UpdateCommand, { Key: { sku: "SKU-BOOK" } }).rejects(awsError("InternalServerError", "boom"));

    const error = await rejectionOf(handler(state));

    expect(error.name).to.equal("InternalServerError");
    expect(dynamoWrites().map((write) => write.input.Key.sku)).to.have.members(["SKU-BOOK", "SKU-PEN"]);
  });

  it("refuses an unknown formatVersion without touching stock", async () => {
    const error = await rejectionOf(handler({ ...state, formatVersion: 2 }));

    expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
    expect(ddbMock.calls()).to.have.length(0);
  });

  it("refuses an order without lines, naming the field", async () => {
    const error = await rejectionOf(handler({ ...state, order: { ...anOrder(), items: undefined } }));

    expect(error).to.be.instanceOf(InvalidDocumentError);
    expect(error.message).to.equal("ReleaseInventory event: order.items: is required");
    expect(ddbMock.calls()).to.have.length(0);
  });
});
