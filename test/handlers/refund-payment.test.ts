import { anOrder, GATEWAY_KEY, newOrderId, rejectionOf, resetMocks, sandboxGateway } from "./support";
import { expect } from "chai";
import { handler } from "../../handlers/refund-payment";
import { InvalidDocumentError, UnsupportedFormatVersionError } from "../../handlers/shared/errors";
import type { PaymentGateway } from "../../local/payment-gateway/server";

describe("RefundPayment (against the sandbox gateway)", () => {
  let gateway: PaymentGateway;

  before(async () => {
    gateway = await sandboxGateway();
  });
  beforeEach(resetMocks);

  /**
   * Charges through the gateway's API directly, as PaymentProcessing would have. A token the gateway never answers is
   * abandoned once the gateway has seen the request (it records an attempt, or — tok_timeout — holds it).
   */
  async function charged(token = "tok_visa", amount = 2800): Promise<string> {
    const orderId = newOrderId("refund");
    const abandon = new AbortController();
    const request = fetch(`${gateway.url}/v1/charges`, {
      method: "POST",
      headers: { Authorization: `Bearer ${GATEWAY_KEY}`, "Content-Type": "application/json", "Idempotency-Key": `charge-${orderId}` },
      body: JSON.stringify({ orderId, amount, currency: "EUR", token }),
      signal: abandon.signal,
    }).catch(() => undefined);
    if (token === "tok_timeout" || token === "tok_chargeThenTimeout") await gateway.whenHeld(orderId);
    else await request;
    abandon.abort();
    return orderId;
  }
  const stateFor = (orderId: string) => ({ formatVersion: 1, order: anOrder({ orderId }), error: { Error: "OutOfStock", Cause: "{}" } });
  const refundsOf = (orderId: string) => gateway.refunds().filter((refund) => refund.orderId === orderId);

  it("refunds the whole charge of the order", async () => {
    const orderId = await charged("tok_visa", 3100);

    const refund = await handler(stateFor(orderId));

    const [recorded, ...others] = refundsOf(orderId);
    expect(others).to.deep.equal([]);
    expect(refund).to.deep.equal({ formatVersion: 1, refundId: recorded.refundId, amount: 3100 });
    expect(recorded).to.deep.include({ amount: 3100, currency: "EUR", idempotencyKey: `refund-${orderId}` });
  });

  it("returns the same refund when repeated, and the gateway records one refund", async () => {
    const orderId = await charged();

    const first = await handler(stateFor(orderId));
    const second = await handler(stateFor(orderId));

    expect(second).to.deep.equal(first);
    expect(refundsOf(orderId)).to.have.length(1);
  });

  it("refunds nothing, successfully, when the order was never charged", async () => {
    const orderId = newOrderId("refund");

    expect(await handler(stateFor(orderId))).to.deep.equal({ formatVersion: 1, refundId: null, amount: 0 });
    expect(refundsOf(orderId)).to.deep.equal([]);
  });

  it("refunds nothing after a charge whose outcome was never known (timed out)", async () => {
    const orderId = await charged("tok_timeout");

    expect(await handler(stateFor(orderId))).to.deep.equal({ formatVersion: 1, refundId: null, amount: 0 });
  });

  it("refunds the real charge behind an answer that was lost (tok_chargeThenTimeout)", async () => {
    const orderId = await charged("tok_chargeThenTimeout", 1900);

    const refund = await handler(stateFor(orderId));

    expect(refund).to.deep.include({ amount: 1900 });
    expect(refundsOf(orderId).map((r) => r.amount)).to.deep.equal([1900]);
  });

  it("refunds nothing after a declined charge", async () => {
    const orderId = await charged("tok_chargeDeclined");

    expect(await handler(stateFor(orderId))).to.deep.equal({ formatVersion: 1, refundId: null, amount: 0 });
  });

  it("refuses an unknown formatVersion without refunding", async () => {
    const orderId = await charged();

    const error = await rejectionOf(handler({ ...stateFor(orderId), formatVersion: 2 }));

    expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
    expect(refundsOf(orderId)).to.deep.equal([]);
  });

  it("refuses a state without an order, naming it", async () => {
    const error = await rejectionOf(handler({ formatVersion: 1 }));

    expect(error).to.be.instanceOf(InvalidDocumentError);
    expect(error.message).to.equal("RefundPayment event: order: is required");
  });
});
