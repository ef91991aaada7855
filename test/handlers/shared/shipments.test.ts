import { conditionalCheckFailed, rejectionOf, scriptedDynamo } from "../support";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { InvalidDocumentError, UnsupportedFormatVersionError } from "../../../handlers/shared/errors";
import { ShipmentsRepository } from "../../../handlers/shared/shipments";
import { dynaliteTable } from "../dynalite";

const CREATED_AT = "2025-01-02T03:04:05.000Z";

describe("ShipmentsRepository (on dynalite)", () => {
  const tables = dynaliteTable("shipments", "orderId");
  const shipments = () => new ShipmentsRepository(tables().db, "shipments");
  const put = (item: Record<string, unknown>) => tables().db.send(new PutCommand({ TableName: "shipments", Item: item }));

  it("creates an order's shipment once; a repeat returns the first one as not created", async () => {
    const first = await shipments().createOnce({ orderId: "order-1", carrier: "DHL", trackingNumber: "TRK1", createdAt: CREATED_AT });
    const again = await shipments().createOnce({ orderId: "order-1", carrier: "UPS", trackingNumber: "TRK2", createdAt: "2025-01-03T00:00:00.000Z" });

    const record = { orderId: "order-1", carrier: "DHL", trackingNumber: "TRK1", createdAt: CREATED_AT, formatVersion: 1 };
    expect(first).to.deep.equal({ record, created: true });
    expect(again).to.deep.equal({ record, created: false });
  });

  it("refuses a stored shipment of an unknown formatVersion", async () => {
    await put({ orderId: "order-v2", carrier: "DHL", trackingNumber: "TRK1", createdAt: CREATED_AT, formatVersion: 2 });

    const error = await rejectionOf(shipments().createOnce({ orderId: "order-v2", carrier: "DHL", trackingNumber: "TRK1", createdAt: CREATED_AT }));

    expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
    expect(error.message).to.equal('shipments item "order-v2": formatVersion 2 is not supported (supported: 1)');
  });

  it("refuses a malformed stored shipment, naming the field", async () => {
    await put({ orderId: "order-bad", trackingNumber: "TRK1", createdAt: CREATED_AT, formatVersion: 1 });

    const error = await rejectionOf(shipments().createOnce({ orderId: "order-bad", carrier: "DHL", trackingNumber: "TRK1", createdAt: CREATED_AT }));

    expect(error).to.be.instanceOf(InvalidDocumentError);
    expect(error.message).to.equal('shipments item "order-bad": carrier: is required');
  });
});

describe("ShipmentsRepository (against a scripted DynamoDB)", () => {
  const { client, ddb } = scriptedDynamo();

  it("reads the existing shipment strongly consistent, and says so when it is gone by then", async () => {
    ddb.on(PutCommand).rejects(conditionalCheckFailed());
    ddb.on(GetCommand).resolves({});

    const error = await rejectionOf(new ShipmentsRepository(client, "shipments").createOnce({ orderId: "order-1", carrier: "DHL", trackingNumber: "TRK1", createdAt: CREATED_AT }));

    expect(error.message).to.equal('shipment for order "order-1" exists by its condition but could not be read');
    expect(ddb.commandCalls(GetCommand)[0].args[0].input).to.deep.equal({ TableName: "shipments", Key: { orderId: "order-1" }, ConsistentRead: true });
  });
});
