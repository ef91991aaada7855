// Namespace import: lets esbuild drop the parts of zod a bundle does not use (≈90 KB instead of ≈450 KB).
import * as z from "zod";
import { InvalidDocumentError, PaymentFailedError, PaymentGatewayUnavailableError } from "./errors";
import type { SecureParameterCache } from "./secure-parameter";
import { describeProblems, plainMessages, problemsOf } from "./validation";

export interface PaymentGatewayClientOptions {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:4010`. */
  readonly baseUrl: string;
  /** Each request, body included, is abandoned after this long. */
  readonly timeoutMs: number;
  /** The API key, sent as `Authorization: Bearer <key>`. */
  readonly apiKey: () => Promise<string>;
  /** Called when the gateway answers 401, so a cached key can be dropped (it may have been rotated). */
  readonly onUnauthorized?: () => void;
}

export interface ChargeRequest {
  readonly orderId: string;
  /** Minor units. */
  readonly amount: number;
  readonly currency: string;
  readonly token: string;
}

export interface Charge {
  readonly chargeId: string;
  readonly amount: number;
  readonly currency: string;
}

export interface Refund {
  /** Null when the order had no charge (e.g. the charge's outcome was never known): nothing was refunded. */
  readonly refundId: string | null;
  readonly amount: number;
}

const ChargeResponseSchema = z.object({
  chargeId: z.string().min(1),
  amount: z.number().int(),
  currency: z.string(),
  status: z.literal("succeeded"),
});

const RefundResponseSchema = z.object({
  refundId: z.string().min(1).nullable(),
  amount: z.number().int().min(0),
});

const ErrorResponseSchema = z.object({ error: z.object({ code: z.string(), message: z.string().optional() }) });

interface GatewayAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * The payment gateway's HTTP API. Every request carries an Idempotency-Key derived from the orderId, so a retried
 * charge or refund (Step Functions retries PaymentGatewayUnavailable) never charges or refunds twice: the gateway
 * recognises a duplicate by that key alone, never by the orderId in the body.
 */
export class PaymentGatewayClient {
  constructor(private readonly options: PaymentGatewayClientOptions) {}

  /**
   * Charges the order. 402 → PaymentFailedError (declined, insufficient funds); timeout, network error, 429 or 5xx
   * → PaymentGatewayUnavailableError; any other 4xx → Error with the gateway's message.
   */
  async charge(request: ChargeRequest): Promise<Charge> {
    const { orderId, amount, currency, token } = request;
    const answer = await this.post("/v1/charges", { amount, currency, token, orderId }, `charge-${orderId}`);
    if (answer.status === 402) {
      const declined = ErrorResponseSchema.safeParse(answer.body);
      const code = declined.success ? declined.data.error.code : "unknown";
      const detail = declined.success && declined.data.error.message ? ` (${declined.data.error.message})` : "";
      throw new PaymentFailedError(`payment for order "${orderId}" declined: ${code}${detail}`, code);
    }
    this.rejectOtherErrors("/v1/charges", answer);
    const charge = parseAnswer(ChargeResponseSchema, answer, "/v1/charges");
    if (charge.amount !== amount || charge.currency !== currency) {
      throw new InvalidDocumentError(
        `payment gateway charged ${charge.amount} ${charge.currency} for order "${orderId}", expected ${amount} ${currency}`,
      );
    }
    return { chargeId: charge.chargeId, amount: charge.amount, currency: charge.currency };
  }

  /** Refunds the order's charge in full; safe when there was none (`refundId: null`). */
  async refund(orderId: string): Promise<Refund> {
    const answer = await this.post("/v1/refunds", { orderId }, `refund-${orderId}`);
    this.rejectOtherErrors("/v1/refunds", answer);
    const { refundId, amount } = parseAnswer(RefundResponseSchema, answer, "/v1/refunds");
    return { refundId, amount };
  }

  private async post(path: string, body: unknown, idempotencyKey: string): Promise<GatewayAnswer> {
    const url = `${this.options.baseUrl}${path}`;
    const key = await this.options.apiKey();
    let status: number;
    let text: string;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Authorization: `Bearer ${key}`,
          "Idempotency-Key": idempotencyKey,
        },
        body: JSON.stringify(body),
        // Covers reading the body too, not only the headers.
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
        throw new PaymentGatewayUnavailableError(`payment gateway did not answer POST ${path} within ${this.options.timeoutMs} ms`, {
          cause: error,
        });
      }
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      throw new PaymentGatewayUnavailableError(
        `payment gateway unreachable at ${url}: ${error instanceof Error ? error.message : String(error)}${typeof code === "string" ? ` (${code})` : ""}`,
        { cause: error },
      );
    }
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    // 409 idempotency_key_in_use: the first request with this key is still being processed; its answer comes on a retry.
    if (status >= 500 || status === 429 || (status === 409 && errorCode(parsed) === "idempotency_key_in_use")) {
      throw new PaymentGatewayUnavailableError(`payment gateway answered ${status} to POST ${path}: ${gatewayMessage(parsed)}`);
    }
    return { status, body: parsed };
  }

  private rejectOtherErrors(path: string, answer: GatewayAnswer): void {
    if (answer.status >= 200 && answer.status < 300) return;
    if (answer.status === 401) this.options.onUnauthorized?.();
    throw new Error(`payment gateway rejected POST ${path} with ${answer.status}: ${gatewayMessage(answer.body)}`);
  }
}

function parseAnswer<S extends z.ZodType>(schema: S, answer: GatewayAnswer, path: string): z.output<S> {
  const result = schema.safeParse(answer.body, { error: plainMessages });
  if (result.success) return result.data;
  throw new InvalidDocumentError(`payment gateway answer to POST ${path}: ${describeProblems(problemsOf(result.error))}`);
}

function errorCode(body: unknown): string | undefined {
  const error = ErrorResponseSchema.safeParse(body);
  return error.success ? error.data.error.code : undefined;
}

function gatewayMessage(body: unknown): string {
  const error = ErrorResponseSchema.safeParse(body);
  if (error.success) return `${error.data.error.code}${error.data.error.message ? ` (${error.data.error.message})` : ""}`;
  const text = typeof body === "string" ? body : JSON.stringify(body) ?? "no body";
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * The gateway as the handlers use it: key from an SSM SecureString (cached for the container, dropped on 401 so
 * a rotated key is picked up by the retry).
 */
export function paymentGatewayFromConfig(
  config: { readonly PAYMENT_GATEWAY_URL: string; readonly PAYMENT_KEY_PARAMETER: string; readonly PAYMENT_TIMEOUT_MS: number },
  secrets: SecureParameterCache,
): PaymentGatewayClient {
  return new PaymentGatewayClient({
    baseUrl: config.PAYMENT_GATEWAY_URL,
    timeoutMs: config.PAYMENT_TIMEOUT_MS,
    apiKey: () => secrets.get(config.PAYMENT_KEY_PARAMETER),
    onUnauthorized: () => secrets.invalidate(config.PAYMENT_KEY_PARAMETER),
  });
}
