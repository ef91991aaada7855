import { rejectionOf } from "../support";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ErrorNames,
  InvalidDocumentError,
  PaymentFailedError,
  PaymentGatewayUnavailableError,
} from "../../../handlers/shared/errors";
import { PaymentGatewayClient, paymentGatewayFromConfig } from "../../../handlers/shared/payment-gateway-client";
import { secureParameterCache } from "../../../handlers/shared/secure-parameter";

/**
 * The answers the sandbox gateway never gives (5xx, 429, malformed bodies) come from a stub server that replies
 * with whatever the test sets.
 */
describe("PaymentGatewayClient", () => {
  let server: Server;
  let baseUrl: string;
  let reply: { status: number; body: string };
  let received: { url?: string; headers: IncomingMessage["headers"]; body: string }[];
  let unauthorized: number;

  const charge = { orderId: "order-1", amount: 2800, currency: "EUR", token: "tok_visa" };
  const client = () =>
    new PaymentGatewayClient({ baseUrl, timeoutMs: 5_000, apiKey: async () => "key-1", onUnauthorized: () => (unauthorized += 1) });

  before(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        received.push({ url: req.url, headers: req.headers, body });
        // Status 0: a gateway that takes the request and never answers.
        if (reply.status === 0) return;
        res.writeHead(reply.status, { "Content-Type": "application/json" });
        res.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received = [];
    unauthorized = 0;
  });

  it("posts the charge as JSON with the key and the order's idempotency key", async () => {
    reply = { status: 200, body: JSON.stringify({ chargeId: "ch_1", amount: 2800, currency: "EUR", status: "succeeded" }) };

    expect(await client().charge(charge)).to.deep.equal({ chargeId: "ch_1", amount: 2800, currency: "EUR" });
    expect(received).to.have.length(1);
    expect(received[0].url).to.equal("/v1/charges");
    expect(received[0].headers).to.include({ authorization: "Bearer key-1", "idempotency-key": "charge-order-1", "content-type": "application/json" });
    expect(JSON.parse(received[0].body)).to.deep.equal({ amount: 2800, currency: "EUR", token: "tok_visa", orderId: "order-1" });
  });

  for (const status of [500, 502, 503, 429]) {
    it(`treats ${status} as the gateway being unavailable (retryable)`, async () => {
      reply = { status, body: JSON.stringify({ error: { code: "busy", message: "try later" } }) };

      const error = await rejectionOf(client().charge(charge));

      expect(error).to.be.instanceOf(PaymentGatewayUnavailableError);
      expect(error.name).to.equal(ErrorNames.PaymentGatewayUnavailable);
      expect(error.message).to.equal(`payment gateway answered ${status} to POST /v1/charges: busy (try later)`);
    });
  }

  it("treats 409 idempotency_key_in_use as the gateway being unavailable (retryable), and another 409 as an error", async () => {
    reply = { status: 409, body: JSON.stringify({ error: { code: "idempotency_key_in_use", message: "still processing" } }) };
    const inUse = await rejectionOf(client().charge(charge));
    reply = { status: 409, body: JSON.stringify({ error: { code: "idempotency_key_reused", message: "different request" } }) };
    const reused = await rejectionOf(client().charge(charge));

    expect(inUse).to.be.instanceOf(PaymentGatewayUnavailableError);
    expect(inUse.message).to.equal("payment gateway answered 409 to POST /v1/charges: idempotency_key_in_use (still processing)");
    expect(reused.name).to.equal("Error");
    expect(reused.message).to.equal("payment gateway rejected POST /v1/charges with 409: idempotency_key_reused (different request)");
  });

  it("treats a refused connection as the gateway being unavailable", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const error = await rejectionOf(
      // A refused connection ends the call at once: the long timeout only keeps a slow machine from turning it into one.
      new PaymentGatewayClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 60_000, apiKey: async () => "k" }).charge(charge),
    );

    expect(error).to.be.instanceOf(PaymentGatewayUnavailableError);
    expect(error.message).to.equal(`payment gateway unreachable at http://127.0.0.1:${port}/v1/charges: fetch failed (ECONNREFUSED)`);
  });

  it("treats no answer within the timeout as the gateway being unavailable, keeping the timeout as the cause", async () => {
    reply = { status: 0, body: "" };

    const error = await rejectionOf(
      new PaymentGatewayClient({ baseUrl, timeoutMs: 100, apiKey: async () => "key-1" }).charge(charge),
    );

    expect(error).to.be.instanceOf(PaymentGatewayUnavailableError);
    expect(error.message).to.equal("payment gateway did not answer POST /v1/charges within 100 ms");
    expect((error.cause as Error).name).to.equal("TimeoutError");
  });

  it("reports a connection failure without a system error code as it is, keeping it as the cause", async () => {
    // Port 1 is on fetch's list of blocked ports: it fails before connecting, with no `code`.
    const error = await rejectionOf(new PaymentGatewayClient({ baseUrl: "http://127.0.0.1:1", timeoutMs: 60_000, apiKey: async () => "k" }).charge(charge));

    expect(error).to.be.instanceOf(PaymentGatewayUnavailableError);
    expect(error.message).to.equal("payment gateway unreachable at http://127.0.0.1:1/v1/charges: fetch failed");
    expect((error.cause as Error).message).to.equal("fetch failed");
  });

  it("words an unavailable gateway's empty, plain-text or code-only answers", async () => {
    const answer = async (status: number, body: string) => {
      reply = { status, body };
      return (await rejectionOf(client().charge(charge))).message;
    };

    expect(await answer(503, "")).to.equal("payment gateway answered 503 to POST /v1/charges: no body");
    expect(await answer(502, "x".repeat(200))).to.equal(`payment gateway answered 502 to POST /v1/charges: ${"x".repeat(200)}`);
    expect(await answer(502, "x".repeat(201))).to.equal(`payment gateway answered 502 to POST /v1/charges: ${"x".repeat(200)}…`);
    expect(await answer(500, JSON.stringify({ error: { code: "internal" } }))).to.equal("payment gateway answered 500 to POST /v1/charges: internal");
  });

  it("retries idempotency_key_in_use only as a 409", async () => {
    reply = { status: 422, body: JSON.stringify({ error: { code: "idempotency_key_in_use", message: "odd" } }) };

    const error = await rejectionOf(client().charge(charge));

    expect(error).to.not.be.instanceOf(PaymentGatewayUnavailableError);
    expect(error.message).to.equal("payment gateway rejected POST /v1/charges with 422: idempotency_key_in_use (odd)");
  });

  it("refuses a 300 answer as not a success", async () => {
    reply = { status: 300, body: JSON.stringify({ chargeId: "ch_1", amount: 2800, currency: "EUR", status: "succeeded" }) };

    const error = await rejectionOf(client().charge(charge));

    expect(error.message).to.equal(`payment gateway rejected POST /v1/charges with 300: ${reply.body}`);
  });

  it("maps a 402 without the usual body to PaymentFailed with an unknown code", async () => {
    reply = { status: 402, body: "declined" };

    const error = await rejectionOf(client().charge(charge));

    expect(error).to.be.instanceOf(PaymentFailedError);
    expect(error.message).to.equal('payment for order "order-1" declined: unknown');
    expect((error as PaymentFailedError).declineCode).to.equal("unknown");
  });

  it("reports another 4xx as a plain error with the gateway's message", async () => {
    reply = { status: 400, body: JSON.stringify({ error: { code: "invalid_request", message: "amount: must be at least 1" } }) };

    const error = await rejectionOf(client().charge(charge));

    expect(error.name).to.equal("Error");
    expect(error.message).to.equal("payment gateway rejected POST /v1/charges with 400: invalid_request (amount: must be at least 1)");
    expect(unauthorized).to.equal(0);
  });

  it("drops the cached key when the gateway answers 401", async () => {
    reply = { status: 401, body: JSON.stringify({ error: { code: "unauthorized", message: "bad key" } }) };

    const error = await rejectionOf(client().refund("order-1"));

    expect(error.message).to.equal("payment gateway rejected POST /v1/refunds with 401: unauthorized (bad key)");
    expect(unauthorized).to.equal(1);
  });

  it("refuses a 200 that is not a succeeded charge", async () => {
    reply = { status: 200, body: JSON.stringify({ chargeId: "ch_1", amount: 2800, currency: "EUR", status: "pending" }) };

    const error = await rejectionOf(client().charge(charge));

    expect(error).to.be.instanceOf(InvalidDocumentError);
    expect(error.message).to.match(/^payment gateway answer to POST \/v1\/charges: status: /);
  });

  it("refuses a charge for another amount than the order total", async () => {
    reply = { status: 200, body: JSON.stringify({ chargeId: "ch_1", amount: 100, currency: "EUR", status: "succeeded" }) };

    const error = await rejectionOf(client().charge(charge));

    expect(error).to.be.instanceOf(InvalidDocumentError);
    expect(error.message).to.equal('payment gateway charged 100 EUR for order "order-1", expected 2800 EUR');
  });

  it("refuses a charge in another currency than the order's", async () => {
    reply = { status: 200, body: JSON.stringify({ chargeId: "ch_1", amount: 2800, currency: "USD", status: "succeeded" }) };

    const error = await rejectionOf(client().charge(charge));

    expect(error).to.be.instanceOf(InvalidDocumentError);
    expect(error.message).to.equal('payment gateway charged 2800 USD for order "order-1", expected 2800 EUR');
  });

  it("refuses a refund answer that is not JSON", async () => {
    reply = { status: 200, body: "<html>ok</html>" };

    const error = await rejectionOf(client().refund("order-1"));

    expect(error).to.be.instanceOf(InvalidDocumentError);
    expect(error.message).to.equal("payment gateway answer to POST /v1/refunds: (root): must be an object, got a string");
  });

  describe("paymentGatewayFromConfig", () => {
    const ssmClient = new SSMClient({ region: "eu-west-1" });
    const ssm = mockClient(ssmClient);
    beforeEach(() => ssm.reset());
    after(() => ssm.restore());

    it("reads the key from the named SSM parameter and reads it again after the gateway refuses it (rotation)", async () => {
      ssm.on(GetParameterCommand).resolvesOnce({ Parameter: { Value: "old" } }).resolves({ Parameter: { Value: "new" } });
      const gateway = paymentGatewayFromConfig(
        { PAYMENT_GATEWAY_URL: baseUrl, PAYMENT_KEY_PARAMETER: "/shop/payment-key", PAYMENT_TIMEOUT_MS: 300 },
        secureParameterCache(ssmClient),
      );

      reply = { status: 401, body: JSON.stringify({ error: { code: "unauthorized" } }) };
      await rejectionOf(gateway.refund("order-1"));
      reply = { status: 200, body: JSON.stringify({ refundId: null, amount: 0 }) };
      expect(await gateway.refund("order-1")).to.deep.equal({ refundId: null, amount: 0 });

      expect(received.map((request) => request.headers.authorization)).to.deep.equal(["Bearer old", "Bearer new"]);
      expect(ssm.commandCalls(GetParameterCommand).map((call) => call.args[0].input.Name)).to.deep.equal(["/shop/payment-key", "/shop/payment-key"]);
    });
  });
});
