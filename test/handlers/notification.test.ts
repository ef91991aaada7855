import { anOrder, rejectionOf, resetMocks, snsMock, TOPIC_ARN } from "./support";
import { PublishCommand } from "@aws-sdk/client-sns";
import { expect } from "chai";
import { handler } from "../../handlers/notification";
import { InvalidDocumentError, UnsupportedFormatVersionError } from "../../handlers/shared/errors";

describe("Notification", () => {
  const state = {
    formatVersion: 1,
    order: anOrder(),
    payment: { formatVersion: 1, chargeId: "ch_1", amount: 2800, currency: "EUR" },
    shipment: { formatVersion: 1, carrier: "DHL", trackingNumber: "TRK0123456789ABCDEF" },
  };

  beforeEach(resetMocks);

  it("publishes OrderCompleted with the order and shipment, attributes for filtering and a dedup eventId", async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: "msg-42" });

    const result = await handler(state);

    expect(result).to.deep.equal({ formatVersion: 1, messageId: "msg-42" });
    const [publish, ...others] = snsMock.commandCalls(PublishCommand);
    expect(others).to.deep.equal([]);
    const input = publish.args[0].input;
    expect(input.TopicArn).to.equal(TOPIC_ARN);
    const body = JSON.parse(input.Message!);
    expect(body).to.deep.equal({
      formatVersion: 1,
      type: "OrderCompleted",
      orderId: "order-1",
      customerId: "customer-7",
      email: "ada@example.com",
      total: 2800,
      currency: "EUR",
      carrier: "DHL",
      trackingNumber: "TRK0123456789ABCDEF",
      occurredAt: body.occurredAt,
    });
    expect(new Date(body.occurredAt).toISOString()).to.equal(body.occurredAt);
    expect(input.MessageAttributes).to.deep.equal({
      formatVersion: { DataType: "Number", StringValue: "1" },
      type: { DataType: "String", StringValue: "OrderCompleted" },
      eventId: { DataType: "String", StringValue: "order-1#OrderCompleted" },
    });
  });

  it("publishes a repeat with the same eventId, so subscribers can drop the copy", async () => {
    await handler(state);
    await handler(state);

    const eventIds = snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input.MessageAttributes!.eventId.StringValue);
    expect(eventIds).to.deep.equal(["order-1#OrderCompleted", "order-1#OrderCompleted"]);
  });

  it("lets an SNS failure through, so the workflow can retry or park the message", async () => {
    snsMock.on(PublishCommand).rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottledException" }));

    expect((await rejectionOf(handler(state))).name).to.equal("ThrottledException");
  });

  it("fails naming the event and the order when SNS answers without a MessageId", async () => {
    snsMock.on(PublishCommand).resolves({});

    expect((await rejectionOf(handler(state))).message).to.equal('SNS returned no MessageId for OrderCompleted of order "order-1"');
  });

  it("refuses a shipment with an unknown formatVersion, publishing nothing", async () => {
    const error = await rejectionOf(handler({ ...state, shipment: { ...state.shipment, formatVersion: 2 } }));

    expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
    expect(error.message).to.equal("Notification event shipment: formatVersion 2 is not supported (supported: 1)");
    expect(snsMock.calls()).to.have.length(0);
  });

  it("refuses a state without a shipment, publishing nothing", async () => {
    const { shipment: _, ...withoutShipment } = state;

    const error = await rejectionOf(handler(withoutShipment));

    expect(error).to.be.instanceOf(InvalidDocumentError);
    expect(error.message).to.equal("Notification event: shipment: is required");
    expect(snsMock.calls()).to.have.length(0);
  });
});
