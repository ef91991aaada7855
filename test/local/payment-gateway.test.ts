import { expect } from "chai";
import { SANDBOX_API_KEY, startPaymentGateway, type PaymentGateway } from "../../local/payment-gateway/server";

describe("sandbox payment gateway", () => {
  const KEY = "sk_test_gateway";
  let gateway: PaymentGateway;
  let sequence = 0;

  before(async () => {
    gateway = await startPaymentGateway({ apiKey: KEY, hangMs: 2_000 });
  });
  after(async () => {
    await gateway.close();
  });

  const newOrderId = () => `gw-order-${++sequence}`;

  async function call(
    method: string,
    path: string,
    options: { body?: unknown; rawBody?: string; key?: string | null; idempotencyKey?: string; timeoutMs?: number } = {},
  ): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (options.key !== null) headers.Authorization = `Bearer ${options.key ?? KEY}`;
    if (options.idempotencyKey !== undefined) headers["Idempotency-Key"] = options.idempotencyKey;
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers,
      body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
      // Answers come at once; the bound only keeps a stalled call from hanging the suite.
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    return { status: response.status, body: await response.json() };
  }
  const charge = (orderId: string, token: string, idempotencyKey?: string, amount = 1500) =>
    call("POST", "/v1/charges", { body: { amount, currency: "EUR", token, orderId }, idempotencyKey });
  const refund = (orderId: string, idempotencyKey?: string) => call("POST", "/v1/refunds", { body: { orderId }, idempotencyKey });
  const chargesOf = (orderId: string) => gateway.charges().filter((c) => c.orderId === orderId);
  const refundsOf = (orderId: string) => gateway.refunds().filter((r) => r.orderId === orderId);

  describe("charges", () => {
    it("approves tok_visa and records the charge", async () => {
      const orderId = newOrderId();

      const { status, body } = await charge(orderId, "tok_visa", `charge-${orderId}`);

      expect(status).to.equal(200);
      expect(body).to.deep.equal({ chargeId: body.chargeId, amount: 1500, currency: "EUR", status: "succeeded", orderId });
      expect(body.chargeId).to.match(/^ch_[0-9a-f]{24}$/);
      expect(chargesOf(orderId)).to.deep.equal([
        {
          chargeId: body.chargeId,
          orderId,
          amount: 1500,
          currency: "EUR",
          token: "tok_visa",
          status: "succeeded",
          idempotencyKey: `charge-${orderId}`,
          createdAt: chargesOf(orderId)[0].createdAt,
        },
      ]);
    });

    for (const [token, code] of [["tok_chargeDeclined", "card_declined"], ["tok_insufficientFunds", "insufficient_funds"]]) {
      it(`declines ${token} with 402 ${code} and records the declined attempt`, async () => {
        const orderId = newOrderId();

        const { status, body } = await charge(orderId, token);

        expect(status).to.equal(402);
        expect(body.error.code).to.equal(code);
        expect(body.error.message).to.be.a("string").and.not.equal("");
        expect(chargesOf(orderId).map((c) => [c.status, c.declineCode])).to.deep.equal([["declined", code]]);
      });
    }

    it("answers 400 for a token that is not a sandbox token, recording nothing", async () => {
      const orderId = newOrderId();

      const { status, body } = await charge(orderId, "tok_mastercard");

      expect(status).to.equal(400);
      expect(body.error).to.deep.equal({
        code: "invalid_token",
        message: 'token "tok_mastercard" is not a sandbox test token; use one of tok_visa, tok_chargeDeclined, tok_insufficientFunds, tok_timeout, tok_chargeThenTimeout',
      });
      expect(chargesOf(orderId)).to.deep.equal([]);
    });

    it("replays the first answer for a repeated Idempotency-Key and records one charge", async () => {
      const orderId = newOrderId();

      const first = await charge(orderId, "tok_visa", `charge-${orderId}`);
      const second = await charge(orderId, "tok_visa", `charge-${orderId}`);

      expect(second).to.deep.equal(first);
      expect(chargesOf(orderId)).to.have.length(1);
    });

    it("replays a decline for a repeated Idempotency-Key without a second attempt", async () => {
      const orderId = newOrderId();

      const first = await charge(orderId, "tok_chargeDeclined", `charge-${orderId}`);
      const second = await charge(orderId, "tok_chargeDeclined", `charge-${orderId}`);

      expect(second).to.deep.equal(first);
      expect(chargesOf(orderId)).to.have.length(1);
    });

    it("refuses an Idempotency-Key reused for a different request with 409", async () => {
      const orderId = newOrderId();
      await charge(orderId, "tok_visa", `charge-${orderId}`);

      const { status, body } = await charge(orderId, "tok_visa", `charge-${orderId}`, 9999);

      expect(status).to.equal(409);
      expect(body.error.code).to.equal("idempotency_key_reused");
      expect(chargesOf(orderId)).to.have.length(1);
    });

    it("recognises a duplicate by its Idempotency-Key only: another key or none charges the same order again", async () => {
      const orderId = newOrderId();

      const first = await charge(orderId, "tok_visa", "key-a");
      const otherKey = await charge(orderId, "tok_visa", "key-b");
      const noKey = await charge(orderId, "tok_visa");
      const noKeyAgain = await charge(orderId, "tok_visa");

      const ids = [first, otherKey, noKey, noKeyAgain].map((answer) => answer.body.chargeId);
      expect(new Set(ids).size).to.equal(4);
      expect(chargesOf(orderId).map((c) => c.status)).to.deep.equal(["succeeded", "succeeded", "succeeded", "succeeded"]);
    });

    it("answers 409 idempotency_key_in_use to a duplicate that arrives while the first is being processed", async () => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let started!: () => void;
      const processing = new Promise<void>((resolve) => (started = resolve));
      const slow = await startPaymentGateway({
        beforeProcessing: async ({ idempotencyKey }) => {
          if (idempotencyKey !== "slow-key") return;
          started();
          await released;
        },
      });
      try {
        const send = () =>
          fetch(`${slow.url}/v1/charges`, {
            method: "POST",
            headers: { Authorization: `Bearer ${SANDBOX_API_KEY}`, "Idempotency-Key": "slow-key" },
            body: JSON.stringify({ amount: 1500, currency: "EUR", token: "tok_visa", orderId: "slow" }),
          }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));
        const first = send();
        await processing;

        const duplicate = await send();
        expect(duplicate.status).to.equal(409);
        expect(duplicate.body.error.code).to.equal("idempotency_key_in_use");

        release();
        expect((await first).status).to.equal(200);
        const replay = await send();
        expect(replay.body.chargeId).to.equal((await first).body.chargeId);
        expect(slow.charges()).to.have.length(1);
      } finally {
        release();
        await slow.close();
      }
    });

    it("frees the key of a request it refused, so the corrected request can use it", async () => {
      const orderId = newOrderId();

      const refused = await call("POST", "/v1/charges", { body: { amount: 0, currency: "EUR", token: "tok_visa", orderId }, idempotencyKey: `charge-${orderId}` });
      const corrected = await charge(orderId, "tok_visa", `charge-${orderId}`);

      expect(refused.status).to.equal(400);
      expect(corrected.status).to.equal(200);
      expect(chargesOf(orderId)).to.have.length(1);
    });

    it("approves a new attempt with another key after a decline", async () => {
      const orderId = newOrderId();
      await charge(orderId, "tok_chargeDeclined", "attempt-1");

      const { status } = await charge(orderId, "tok_visa", "attempt-2");

      expect(status).to.equal(200);
      expect(chargesOf(orderId).map((c) => c.status)).to.deep.equal(["declined", "succeeded"]);
    });

    it("holds tok_timeout without answering until the client gives up, charging nothing", async () => {
      const orderId = newOrderId();

      const error = await call("POST", "/v1/charges", {
        body: { amount: 1500, currency: "EUR", token: "tok_timeout", orderId },
        timeoutMs: 150,
      }).then(
        () => undefined,
        (e: Error) => e,
      );

      expect(error?.name).to.equal("TimeoutError");
      expect(chargesOf(orderId)).to.deep.equal([]);
    });

    it("drops a held tok_timeout connection after hangMs, and close() does not wait for held requests", async () => {
      const impatient = await startPaymentGateway({ hangMs: 50 });
      const outcome = await fetch(`${impatient.url}/v1/charges`, {
        method: "POST",
        headers: { Authorization: `Bearer ${SANDBOX_API_KEY}` },
        body: JSON.stringify({ amount: 1, currency: "EUR", token: "tok_timeout", orderId: "o" }),
        signal: AbortSignal.timeout(2_000),
      }).then(
        (response) => `answered ${response.status}`,
        (e: Error & { cause?: { code?: string } }) => `${e.message} (${e.cause?.code})`,
      );
      // Dropped by the server (a socket error), not abandoned by the client's 2 s timeout (a TimeoutError).
      expect(outcome).to.equal("fetch failed (UND_ERR_SOCKET)");

      const held = fetch(`${impatient.url}/v1/charges`, {
        method: "POST",
        headers: { Authorization: `Bearer ${SANDBOX_API_KEY}` },
        body: JSON.stringify({ amount: 1, currency: "EUR", token: "tok_timeout", orderId: "o2" }),
      }).catch(() => "dropped");
      await new Promise((resolve) => setTimeout(resolve, 20));
      await impatient.close();
      expect(await held).to.equal("dropped");
    });

    it("charges tok_chargeThenTimeout and never answers, nor does a replay of its key, which charges nothing more", async () => {
      // A gateway that drops a held call after 100 ms: each attempt ends only once the gateway has taken it (a client
      // timeout could end it before the request arrives on a busy machine).
      const quick = await startPaymentGateway({ apiKey: KEY, hangMs: 100 });
      const orderId = newOrderId();
      const attempt = () =>
        fetch(`${quick.url}/v1/charges`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${KEY}`, "Idempotency-Key": `charge-${orderId}` },
          body: JSON.stringify({ amount: 1500, currency: "EUR", token: "tok_chargeThenTimeout", orderId }),
          signal: AbortSignal.timeout(60_000),
        }).then(
          () => "answered",
          (e: Error & { cause?: { code?: string } }) => `${e.name} (${e.cause?.code})`,
        );
      try {
        expect(await attempt()).to.equal("TypeError (UND_ERR_SOCKET)");
        expect(await attempt()).to.equal("TypeError (UND_ERR_SOCKET)");
        expect(quick.charges().filter((c) => c.orderId === orderId).map((c) => c.status)).to.deep.equal(["succeeded"]);
        const refunded = await fetch(`${quick.url}/v1/refunds`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${KEY}`, "Idempotency-Key": `refund-${orderId}` },
          body: JSON.stringify({ orderId }),
        });
        expect(await refunded.json()).to.deep.include({ amount: 1500, refundId: quick.refunds().filter((r) => r.orderId === orderId)[0]!.refundId });
      } finally {
        await quick.close();
      }
    });
  });

  describe("refunds", () => {
    it("answers refundId null and amount 0 for an order without a charge, recording nothing", async () => {
      const orderId = newOrderId();

      expect(await refund(orderId, `refund-${orderId}`)).to.deep.equal({ status: 200, body: { refundId: null, amount: 0, refunds: [] } });
      expect(refundsOf(orderId)).to.deep.equal([]);
    });

    it("refunds the whole succeeded charge once: the same key replays, another key is refused as already refunded", async () => {
      const orderId = newOrderId();
      const charged = await charge(orderId, "tok_visa", `charge-${orderId}`, 2750);

      const first = await refund(orderId, `refund-${orderId}`);
      const repeat = await refund(orderId, `refund-${orderId}`);
      const otherKey = await refund(orderId, "another-key");
      const noKey = await refund(orderId);

      expect(first.status).to.equal(200);
      expect(first.body).to.deep.include({ amount: 2750, currency: "EUR", orderId });
      expect(first.body.refundId).to.match(/^re_[0-9a-f]{24}$/);
      expect(first.body.refunds).to.deep.equal([{ refundId: first.body.refundId, amount: 2750, currency: "EUR", chargeId: charged.body.chargeId, orderId }]);
      expect(repeat).to.deep.equal(first);
      for (const refused of [otherKey, noKey]) {
        expect(refused.status).to.equal(400);
        expect(refused.body.error.code).to.equal("charge_already_refunded");
      }
      expect(refundsOf(orderId).map((r) => r.amount)).to.deep.equal([2750]);
    });

    it("refunds every charge of an order not yet refunded, so a double charge is undone in full", async () => {
      const orderId = newOrderId();
      await charge(orderId, "tok_visa", "first", 1000);
      await refund(orderId, "refund-first");
      await charge(orderId, "tok_visa", "second", 1000);
      await charge(orderId, "tok_visa", "third", 1000);

      const answer = await refund(orderId, "refund-rest");

      expect(answer.body.amount).to.equal(2000);
      expect(answer.body.refunds).to.have.length(2);
      expect(refundsOf(orderId).map((r) => r.amount)).to.deep.equal([1000, 1000, 1000]);
    });

    it("does not refund a declined charge", async () => {
      const orderId = newOrderId();
      await charge(orderId, "tok_insufficientFunds");

      expect((await refund(orderId)).body).to.deep.equal({ refundId: null, amount: 0, refunds: [] });
    });
  });

  describe("requests it refuses", () => {
    it("requires the key it was started with (401 without it or with another)", async () => {
      const orderId = newOrderId();

      const missing = await call("POST", "/v1/charges", { body: { amount: 1, currency: "EUR", token: "tok_visa", orderId }, key: null });
      const wrong = await call("POST", "/v1/charges", { body: { amount: 1, currency: "EUR", token: "tok_visa", orderId }, key: "sk_other" });
      const listing = await call("GET", "/v1/charges", { key: "sk_other" });

      for (const answer of [missing, wrong, listing]) {
        expect(answer.status).to.equal(401);
        expect(answer.body.error.code).to.equal("unauthorized");
      }
      expect(chargesOf(orderId)).to.deep.equal([]);
    });

    const bad: [string, string, string][] = [
      ["not JSON", "{amount:", "invalid_json"],
      ["empty", "", "invalid_json"],
      ["a JSON array", "[]", "invalid_request"],
    ];
    for (const [what, rawBody, code] of bad) {
      it(`answers 400 ${code} for a body that is ${what}`, async () => {
        const { status, body } = await call("POST", "/v1/charges", { rawBody });

        expect(status).to.equal(400);
        expect(body.error.code).to.equal(code);
        expect(body.error.message).to.be.a("string").and.not.equal("");
      });
    }

    it("names every bad or unknown field of a charge", async () => {
      const { status, body } = await call("POST", "/v1/charges", { body: { amount: 0, currency: "eur", token: "", coupon: "X" } });

      expect(status).to.equal(400);
      expect(body.error).to.deep.equal({
        code: "invalid_request",
        message:
          "amount: must be at least 1; currency: must be an ISO 4217 code such as EUR; token: must not be empty; orderId: is required; coupon: not a known field",
      });
    });

    it("names a missing orderId of a refund", async () => {
      expect(await call("POST", "/v1/refunds", { body: {} })).to.deep.equal({
        status: 400,
        body: { error: { code: "invalid_request", message: "orderId: is required" } },
      });
    });

    it("answers 413 for a body over 64 KiB", async () => {
      const { status, body } = await call("POST", "/v1/charges", { rawBody: JSON.stringify({ pad: "x".repeat(70_000) }) });

      expect(status).to.equal(413);
      expect(body.error.code).to.equal("body_too_large");
    });

    it("answers 404 for an unknown path and 405 for an unsupported method", async () => {
      expect((await call("GET", "/v1/payments")).status).to.equal(404);
      expect((await call("DELETE", "/v1/charges")).status).to.equal(405);
    });
  });

  describe("inspection", () => {
    it("lists charges and refunds over HTTP, optionally for one order, matching the accessors", async () => {
      const orderId = newOrderId();
      await charge(orderId, "tok_visa", `charge-${orderId}`);
      await refund(orderId, `refund-${orderId}`);

      const charges = await call("GET", `/v1/charges?orderId=${orderId}`);
      const refunds = await call("GET", `/v1/refunds?orderId=${orderId}`);
      const all = await call("GET", "/v1/charges");

      expect(charges.body.data).to.deep.equal(chargesOf(orderId));
      expect(refunds.body.data).to.deep.equal(refundsOf(orderId));
      expect(all.body.data).to.deep.equal(gateway.charges());
    });

    it("answers /health without a key", async () => {
      expect(await call("GET", "/health", { key: null })).to.deep.equal({ status: 200, body: { ok: true } });
    });

    it("hands out copies, so a test cannot change what the gateway recorded", async () => {
      const orderId = newOrderId();
      await charge(orderId, "tok_visa");

      (gateway.charges().find((c) => c.orderId === orderId) as { amount: number }).amount = 1;

      expect(chargesOf(orderId)[0].amount).to.equal(1500);
    });
  });
});
