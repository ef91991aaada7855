import { anOrder, lambdaCause } from "../support";
import { expect } from "chai";
import { ErrorNames, InvalidDocumentError, UnsupportedFormatVersionError } from "../../../handlers/shared/errors";
import {
  MAX_REASON_LENGTH,
  OrderStateSchema,
  ShippedOrderStateSchema,
  parseState,
  reasonFromError,
} from "../../../handlers/shared/order-state";

describe("order state", () => {
  describe("reasonFromError", () => {
    it("reads errorType and errorMessage from a Lambda error Cause", () => {
      expect(reasonFromError({ Error: "PaymentFailed", Cause: lambdaCause("PaymentFailed", 'payment for order "o-1" declined: card_declined') })).to.equal(
        'PaymentFailed: payment for order "o-1" declined: card_declined',
      );
    });

    it("uses a Cause that is not JSON as text (States.* errors)", () => {
      expect(reasonFromError({ Error: "States.Timeout", Cause: "Task timed out after 10.00 seconds" })).to.equal(
        "States.Timeout: Task timed out after 10.00 seconds",
      );
    });

    it("falls back to the error name when the Cause is missing, empty or has no message", () => {
      expect(reasonFromError({ Error: "States.TaskFailed" })).to.equal("States.TaskFailed");
      expect(reasonFromError({ Error: "States.TaskFailed", Cause: "" })).to.equal("States.TaskFailed");
      expect(reasonFromError({ Error: "OutOfStock", Cause: JSON.stringify({ errorType: "OutOfStock" }) })).to.equal("OutOfStock");
      expect(reasonFromError({ Error: "Lambda.Unknown", Cause: "null" })).to.equal("Lambda.Unknown");
    });

    it("reads a Cause that is a JSON string as the message, and ignores one that is another JSON value", () => {
      expect(reasonFromError({ Error: "States.TaskFailed", Cause: JSON.stringify("the task failed") })).to.equal("States.TaskFailed: the task failed");
      expect(reasonFromError({ Error: "States.TaskFailed", Cause: "42" })).to.equal("States.TaskFailed");
    });

    it("treats a Cause of only blanks as missing", () => {
      expect(reasonFromError({ Error: "States.TaskFailed", Cause: "  \n" })).to.equal("States.TaskFailed");
    });

    it("keeps the Catch's error name when the Cause's errorType or errorMessage is empty, and says a message equal to the name once", () => {
      expect(reasonFromError({ Error: "OutOfStock", Cause: JSON.stringify({ errorType: "", errorMessage: "sku gone" }) })).to.equal("OutOfStock: sku gone");
      expect(reasonFromError({ Error: "OutOfStock", Cause: JSON.stringify({ errorType: "OutOfStock", errorMessage: "" }) })).to.equal("OutOfStock");
      expect(reasonFromError({ Error: "Error", Cause: JSON.stringify({ errorType: "Boom", errorMessage: "Boom" }) })).to.equal("Boom");
    });

    it("keeps a reason of exactly the storable length whole", () => {
      const message = "x".repeat(MAX_REASON_LENGTH - "Error: ".length);

      expect(reasonFromError({ Error: "Error", Cause: lambdaCause("Error", message) })).to.equal(`Error: ${message}`);
    });

    it("cuts a very long cause to a storable reason", () => {
      const reason = reasonFromError({ Error: "Error", Cause: lambdaCause("Error", "x".repeat(10_000)) });

      expect(reason).to.have.length(MAX_REASON_LENGTH);
      expect(reason.startsWith("Error: xxx")).to.equal(true);
      expect(reason.endsWith("…")).to.equal(true);
    });
  });

  describe("parseState", () => {
    const state = { formatVersion: 1, order: anOrder(), shipment: { formatVersion: 1, carrier: "DHL", trackingNumber: "TRK1" } };

    it("returns the parts it reads and drops what other steps added", () => {
      const parsed = parseState(OrderStateSchema, { ...state, payment: { anything: true } }, "Test event");

      expect(parsed).to.deep.equal({ formatVersion: 1, order: anOrder() });
    });

    it("refuses an unknown top-level formatVersion as UnsupportedFormatVersion", () => {
      expect(() => parseState(OrderStateSchema, { ...state, formatVersion: 2 }, "Test event"))
        .to.throw(UnsupportedFormatVersionError, "Test event: formatVersion 2 is not supported (supported: 1)")
        .with.property("name", ErrorNames.UnsupportedFormatVersion);
    });

    it("refuses an unknown formatVersion of a nested result, naming where it is", () => {
      expect(() => parseState(ShippedOrderStateSchema, { ...state, shipment: { ...state.shipment, formatVersion: 3 } }, "Test event")).to.throw(
        UnsupportedFormatVersionError,
        "Test event shipment: formatVersion 3 is not supported (supported: 1)",
      );
    });

    it("words a formatVersion it does not read as unsupported when the schema is used on its own", () => {
      const result = OrderStateSchema.safeParse({ formatVersion: 2, order: anOrder() });

      expect(result.error?.issues.map((issue) => [issue.path, issue.message])).to.deep.equal([[["formatVersion"], "is not supported"]]);
    });

    it("reports a missing formatVersion as an invalid document", () => {
      expect(() => parseState(OrderStateSchema, { order: anOrder() }, "Test event")).to.throw(
        InvalidDocumentError,
        "Test event: formatVersion: is required (this step reads formatVersion 1)",
      );
    });

    it("names every bad field with its path", () => {
      const broken = { ...state, order: { ...anOrder(), total: -1, shipTo: { ...anOrder().shipTo, country: undefined } } };

      expect(() => parseState(ShippedOrderStateSchema, broken, "Test event"))
        .to.throw(InvalidDocumentError, "Test event: order.total: must not be negative; order.shipTo.country: is required")
        .with.property("name", ErrorNames.InvalidDocument);
    });

    it("refuses an event that is not an object", () => {
      expect(() => parseState(OrderStateSchema, "order-1", "Test event")).to.throw(InvalidDocumentError, "Test event: (root): must be an object, got a string");
    });
  });
});
