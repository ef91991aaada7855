import { aPlacedState, anOrder, newOrderId, rejectionOf, resetMocks, sandboxGateway, ssmMock } from "./support";
import { GetParameterCommand } from "@aws-sdk/client-ssm";
import { expect } from "chai";
import { handler } from "../../handlers/payment-processing";
import {
  ErrorNames,
  InvalidDocumentError,
  PaymentFailedError,
  PaymentGatewayUnavailableError,
  UnsupportedFormatVersionError,
} from "../../handlers/shared/errors";
import { PaymentResultSchema } from "../../handlers/shared/order-state";
import type { PaymentGateway } from "../../local/payment-gateway/server";

describe("PaymentProcessing (against the sandbox gateway)", () => {
  let gateway: PaymentGateway;
  const stateFor = (token: string, total = 2800) => aPlacedState(anOrder({ orderId: newOrderId("pay"), total }), token);
  const chargesOf = (orderId: string) => gateway.charges().filter((charge) => charge.orderId === orderId);

  before(async () => {
    gateway = await sandboxGateway();
  });
  beforeEach(resetMocks);

  it("reads the gateway key from SSM once per container, decrypted", async () => {
    // A new container: the handler module evaluated afresh, so its key cache is empty whichever test ran before.
    const file = require.resolve("../../handlers/payment-processing");
    delete require.cache[file];
    const { handler: coldHandler } = require(file) as typeof import("../../handlers/payment-processing");

    await coldHandler(stateFor("tok_visa"));
    await coldHandler(stateFor("tok_visa"));

    expect(ssmMock.commandCalls(GetParameterCommand).map((call) => call.args[0].input)).to.deep.equal([
      { Name: "/order-pipeline/payment-gateway-key", WithDecryption: true },
    ]);
  });

  it("charges the order total with the client's token and returns the charge", async () => {
    const state = stateFor("tok_visa", 4150);

    const payment = await handler(state);

    const [charge, ...others] = chargesOf(state.order.orderId);
    expect(others).to.deep.equal([]);
    expect(payment).to.deep.equal({ formatVersion: 1, chargeId: charge.chargeId, amount: 4150, currency: "EUR" });
    expect(charge).to.deep.include({ amount: 4150, currency: "EUR", token: "tok_visa", status: "succeeded", idempotencyKey: `charge-${state.order.orderId}` });
    expect(PaymentResultSchema.safeParse(payment).success, "the next steps can read it").to.equal(true);
  });

  it("returns the same charge when repeated, and the gateway records one charge", async () => {
    const state = stateFor("tok_visa");

    const first = await handler(state);
    const second = await handler(state);

    expect(second).to.deep.equal(first);
    expect(chargesOf(state.order.orderId)).to.have.length(1);
  });

  it("charges once when the gateway's answer is lost and the step is retried: the retry carries the same Idempotency-Key", async () => {
    const state = stateFor("tok_chargeThenTimeout");

    const first = await rejectionOf(handler(state));
    const retry = await rejectionOf(handler(state));

    for (const error of [first, retry]) expect(error).to.be.instanceOf(PaymentGatewayUnavailableError);
    expect(chargesOf(state.order.orderId).map((c) => [c.status, c.idempotencyKey])).to.deep.equal([["succeeded", `charge-${state.order.orderId}`]]);
  });

  for (const [token, code] of [["tok_chargeDeclined", "card_declined"], ["tok_insufficientFunds", "insufficient_funds"]]) {
    it(`fails with PaymentFailed naming ${code} when the gateway declines ${token}`, async () => {
      const state = stateFor(token);

      const error = await rejectionOf(handler(state));

      expect(error).to.be.instanceOf(PaymentFailedError);
      expect(error.name).to.equal(ErrorNames.PaymentFailed);
      expect(error.message).to.match(new RegExp(`^payment for order "${state.order.orderId}" declined: ${code} \\(.+\\)$`));
      expect((error as PaymentFailedError).declineCode).to.equal(code);
    });
  }

  it("gives up after PAYMENT_TIMEOUT_MS with PaymentGatewayUnavailable when the gateway never answers", async () => {
    const state = stateFor("tok_timeout");
    // This gateway holds the call for its hangMs (500 ms), so a container configured with 200 ms gives up first:
    // Node runs the earlier of two expired timers first, however late the process wakes. (The lost-answer test above
    // keeps the file's 10 s: there the charge must reach the gateway, which then drops the call.)
    const file = require.resolve("../../handlers/payment-processing");
    const configured = process.env.PAYMENT_TIMEOUT_MS;
    delete require.cache[file];
    process.env.PAYMENT_TIMEOUT_MS = "200";
    let error: Error;
    try {
      const { handler: shortTimeout } = require(file) as typeof import("../../handlers/payment-processing");
      error = await rejectionOf(shortTimeout(state));
    } finally {
      process.env.PAYMENT_TIMEOUT_MS = configured;
      delete require.cache[file];
    }

    expect(error).to.be.instanceOf(PaymentGatewayUnavailableError);
    expect(error.name).to.equal(ErrorNames.PaymentGatewayUnavailable);
    expect(error.message).to.equal("payment gateway did not answer POST /v1/charges within 200 ms");
    expect(chargesOf(state.order.orderId)).to.deep.equal([]);
  });

  it("fails with the gateway's message when it refuses the request (unknown token)", async () => {
    const error = await rejectionOf(handler(stateFor("tok_unknown")));

    expect(error.name).to.equal("Error");
    expect(error.message).to.match(/^payment gateway rejected POST \/v1\/charges with 400: invalid_token \(token "tok_unknown" is not a sandbox test token/);
  });

  it("refuses an unknown formatVersion without charging", async () => {
    const state = stateFor("tok_visa");

    const error = await rejectionOf(handler({ ...state, formatVersion: 2 }));

    expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
    expect(error.message).to.equal("PaymentProcessing event: formatVersion 2 is not supported (supported: 1)");
    expect(chargesOf(state.order.orderId)).to.deep.equal([]);
  });

  it("refuses a state without a payment token, naming it", async () => {
    const { paymentToken: _, ...state } = stateFor("tok_visa");

    const error = await rejectionOf(handler(state));

    expect(error).to.be.instanceOf(InvalidDocumentError);
    expect(error.message).to.equal("PaymentProcessing event: paymentToken: is required");
    expect(chargesOf(state.order.orderId)).to.deep.equal([]);
  });
});
