import { anOrder, awsError, ddbMock, dynamoWrites, fakeOrderStatus, fakeTable, rejectionOf, resetMocks } from "./support";
import { PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { handler } from "../../handlers/shipping";
import {
  ErrorNames,
  InvalidDocumentError,
  InvalidOrderTransitionError,
  ShippingFailedError,
  UnsupportedFormatVersionError,
} from "../../handlers/shared/errors";
import { ShipmentResultSchema } from "../../handlers/shared/order-state";
import { carrierFor, trackingNumberFor } from "../../handlers/shared/shipments";

describe("Shipping", () => {
  const stateFor = (country = "DE", orderId = "order-1") => ({
    formatVersion: 1,
    order: anOrder({ orderId, shipTo: { ...anOrder().shipTo, country } }),
    payment: { formatVersion: 1, chargeId: "ch_1", amount: 2800, currency: "EUR" },
    reservation: { formatVersion: 1, reserved: [] },
  });
  let shipments: Map<string, Record<string, unknown>>;

  beforeEach(() => {
    resetMocks();
    shipments = fakeTable("shipments", "orderId");
  });

  it("books one shipment with the country's carrier and a tracking number from the orderId, then completes the order", async () => {
    const order = fakeOrderStatus("PLACED");

    const shipment = await handler(stateFor("DE"));

    expect(shipment).to.deep.equal({ formatVersion: 1, carrier: "DHL", trackingNumber: trackingNumberFor("order-1") });
    expect(ShipmentResultSchema.safeParse(shipment).success).to.equal(true);
    const [put, complete, ...others] = dynamoWrites();
    expect(others).to.deep.equal([]);
    expect(put.input).to.deep.equal({
      TableName: "shipments",
      Item: { orderId: "order-1", carrier: "DHL", trackingNumber: trackingNumberFor("order-1"), createdAt: put.input.Item.createdAt, formatVersion: 1 },
      ConditionExpression: "attribute_not_exists(orderId)",
    });
    expect(complete.input).to.deep.include({
      TableName: "orders",
      Key: { orderId: "order-1" },
      UpdateExpression: "SET #status = :to, updatedAt = :now",
      ConditionExpression: "#status = :placed",
    });
    expect(order.status()).to.equal("COMPLETED");
  });

  it("returns the same shipment when repeated, booking nothing new", async () => {
    fakeOrderStatus("PLACED");
    const first = await handler(stateFor());
    const booked = structuredClone(shipments.get("order-1"));

    const second = await handler(stateFor());

    expect(second).to.deep.equal(first);
    expect(shipments.get("order-1")).to.deep.equal(booked);
  });

  it("returns the shipment booked first even if this attempt would have chosen differently", async () => {
    fakeOrderStatus("COMPLETED");
    shipments.set("order-1", { orderId: "order-1", carrier: "UPS", trackingNumber: "1Z999", createdAt: "2025-01-01T00:00:00.000Z", formatVersion: 1 });

    expect(await handler(stateFor())).to.deep.equal({ formatVersion: 1, carrier: "UPS", trackingNumber: "1Z999" });
  });

  for (const withItem of [true, false]) {
    it(`treats an order that is already COMPLETED as done (${withItem ? "AWS returns the item" : "dynalite does not"})`, async () => {
      const order = fakeOrderStatus("COMPLETED", { withItem });

      expect((await handler(stateFor())).carrier).to.equal("DHL");
      expect(order.status()).to.equal("COMPLETED");
      expect(ddbMock.commandCalls(UpdateCommand), "without the item a second update checks the status").to.have.length(withItem ? 1 : 2);
    });
  }

  it("refuses to complete an order that ended otherwise, naming its status", async () => {
    fakeOrderStatus("CANCELLED");

    const error = await rejectionOf(handler(stateFor()));

    expect(error).to.be.instanceOf(InvalidOrderTransitionError);
    expect(error.name).to.equal(ErrorNames.InvalidOrderTransition);
    expect(error.message).to.equal('order "order-1" is CANCELLED and cannot become COMPLETED; only PLACED orders change status');
  });

  it("fails with ShippingFailed for a destination outside SUPPORTED_SHIP_COUNTRIES, writing nothing", async () => {
    const error = await rejectionOf(handler(stateFor("JP")));

    expect(error).to.be.instanceOf(ShippingFailedError);
    expect(error.name).to.equal(ErrorNames.ShippingFailed);
    expect(error.message).to.equal('cannot ship order "order-1" to JP: supported destinations are DE, FR, NL, GB, US');
    expect(ddbMock.calls()).to.have.length(0);
  });

  it("lets a DynamoDB failure through, so the workflow retries the step", async () => {
    ddbMock.on(PutCommand).rejects(awsError("InternalServerError", "boom"));

    expect((await rejectionOf(handler(stateFor()))).name).to.equal("InternalServerError");
    expect(ddbMock.commandCalls(UpdateCommand), "the order is not completed without a shipment").to.have.length(0);
  });

  it("refuses an unknown formatVersion, writing nothing", async () => {
    const error = await rejectionOf(handler({ ...stateFor(), formatVersion: 2 }));

    expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
    expect(ddbMock.calls()).to.have.length(0);
  });

  it("refuses a state without a destination country, naming it", async () => {
    const state = stateFor();
    delete (state.order.shipTo as Partial<typeof state.order.shipTo>).country;

    const error = await rejectionOf(handler(state));

    expect(error).to.be.instanceOf(InvalidDocumentError);
    expect(error.message).to.equal("Shipping event: order.shipTo.country: is required");
  });

  describe("carrier and tracking number", () => {
    it("chooses the carrier by destination, with a fallback", () => {
      expect(["DE", "NL", "FR", "GB", "US", "JP"].map(carrierFor)).to.deep.equal(["DHL", "PostNL", "Colissimo", "Royal Mail", "UPS", "DHL Express"]);
    });

    it("derives the tracking number from the orderId alone: stable per order, distinct between orders", () => {
      expect(trackingNumberFor("order-1")).to.equal(trackingNumberFor("order-1"));
      expect(trackingNumberFor("order-1")).not.to.equal(trackingNumberFor("order-2"));
      expect(trackingNumberFor("order-1")).to.match(/^TRK[0-9A-F]{16}$/);
    });
  });
});
