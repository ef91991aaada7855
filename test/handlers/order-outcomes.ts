import { anOrder, ddbMock, dynamoWrites, fakeOrderStatus, lambdaCause, rejectionOf, resetMocks, snsMock, TOPIC_ARN } from "./support";
import { PublishCommand } from "@aws-sdk/client-sns";
import { expect } from "chai";
import { ErrorNames, InvalidDocumentError, InvalidOrderTransitionError, UnsupportedFormatVersionError } from "../../handlers/shared/errors";
import { logger } from "../../handlers/shared/logger";

/**
 * HandlePaymentFailure and CancelOrder behave alike (end a PLACED order with the caught error's reason, then
 * announce it); the same behaviours are checked for both.
 */
export function describeOrderOutcome(spec: {
  readonly title: string;
  readonly handler: (event: unknown) => Promise<{ formatVersion: 1; orderStatus: string; reason: string }>;
  readonly status: "PAYMENT_FAILED" | "CANCELLED";
  readonly eventType: "PaymentFailed" | "OrderCancelled";
  readonly caught: { readonly errorType: string; readonly errorMessage: string };
  /** The other final status that must not be overwritten. */
  readonly otherStatus: string;
  /** The warning the step logs when it ends an order. */
  readonly logMessage: string;
}): void {
  const { handler, status, eventType, caught } = spec;
  const reason = `${caught.errorType}: ${caught.errorMessage}`;
  const state = {
    formatVersion: 1,
    order: anOrder(),
    paymentToken: "tok_visa",
    error: { Error: caught.errorType, Cause: lambdaCause(caught.errorType, caught.errorMessage) },
  };

  describe(spec.title, () => {
    beforeEach(resetMocks);

    it(`marks the order ${status} with the reason from the caught error, announces ${eventType} and returns the outcome`, async () => {
      const order = fakeOrderStatus("PLACED");

      const outcome = await handler(state);

      expect(outcome).to.deep.equal({ formatVersion: 1, orderStatus: status, reason });
      expect(order.status()).to.equal(status);
      const [update, ...others] = dynamoWrites();
      expect(others).to.deep.equal([]);
      expect(update.input).to.deep.include({
        TableName: "orders",
        Key: { orderId: "order-1" },
        UpdateExpression: "SET #status = :to, updatedAt = :now, #reason = :reason",
        ConditionExpression: "#status = :placed",
      });
      expect(update.input.ExpressionAttributeValues).to.deep.include({ ":to": status, ":placed": "PLACED", ":reason": reason });

      const [publish] = snsMock.commandCalls(PublishCommand);
      const input = publish.args[0].input;
      const body = JSON.parse(input.Message!);
      expect(input.TopicArn).to.equal(TOPIC_ARN);
      expect(body).to.deep.equal({
        formatVersion: 1,
        type: eventType,
        orderId: "order-1",
        customerId: "customer-7",
        email: "ada@example.com",
        total: 2800,
        currency: "EUR",
        reason,
        occurredAt: body.occurredAt,
      });
      expect(input.MessageAttributes).to.deep.equal({
        formatVersion: { DataType: "Number", StringValue: "1" },
        type: { DataType: "String", StringValue: eventType },
        eventId: { DataType: "String", StringValue: `order-1#${eventType}` },
      });
    });

    it("returns the same outcome when repeated and announces it again with the same eventId", async () => {
      const order = fakeOrderStatus("PLACED", { withItem: false });

      const first = await handler(state);
      const second = await handler(state);

      expect(second).to.deep.equal(first);
      expect(order.status()).to.equal(status);
      const eventIds = snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input.MessageAttributes!.eventId.StringValue);
      expect(eventIds).to.deep.equal([`order-1#${eventType}`, `order-1#${eventType}`]);
    });

    it(`refuses to overwrite an order that is already ${spec.otherStatus}, announcing nothing`, async () => {
      const order = fakeOrderStatus(spec.otherStatus);

      const error = await rejectionOf(handler(state));

      expect(error).to.be.instanceOf(InvalidOrderTransitionError);
      expect(error.name).to.equal(ErrorNames.InvalidOrderTransition);
      expect(error.message).to.equal(`order "order-1" is ${spec.otherStatus} and cannot become ${status}; only PLACED orders change status`);
      expect(order.status()).to.equal(spec.otherStatus);
      expect(snsMock.calls()).to.have.length(0);
    });

    it("refuses an order that does not exist, announcing nothing", async () => {
      fakeOrderStatus(undefined);

      const error = await rejectionOf(handler(state));

      expect(error).to.be.instanceOf(InvalidOrderTransitionError);
      expect(error.message).to.equal(
        `order "order-1" does not exist or is in another final status and cannot become ${status}; only PLACED orders change status`,
      );
      expect(snsMock.calls()).to.have.length(0);
    });

    it("logs the ending as a warning with the order, the reason and whether this call changed the status", async () => {
      fakeOrderStatus("PLACED", { withItem: false });
      const warned: unknown[][] = [];
      const warn = logger.warn;
      logger.warn = (...args: unknown[]) => void warned.push(args);
      try {
        await handler(state);
        await handler(state);
      } finally {
        logger.warn = warn;
      }

      expect(warned).to.deep.equal([
        [spec.logMessage, { orderId: "order-1", reason, change: "changed" }],
        [spec.logMessage, { orderId: "order-1", reason, change: "unchanged" }],
      ]);
    });

    it("uses a Cause that is not Lambda JSON as text", async () => {
      fakeOrderStatus("PLACED");

      const outcome = await handler({ ...state, error: { Error: "States.Timeout", Cause: "Task timed out after 10.00 seconds" } });

      expect(outcome.reason).to.equal("States.Timeout: Task timed out after 10.00 seconds");
    });

    it("refuses an unknown formatVersion, changing and announcing nothing", async () => {
      const error = await rejectionOf(handler({ ...state, formatVersion: 2 }));

      expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
      expect(ddbMock.calls()).to.have.length(0);
      expect(snsMock.calls()).to.have.length(0);
    });

    it("refuses a state without the caught error, naming it", async () => {
      const { error: _, ...withoutError } = state;

      const error = await rejectionOf(handler(withoutError));

      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.message).to.match(/ event: error: is required$/);
      expect(ddbMock.calls()).to.have.length(0);
    });
  });
}
