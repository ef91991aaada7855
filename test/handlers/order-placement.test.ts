import {
  awsError,
  conditionalCheckFailed,
  ddbMock,
  dynamoWrites,
  fakeCatalogue,
  fakeTable,
  rejectionOf,
  resetMocks,
} from "./support";
import { BatchGetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "chai";
import { handler } from "../../handlers/order-placement";
import {
  ErrorNames,
  InvalidDocumentError,
  OrderRejectedError,
  UnsupportedFormatVersionError,
} from "../../handlers/shared/errors";
import { PlacedOrderStateSchema } from "../../handlers/shared/order-state";

const CATALOGUE = [
  { sku: "SKU-BOOK", name: "Notebook", stock: 10, price: 1250, currency: "EUR", reservations: {} },
  { sku: "SKU-PEN", name: "Pen", stock: 100, price: 300, currency: "EUR", reservations: {} },
];

function anInput(overrides: Record<string, unknown> = {}): Record<string, any> {
  return {
    orderId: "order-42",
    customerId: "customer-7",
    email: "ada@example.com",
    items: [
      { sku: "SKU-BOOK", quantity: 2 },
      { sku: "SKU-PEN", quantity: 1 },
    ],
    payment: { token: "tok_visa" },
    shipTo: { name: "Ada Lovelace", line1: "1 Analytical Way", city: "Berlin", postalCode: "10115", country: "DE" },
    ...overrides,
  };
}

/** A deep copy of a valid input with one change applied. */
function inputWith(change: (input: Record<string, any>) => void): Record<string, any> {
  const input = structuredClone(anInput());
  change(input);
  return input;
}

describe("OrderPlacement", () => {
  let orders: Map<string, Record<string, unknown>>;

  beforeEach(() => {
    resetMocks();
    orders = fakeTable("orders", "orderId");
    fakeCatalogue("inventory", CATALOGUE);
  });

  describe("GIVEN a valid order", () => {
    it("prices it from the catalogue, stores it as PLACED once and returns the new workflow state", async () => {
      const state = await handler(anInput());

      expect(state.formatVersion).to.equal(1);
      expect(state.paymentToken).to.equal("tok_visa");
      expect(state.order).to.deep.include({
        orderId: "order-42",
        customerId: "customer-7",
        email: "ada@example.com",
        items: [
          { sku: "SKU-BOOK", quantity: 2, unitPrice: 1250 },
          { sku: "SKU-PEN", quantity: 1, unitPrice: 300 },
        ],
        total: 2800,
        currency: "EUR",
        shipTo: { name: "Ada Lovelace", line1: "1 Analytical Way", city: "Berlin", postalCode: "10115", country: "DE" },
      });
      expect(PlacedOrderStateSchema.safeParse(state).success, "the next step can read the state").to.equal(true);

      const writes = dynamoWrites();
      expect(writes).to.have.length(1);
      expect(writes[0].input.ConditionExpression).to.equal("attribute_not_exists(orderId)");
      expect(writes[0].input.Item).to.deep.equal({
        ...state.order,
        status: "PLACED",
        updatedAt: state.order.createdAt,
        formatVersion: 1,
      });
      expect(JSON.stringify(writes[0].input.Item), "the payment token is never stored").not.to.include("tok_visa");
    });

    it("reads every SKU's price from the catalogue in one BatchGetItem", async () => {
      await handler(anInput());

      const reads = ddbMock.commandCalls(BatchGetCommand);
      expect(reads).to.have.length(1);
      expect(reads[0].args[0].input.RequestItems).to.deep.equal({ inventory: { Keys: [{ sku: "SKU-BOOK" }, { sku: "SKU-PEN" }] } });
    });

    it("trims surrounding spaces from text fields", async () => {
      const state = await handler(inputWith((input) => {
        input.email = "  ada@example.com ";
        input.items[0].sku = " SKU-BOOK";
      }));

      expect(state.order.email).to.equal("ada@example.com");
      expect(state.order.items[0].sku).to.equal("SKU-BOOK");
    });

    it("accepts an explicit formatVersion 1", async () => {
      const state = await handler(anInput({ formatVersion: 1 }));
      expect(state.order.orderId).to.equal("order-42");
    });

    it("treats a formatVersion key without a value as no formatVersion", async () => {
      const state = await handler(anInput({ formatVersion: undefined }));
      expect(state.order.orderId).to.equal("order-42");
    });

    it("retries the catalogue keys BatchGetItem leaves unprocessed", async () => {
      ddbMock
        .on(BatchGetCommand)
        .resolvesOnce({ Responses: { inventory: [CATALOGUE[0]] }, UnprocessedKeys: { inventory: { Keys: [{ sku: "SKU-PEN" }] } } })
        .resolvesOnce({ Responses: { inventory: [CATALOGUE[1]] } });

      const state = await handler(anInput());

      expect(state.order.total).to.equal(2800);
      expect(ddbMock.commandCalls(BatchGetCommand)[1].args[0].input.RequestItems).to.deep.equal({ inventory: { Keys: [{ sku: "SKU-PEN" }] } });
    });
  });

  describe("GIVEN the same order again (a repeat or a concurrent submission)", () => {
    it("returns the stored order and creates no second one", async () => {
      const first = await handler(anInput());
      const second = await handler(anInput());

      expect(second).to.deep.equal(first);
      expect(orders.size).to.equal(1);
      const puts = ddbMock.commandCalls(PutCommand);
      expect(puts).to.have.length(2);
      expect(puts[1].args[0].input.ConditionExpression, "the repeat can only create, never overwrite").to.equal("attribute_not_exists(orderId)");
    });

    it("keeps the prices it was placed with when the catalogue changed since", async () => {
      const first = await handler(anInput());
      fakeCatalogue("inventory", CATALOGUE.map((item) => ({ ...item, price: item.price * 2 })));

      const second = await handler(anInput());

      expect(second.order.total).to.equal(first.order.total);
    });

    it("returns the stored order when a SKU has left the catalogue since, without recording a rejection", async () => {
      const first = await handler(anInput());
      fakeCatalogue("inventory", [CATALOGUE[0]]);

      const second = await handler(anInput());

      expect(second).to.deep.equal(first);
      expect(orders.get("order-42")!.status).to.equal("PLACED");
    });

    it("returns a COMPLETED order as it is", async () => {
      const first = await handler(anInput());
      orders.get("order-42")!.status = "COMPLETED";

      expect(await handler(anInput())).to.deep.equal(first);
    });

    it("refuses it when the order already ended as CANCELLED, because a re-run would reserve released stock", async () => {
      await handler(anInput());
      Object.assign(orders.get("order-42")!, { status: "CANCELLED", reason: "OutOfStock: sku \"SKU-PEN\"" });

      const error = await rejectionOf(handler(anInput()));

      expect(error).to.be.instanceOf(OrderRejectedError);
      expect(error.message).to.equal(
        'orderId: order "order-42" already ended as CANCELLED (OutOfStock: sku "SKU-PEN"); submit a new orderId',
      );
    });

    it("refuses a different order under a taken orderId, leaving the stored one untouched", async () => {
      await handler(anInput());
      const stored = structuredClone(orders.get("order-42"));

      const error = await rejectionOf(handler(inputWith((input) => (input.items[0].quantity = 3))));

      expect(error).to.be.instanceOf(OrderRejectedError);
      expect(error.name).to.equal(ErrorNames.OrderRejected);
      expect(error.message).to.equal('orderId: order "order-42" already exists with different content; submit a new orderId');
      expect((error as OrderRejectedError).field).to.equal("orderId");
      expect(orders.get("order-42")).to.deep.equal(stored);
    });

    it("re-throws the original rejection when the orderId was rejected before", async () => {
      const first = await rejectionOf(handler(inputWith((input) => (input.email = "not-an-address"))));

      const second = await rejectionOf(handler(anInput()));

      expect(second).to.be.instanceOf(OrderRejectedError);
      expect(second.message).to.equal(first.message);
      expect(orders.get("order-42")!.status).to.equal("REJECTED");
    });
  });

  describe("GIVEN invalid input", () => {
    const huge = "x".repeat(100_000);
    const cases: { what: string; input: Record<string, any>; field: string; message: string }[] = [
      { what: "a missing customerId", input: inputWith((i) => delete i.customerId), field: "customerId", message: "customerId: is required" },
      { what: "a numeric customerId", input: inputWith((i) => (i.customerId = 7)), field: "customerId", message: "customerId: must be a string, got a number" },
      { what: "a blank customerId", input: inputWith((i) => (i.customerId = "   ")), field: "customerId", message: "customerId: must not be empty" },
      { what: "a 100 000-character customerId", input: inputWith((i) => (i.customerId = huge)), field: "customerId", message: "customerId: must be at most 64 characters, got 100000" },
      { what: "a missing email", input: inputWith((i) => delete i.email), field: "email", message: "email: is required" },
      { what: "an email without @", input: inputWith((i) => (i.email = "ada.example.com")), field: "email", message: "email: must be a valid e-mail address" },
      { what: "an email given as an array", input: inputWith((i) => (i.email = ["ada@example.com"])), field: "email", message: "email: must be a string, got an array" },
      { what: "an email over 254 characters", input: inputWith((i) => (i.email = `${"a".repeat(250)}@example.com`)), field: "email", message: "email: must be at most 254 characters, got 262" },
      { what: "missing items", input: inputWith((i) => delete i.items), field: "items", message: "items: is required" },
      { what: "items given as an object", input: inputWith((i) => (i.items = { sku: "SKU-PEN", quantity: 1 })), field: "items", message: "items: must be an array of { sku, quantity }" },
      { what: "an empty items list", input: inputWith((i) => (i.items = [])), field: "items", message: "items: must list at least one item" },
      {
        what: "51 items", input: inputWith((i) => (i.items = Array.from({ length: 51 }, (_, n) => ({ sku: `SKU-${n}`, quantity: 1 })))),
        field: "items",
        message: "items: must list at most 50 items, got 51",
      },
      { what: "an item that is a string", input: inputWith((i) => (i.items[0] = "SKU-BOOK")), field: "items[0]", message: "items[0]: must be an object" },
      { what: "an item without quantity", input: inputWith((i) => delete i.items[0].quantity), field: "items[0].quantity", message: "items[0].quantity: is required" },
      { what: "a zero quantity", input: inputWith((i) => (i.items[0].quantity = 0)), field: "items[0].quantity", message: "items[0].quantity: must be an integer ≥ 1" },
      { what: "a negative quantity", input: inputWith((i) => (i.items[0].quantity = -3)), field: "items[0].quantity", message: "items[0].quantity: must be an integer ≥ 1" },
      { what: "a fractional quantity", input: inputWith((i) => (i.items[1].quantity = 1.5)), field: "items[1].quantity", message: "items[1].quantity: must be an integer ≥ 1" },
      { what: "a quantity given as a string", input: inputWith((i) => (i.items[0].quantity = "2")), field: "items[0].quantity", message: "items[0].quantity: must be an integer ≥ 1" },
      { what: "a quantity over 1000", input: inputWith((i) => (i.items[0].quantity = 1001)), field: "items[0].quantity", message: "items[0].quantity: must be at most 1000" },
      { what: "an item without sku", input: inputWith((i) => delete i.items[1].sku), field: "items[1].sku", message: "items[1].sku: is required" },
      { what: "a 100 000-character sku", input: inputWith((i) => (i.items[0].sku = huge)), field: "items[0].sku", message: "items[0].sku: must be at most 64 characters, got 100000" },
      {
        what: "the same sku on two lines", input: inputWith((i) => (i.items[1].sku = "SKU-BOOK")),
        field: "items[1].sku",
        message: 'items[1].sku: repeats items[0].sku "SKU-BOOK"; put the whole quantity on one line',
      },
      { what: "a client-supplied price", input: inputWith((i) => (i.items[0].price = 1)), field: "items[0].price", message: "items[0].price: is not a known field" },
      { what: "a missing payment", input: inputWith((i) => delete i.payment), field: "payment", message: "payment: is required" },
      { what: "a payment without token", input: inputWith((i) => delete i.payment.token), field: "payment.token", message: "payment.token: is required" },
      { what: "a 100 000-character token", input: inputWith((i) => (i.payment.token = huge)), field: "payment.token", message: "payment.token: must be at most 128 characters, got 100000" },
      { what: "a missing shipTo", input: inputWith((i) => delete i.shipTo), field: "shipTo", message: "shipTo: is required" },
      { what: "an address without city", input: inputWith((i) => delete i.shipTo.city), field: "shipTo.city", message: "shipTo.city: is required" },
      { what: "a 100 000-character name", input: inputWith((i) => (i.shipTo.name = huge)), field: "shipTo.name", message: "shipTo.name: must be at most 200 characters, got 100000" },
      {
        what: "a 21-character postal code", input: inputWith((i) => (i.shipTo.postalCode = "1".repeat(21))),
        field: "shipTo.postalCode",
        message: "shipTo.postalCode: must be at most 20 characters, got 21",
      },
      {
        what: "a lower-case country", input: inputWith((i) => (i.shipTo.country = "de")),
        field: "shipTo.country",
        message: "shipTo.country: must be an ISO 3166-1 alpha-2 code in upper case, e.g. DE",
      },
      {
        what: "a three-letter country", input: inputWith((i) => (i.shipTo.country = "DEU")),
        field: "shipTo.country",
        message: "shipTo.country: must be an ISO 3166-1 alpha-2 code in upper case, e.g. DE",
      },
      { what: "an unknown address field (line2)", input: inputWith((i) => (i.shipTo.line2 = "Flat 3")), field: "shipTo.line2", message: "shipTo.line2: is not a known field" },
      { what: "an unknown top-level field", input: inputWith((i) => (i.coupon = "FREE")), field: "coupon", message: "coupon: is not a known field" },
    ];

    for (const { what, input, field, message } of cases) {
      it(`rejects ${what}, naming ${field}, and records only the rejection`, async () => {
        const error = await rejectionOf(handler(input));

        expect(error).to.be.instanceOf(OrderRejectedError);
        expect(error.name).to.equal(ErrorNames.OrderRejected);
        expect(error.message).to.equal(message);
        expect((error as OrderRejectedError).field).to.equal(field);
        const writes = dynamoWrites();
        expect(writes).to.have.length(1);
        expect(writes[0].command).to.equal("PutCommand");
        expect(writes[0].input.ConditionExpression).to.equal("attribute_not_exists(orderId)");
        expect(writes[0].input.Item).to.deep.equal({
          orderId: "order-42",
          status: "REJECTED",
          reason: message,
          createdAt: writes[0].input.Item.createdAt,
          formatVersion: 1,
        });
        expect(new Date(writes[0].input.Item.createdAt).toISOString()).to.equal(writes[0].input.Item.createdAt);
        expect(ddbMock.commandCalls(BatchGetCommand), "an invalid order is not priced").to.have.length(0);
      });
    }

    it("names every problem in one message, and the first as the field", async () => {
      const error = await rejectionOf(handler(inputWith((input) => {
        input.email = "nope";
        input.items[0].quantity = 0;
      })));

      expect(error.message).to.equal("email: must be a valid e-mail address; items[0].quantity: must be an integer ≥ 1");
      expect((error as OrderRejectedError).field).to.equal("email");
    });

    const unusableIds: [string, unknown, string][] = [
      ["a missing orderId", undefined, "orderId: is required"],
      ["a numeric orderId", 42, "orderId: must be a string, got a number"],
      ["an orderId with characters outside [A-Za-z0-9_-]", "order 42/x", "orderId: may contain only letters, digits, '_' and '-'"],
      ["an orderId over 64 characters", "o".repeat(65), "orderId: must be at most 64 characters, got 65"],
    ];
    for (const [what, orderId, message] of unusableIds) {
      it(`rejects ${what} and writes nothing, not even a rejection`, async () => {
        const input = anInput({ orderId });
        if (orderId === undefined) delete input.orderId;

        const error = await rejectionOf(handler(input));

        expect(error).to.be.instanceOf(OrderRejectedError);
        expect(error.message).to.equal(message);
        expect(dynamoWrites()).to.deep.equal([]);
      });
    }

    for (const [what, event] of [["null", null], ["a string", "order-42"], ["an array", [anInput()]]] as const) {
      it(`rejects an event that is ${what} and writes nothing`, async () => {
        const error = await rejectionOf(handler(event));

        expect(error).to.be.instanceOf(OrderRejectedError);
        expect(error.message).to.equal("(root): the order must be a JSON object");
        expect(dynamoWrites()).to.deep.equal([]);
      });
    }

    it("does not overwrite an existing order when recording the rejection", async () => {
      await handler(anInput());

      const error = await rejectionOf(handler(inputWith((input) => (input.email = "nope"))));

      expect(error.message).to.equal("email: must be a valid e-mail address");
      expect(orders.get("order-42")!.status).to.equal("PLACED");
    });
  });

  describe("GIVEN an unknown SKU", () => {
    it("rejects the order naming the line's sku and records only the rejection", async () => {
      const error = await rejectionOf(handler(inputWith((input) => (input.items[1].sku = "SKU-GHOST"))));

      expect(error).to.be.instanceOf(OrderRejectedError);
      expect(error.message).to.equal('items[1].sku: unknown SKU "SKU-GHOST"');
      expect((error as OrderRejectedError).field).to.equal("items[1].sku");
      expect(dynamoWrites().map((write) => write.input.Item)).to.deep.equal([
        { orderId: "order-42", status: "REJECTED", reason: error.message, createdAt: orders.get("order-42")!.createdAt, formatVersion: 1 },
      ]);
    });
  });

  describe("GIVEN an order the store can never fulfil (refused before any charge)", () => {
    const rejectedRecord = (reason: string) => ({ orderId: "order-42", status: "REJECTED", reason, createdAt: orders.get("order-42")!.createdAt, formatVersion: 1 });

    it("rejects a destination we do not ship to, naming the field and the supported destinations", async () => {
      const error = await rejectionOf(handler(inputWith((input) => (input.shipTo.country = "JP"))));

      expect(error).to.be.instanceOf(OrderRejectedError);
      expect(error.message).to.equal("shipTo.country: we do not ship to JP; supported destinations: DE, FR, NL, GB, US");
      expect((error as OrderRejectedError).field).to.equal("shipTo.country");
      expect(dynamoWrites().map((write) => write.input.Item)).to.deep.equal([rejectedRecord(error.message)]);
    });

    it("rejects a currency other than the store's and accepts the store's", async () => {
      const error = await rejectionOf(handler(anInput({ currency: "USD" })));
      expect(error.message).to.equal("currency: the store sells in EUR only, got USD");
      expect(dynamoWrites().map((write) => write.input.Item)).to.deep.equal([rejectedRecord(error.message)]);

      resetMocks();
      orders = fakeTable("orders", "orderId");
      fakeCatalogue("inventory", CATALOGUE);
      expect((await handler(anInput({ currency: "EUR" }))).order.currency).to.equal("EUR");
      expect((await rejectionOf(handler(anInput({ orderId: "order-43", currency: "eur" })))).message).to.equal("currency: must be an ISO 4217 code in upper case, e.g. EUR");
    });

    it("rejects a line the stock cannot cover now, at its bound and one past it", async () => {
      // SKU-BOOK has 10 in stock: 10 is accepted, 11 is refused.
      expect((await handler(inputWith((input) => (input.items[0].quantity = 10)))).order.total).to.equal(10 * 1250 + 300);

      resetMocks();
      orders = fakeTable("orders", "orderId");
      fakeCatalogue("inventory", CATALOGUE);
      const error = await rejectionOf(handler(inputWith((input) => (input.items[0].quantity = 11))));
      expect(error.message).to.equal('items[0].quantity: 11 of "SKU-BOOK" requested, 10 in stock');
      expect(dynamoWrites().map((write) => write.input.Item)).to.deep.equal([rejectedRecord(error.message)]);
    });

    it("names every problem at once: destination, currency, an unknown SKU and a short line", async () => {
      const error = await rejectionOf(
        handler(
          inputWith((input) => {
            input.currency = "GBP";
            input.shipTo.country = "BR";
            input.items = [
              { sku: "SKU-GHOST", quantity: 1 },
              { sku: "SKU-PEN", quantity: 101 },
            ];
          }),
        ),
      );
      expect(error.message).to.equal(
        'currency: the store sells in EUR only, got GBP; shipTo.country: we do not ship to BR; supported destinations: DE, FR, NL, GB, US; items[0].sku: unknown SKU "SKU-GHOST"; items[1].quantity: 101 of "SKU-PEN" requested, 100 in stock',
      );
      expect((error as OrderRejectedError).field).to.equal("currency");
    });
  });

  describe("GIVEN an unknown formatVersion", () => {
    for (const version of [2, "1", null]) {
      it(`refuses formatVersion ${JSON.stringify(version)} as unsupported and writes nothing`, async () => {
        const error = await rejectionOf(handler(anInput({ formatVersion: version })));

        expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
        expect(error.name).to.equal(ErrorNames.UnsupportedFormatVersion);
        expect(error.message).to.equal(`order input: formatVersion ${JSON.stringify(version)} is not supported (supported: 1)`);
        expect(ddbMock.calls()).to.have.length(0);
      });
    }
  });

  describe("GIVEN a broken catalogue or a failing table", () => {
    it("fails with InvalidDocument, not a rejection, when a catalogue price is in another currency", async () => {
      fakeCatalogue("inventory", [CATALOGUE[0], { ...CATALOGUE[1], currency: "USD" }]);

      const error = await rejectionOf(handler(anInput()));

      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.message).to.equal('inventory item "SKU-PEN": priced in USD, but the store sells in EUR');
      expect(dynamoWrites()).to.deep.equal([]);
    });

    it("fails with InvalidDocument naming the field when a catalogue item is malformed", async () => {
      fakeCatalogue("inventory", [CATALOGUE[0], { ...CATALOGUE[1], price: "3.00" }]);

      const error = await rejectionOf(handler(anInput()));

      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.message).to.equal('inventory item "SKU-PEN": price: must be a number, got a string');
    });

    it("lets a DynamoDB throttling error through so the workflow retries the step", async () => {
      ddbMock.on(PutCommand).rejects(awsError("ProvisionedThroughputExceededException", "slow down"));

      const error = await rejectionOf(handler(anInput()));

      expect(error.name).to.equal("ProvisionedThroughputExceededException");
    });

    it("does not mistake a failed conditional put for success when the order cannot be read back", async () => {
      ddbMock.on(PutCommand).rejects(conditionalCheckFailed());

      const error = await rejectionOf(handler(anInput()));

      expect(error.message).to.equal('order "order-42" was being created concurrently and then disappeared; retry');
    });
  });
});
