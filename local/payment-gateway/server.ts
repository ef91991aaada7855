import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
// Namespace import: lets esbuild drop the parts of zod a bundle does not use (≈90 KB instead of ≈450 KB).
import * as z from "zod";

/**
 * A sandbox payment gateway for tests and the local cloud: the HTTP API the order pipeline's PaymentProcessing and
 * RefundPayment handlers call, with the usual sandbox test tokens. State lives in memory for the life of the server.
 * It is as strict as a real gateway, so the handlers' idempotency is proven rather than supplied by the fixture
 * (README.md in this folder lists the rules and tokens):
 *
 *   POST /v1/charges  { amount, currency, token, orderId }  → 200 { chargeId, amount, currency, status: "succeeded" }
 *                                                             | 402 { error: { code: card_declined | insufficient_funds } }
 *   POST /v1/refunds  { orderId }                            → 200 { refundId, amount, refunds } (every charge of the
 *                                                               order not yet refunded) | 200 { refundId: null, amount: 0 }
 *                                                               (never charged) | 400 charge_already_refunded
 *   GET  /v1/charges[?orderId=…], GET /v1/refunds[?orderId=…] → 200 { data: [...] }
 *   GET  /health                                             → 200 { ok: true } (no key needed)
 *
 * Every /v1 request needs `Authorization: Bearer <key>`. Duplicates are recognised by `Idempotency-Key` only: the
 * same key and body replays the first answer; the same key with another body is 409 `idempotency_key_reused`; the
 * same key while its first request is still being processed is 409 `idempotency_key_in_use` (retry later); a request
 * without a key, or with a new one, is a new charge, even for an order that was charged before.
 */

/** The key the sandbox accepts when started without one. */
export const SANDBOX_API_KEY = "sk_test_sandbox";

export const SandboxTokens = {
  /** Approves. */
  Visa: "tok_visa",
  /** 402 card_declined. */
  ChargeDeclined: "tok_chargeDeclined",
  /** 402 insufficient_funds. */
  InsufficientFunds: "tok_insufficientFunds",
  /** Never answers and charges nothing: held until the client gives up or `hangMs` passes, then the socket is dropped. */
  Timeout: "tok_timeout",
  /**
   * Charges, then never answers (the answer is lost on the way back): the client cannot tell whether it was charged.
   * A replay with the same Idempotency-Key charges nothing more and is held too.
   */
  ChargeThenTimeout: "tok_chargeThenTimeout",
} as const;

export interface PaymentGatewayOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** The key clients must send as `Authorization: Bearer <key>`. @default SANDBOX_API_KEY */
  readonly apiKey?: string;
  /** How long a `tok_timeout` request is held before its connection is dropped. @default 30000 */
  readonly hangMs?: number;
  /**
   * For tests: awaited before each charge or refund is processed (after its Idempotency-Key is taken), so a test can
   * hold a request in flight and show what a concurrent duplicate gets.
   */
  readonly beforeProcessing?: (request: { readonly endpoint: string; readonly idempotencyKey?: string }) => Promise<void> | void;
}

export interface ChargeRecord {
  readonly chargeId: string;
  readonly orderId: string;
  readonly amount: number;
  readonly currency: string;
  readonly token: string;
  readonly status: "succeeded" | "declined";
  /** Set when declined: card_declined | insufficient_funds. */
  readonly declineCode?: string;
  readonly idempotencyKey?: string;
  readonly createdAt: string;
}

export interface RefundRecord {
  readonly refundId: string;
  readonly chargeId: string;
  readonly orderId: string;
  readonly amount: number;
  readonly currency: string;
  readonly idempotencyKey?: string;
  readonly createdAt: string;
}

export interface PaymentGateway {
  /** Base URL, e.g. `http://127.0.0.1:4010`; what PAYMENT_GATEWAY_URL is set to. */
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  /** Every charge attempt the gateway processed (declines included), oldest first. */
  charges(): ChargeRecord[];
  refunds(): RefundRecord[];
  /** Resolves once the gateway holds (never answers) a charge request for the order: the client is waiting in vain. */
  whenHeld(orderId: string): Promise<void>;
  /** Stops listening and drops open connections, held `tok_timeout` requests included. */
  close(): Promise<void>;
}

/** Requests are small JSON documents; anything bigger is a client bug. */
const MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_HANG_MS = 30_000;

const required = (rule: string) => (iss: { input: unknown }) => (iss.input === undefined ? "is required" : rule);
const nonEmpty = z.string({ error: required("must be a string") }).min(1, { error: "must not be empty" });

const ChargeRequestSchema = z.strictObject({
  amount: z
    .number({ error: required("must be an integer amount in minor units") })
    .int({ error: "must be an integer amount in minor units" })
    .min(1, { error: "must be at least 1" }),
  currency: z.string({ error: required("must be a string") }).regex(/^[A-Z]{3}$/, { error: "must be an ISO 4217 code such as EUR" }),
  token: nonEmpty,
  orderId: nonEmpty,
});

const RefundRequestSchema = z.strictObject({ orderId: nonEmpty });

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

interface RememberedAnswer {
  /** What was asked, so a reused key with a different request is caught. */
  readonly request: string;
  /** Undefined while the first request with this key is being processed. */
  answer?: Answer | "hold";
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });

/** Starts the sandbox gateway; resolves once it is listening. */
export async function startPaymentGateway(options: PaymentGatewayOptions = {}): Promise<PaymentGateway> {
  const apiKey = options.apiKey ?? SANDBOX_API_KEY;
  const hangMs = options.hangMs ?? DEFAULT_HANG_MS;
  const charges: ChargeRecord[] = [];
  const refunds: RefundRecord[] = [];
  const answered = new Map<string, RememberedAnswer>();
  const held = new Set<NodeJS.Timeout>();
  const heldOrders = new Set<string>();
  const heldWaiters = new Map<string, (() => void)[]>();

  function charge(body: z.output<typeof ChargeRequestSchema>, idempotencyKey: string | undefined, req: IncomingMessage): Answer | "hold" {
    const record = (status: ChargeRecord["status"], declineCode?: string): ChargeRecord => {
      const created: ChargeRecord = {
        chargeId: `ch_${randomUUID().replace(/-/g, "").slice(0, 24)}`,
        orderId: body.orderId,
        amount: body.amount,
        currency: body.currency,
        token: body.token,
        status,
        ...(declineCode === undefined ? {} : { declineCode }),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        createdAt: new Date().toISOString(),
      };
      charges.push(created);
      return created;
    };
    switch (body.token) {
      case SandboxTokens.Visa:
        return { status: 200, body: chargeBody(record("succeeded")) };
      case SandboxTokens.ChargeDeclined:
        record("declined", "card_declined");
        return { status: 402, body: errorBody("card_declined", "Your card was declined.") };
      case SandboxTokens.InsufficientFunds:
        record("declined", "insufficient_funds");
        return { status: 402, body: errorBody("insufficient_funds", "Your card has insufficient funds.") };
      case SandboxTokens.Timeout:
        hold(req, body.orderId);
        return "hold";
      case SandboxTokens.ChargeThenTimeout:
        record("succeeded");
        hold(req, body.orderId);
        return "hold";
      default:
        throw new RequestError(
          400,
          "invalid_token",
          `token ${JSON.stringify(body.token)} is not a sandbox test token; use one of ${Object.values(SandboxTokens).join(", ")}`,
        );
    }
  }

  function refund(body: z.output<typeof RefundRequestSchema>, idempotencyKey: string | undefined): Answer {
    const charged = charges.filter((c) => c.orderId === body.orderId && c.status === "succeeded");
    if (charged.length === 0) return { status: 200, body: { refundId: null, amount: 0, refunds: [] } };
    // Refunds are always of a whole charge: a charge already refunded cannot be refunded again.
    const outstanding = charged.filter((c) => !refunds.some((r) => r.chargeId === c.chargeId));
    if (outstanding.length === 0) {
      throw new RequestError(400, "charge_already_refunded", `every charge of order ${JSON.stringify(body.orderId)} has already been refunded`);
    }
    const created = outstanding.map((c): RefundRecord => ({
      refundId: `re_${randomUUID().replace(/-/g, "").slice(0, 24)}`,
      chargeId: c.chargeId,
      orderId: c.orderId,
      amount: c.amount,
      currency: c.currency,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      createdAt: new Date().toISOString(),
    }));
    refunds.push(...created);
    return {
      status: 200,
      body: {
        refundId: created[0]!.refundId,
        amount: created.reduce((sum, r) => sum + r.amount, 0),
        currency: created[0]!.currency,
        orderId: body.orderId,
        refunds: created.map(refundBody),
      },
    };
  }

  /** Models a gateway that took the request and went silent: no answer. */
  function hold(req: IncomingMessage, orderId: string): void {
    heldOrders.add(orderId);
    for (const wake of heldWaiters.get(orderId) ?? []) wake();
    heldWaiters.delete(orderId);
    const timer = setTimeout(() => {
      held.delete(timer);
      req.socket.destroy();
    }, hangMs);
    held.add(timer);
    req.socket.once("close", () => {
      clearTimeout(timer);
      held.delete(timer);
    });
  }

  async function route(req: IncomingMessage): Promise<Answer | "hold"> {
    const url = new URL(req.url ?? "/", "http://sandbox");
    if (req.method === "GET" && url.pathname === "/health") return { status: 200, body: { ok: true } };
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      throw new RequestError(401, "unauthorized", "send the sandbox key as `Authorization: Bearer <key>`");
    }
    const orderId = url.searchParams.get("orderId");
    const byOrder = <T extends { orderId: string }>(records: T[]) => (orderId === null ? records : records.filter((r) => r.orderId === orderId));
    const endpoint = `${req.method} ${url.pathname}`;
    switch (endpoint) {
      case "GET /v1/charges":
        return { status: 200, body: { data: byOrder(charges) } };
      case "GET /v1/refunds":
        return { status: 200, body: { data: byOrder(refunds) } };
      case "POST /v1/charges":
      case "POST /v1/refunds":
        break;
      default:
        if (["/v1/charges", "/v1/refunds"].includes(url.pathname)) {
          throw new RequestError(405, "method_not_allowed", `${req.method} is not supported on ${url.pathname}; use GET or POST`);
        }
        throw new RequestError(404, "not_found", `no route for ${endpoint}`);
    }

    const raw = await readBody(req);
    const json = parseJson(raw);
    const idempotencyKey = headerValue(req.headers["idempotency-key"]);
    const request = `${endpoint} ${JSON.stringify(json)}`;
    if (idempotencyKey === undefined) return perform(endpoint, json, undefined, req);
    const earlier = answered.get(idempotencyKey);
    if (earlier !== undefined) {
      if (earlier.request !== request) {
        throw new RequestError(409, "idempotency_key_reused", `Idempotency-Key ${JSON.stringify(idempotencyKey)} was already used for a different request`);
      }
      if (earlier.answer === undefined) {
        throw new RequestError(409, "idempotency_key_in_use", `a request with Idempotency-Key ${JSON.stringify(idempotencyKey)} is still being processed; retry later`);
      }
      if (earlier.answer === "hold") hold(req, orderIdOf(json));
      return earlier.answer;
    }
    const remembered: RememberedAnswer = { request };
    answered.set(idempotencyKey, remembered);
    try {
      remembered.answer = await perform(endpoint, json, idempotencyKey, req);
    } catch (error) {
      // A refused request (bad body, unknown token) did nothing: the key stays free, as on real gateways.
      answered.delete(idempotencyKey);
      throw error;
    }
    return remembered.answer;
  }

  async function perform(endpoint: string, json: unknown, idempotencyKey: string | undefined, req: IncomingMessage): Promise<Answer | "hold"> {
    await options.beforeProcessing?.({ endpoint, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });
    return endpoint === "POST /v1/charges"
      ? charge(parse(ChargeRequestSchema, json), idempotencyKey, req)
      : refund(parse(RefundRequestSchema, json), idempotencyKey);
  }

  const server = createServer((req, res) => {
    route(req).then(
      (answer) => {
        if (answer !== "hold") send(res, answer);
      },
      (error: unknown) => {
        if (error instanceof RequestError) send(res, { status: error.status, body: errorBody(error.code, error.message) });
        else send(res, { status: 500, body: errorBody("internal_error", error instanceof Error ? error.message : String(error)) });
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    apiKey,
    charges: () => charges.map((c) => ({ ...c })),
    refunds: () => refunds.map((r) => ({ ...r })),
    whenHeld: (orderId) =>
      heldOrders.has(orderId) ? Promise.resolve() : new Promise<void>((resolve) => heldWaiters.set(orderId, [...(heldWaiters.get(orderId) ?? []), resolve])),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of held) clearTimeout(timer);
        held.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function orderIdOf(json: unknown): string {
  return String((json as { orderId?: unknown }).orderId);
}

function chargeBody(charge: ChargeRecord) {
  return { chargeId: charge.chargeId, amount: charge.amount, currency: charge.currency, status: charge.status, orderId: charge.orderId };
}

function refundBody(refund: RefundRecord) {
  return { refundId: refund.refundId, amount: refund.amount, currency: refund.currency, chargeId: refund.chargeId, orderId: refund.orderId };
}

function send(res: ServerResponse, { status, body }: Answer): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === "" ? undefined : first;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even when too large: answering before the client has sent everything makes it see a reset.
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) throw new RequestError(413, "body_too_large", `request body exceeds ${MAX_BODY_BYTES} bytes`);
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(raw: string): unknown {
  if (raw.trim() === "") throw new RequestError(400, "invalid_json", "request body is empty; send a JSON object");
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new RequestError(400, "invalid_json", `request body is not valid JSON: ${(error as Error).message}`);
  }
}

function parse<S extends z.ZodType>(schema: S, json: unknown): z.output<S> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new RequestError(400, "invalid_request", "request body must be a JSON object");
  }
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const messages = result.error.issues.map((issue) =>
    issue.code === "unrecognized_keys" ? `${issue.keys.join(", ")}: not a known field` : `${issue.path.join(".")}: ${issue.message}`,
  );
  throw new RequestError(400, "invalid_request", messages.join("; "));
}
