// Namespace import: lets esbuild drop the parts of zod a bundle does not use (≈90 KB instead of ≈450 KB).
import * as z from "zod";
import { UnsupportedFormatVersionError } from "./errors";
import { ORDER_STATE_FORMAT_VERSION } from "./format";
import { describeProblems, kindOf, plainMessages, problemsOf, type Problem } from "./validation";

/**
 * The client's order, as OrderPlacement receives it, and the field rules every later step reuses.
 *
 * Unknown keys are REJECTED, not stripped: a field the client believes it sent (`shipTo.line2`, `items[0].price`)
 * must not vanish silently — a dropped address line is a lost parcel, a dropped price is a client that thinks it
 * set one. Prices never come from the client; they are read from the catalogue.
 */
export const OrderLimits = {
  /** `orderId`: 1–64 of [A-Za-z0-9_-]; it becomes a DynamoDB key, an idempotency key and a map key in inventory. */
  orderIdLength: 64,
  customerIdLength: 64,
  /** RFC 5321 path limit. */
  emailLength: 254,
  /** One BatchGetItem (≤ 100 keys) prices the whole order, and each line is one conditional update. */
  items: 50,
  quantity: 1000,
  skuLength: 64,
  tokenLength: 128,
  addressFieldLength: 200,
  /** The longest postal codes in use are 10 characters; 20 leaves room for spacing and prefixes. */
  postalCodeLength: 20,
} as const;

const SUPPORTED_VERSIONS = [ORDER_STATE_FORMAT_VERSION] as const;

type Input = { readonly input: unknown };
const missingOr = (otherwise: string | ((iss: Input) => string)) => (iss: Input) =>
  iss.input === undefined ? "is required" : typeof otherwise === "string" ? otherwise : otherwise(iss);

/** A trimmed, non-empty string of at most `max` characters. */
export function text(max: number) {
  return z
    .string({ error: missingOr((iss) => `must be a string, got ${kindOf(iss.input)}`) })
    .trim()
    .min(1, { error: "must not be empty" })
    .max(max, { error: (iss) => `must be at most ${max} characters, got ${(iss.input as string).length}` });
}

export const orderIdSchema = text(OrderLimits.orderIdLength).regex(/^[A-Za-z0-9_-]+$/, {
  error: "may contain only letters, digits, '_' and '-'",
});

export const customerIdSchema = text(OrderLimits.customerIdLength);

export const emailSchema = text(OrderLimits.emailLength).pipe(z.email({ error: "must be a valid e-mail address" }));

export const skuSchema = text(OrderLimits.skuLength);

export const quantitySchema = z
  .number({ error: missingOr("must be an integer ≥ 1") })
  .int({ error: "must be an integer ≥ 1" })
  .min(1, { error: "must be an integer ≥ 1" })
  .max(OrderLimits.quantity, { error: `must be at most ${OrderLimits.quantity}` });

export const paymentTokenSchema = text(OrderLimits.tokenLength);

export const countrySchema = z
  .string({ error: missingOr("must be a string") })
  .trim()
  .regex(/^[A-Z]{2}$/, { error: "must be an ISO 3166-1 alpha-2 code in upper case, e.g. DE" });

export const shipToShape = {
  name: text(OrderLimits.addressFieldLength),
  line1: text(OrderLimits.addressFieldLength),
  city: text(OrderLimits.addressFieldLength),
  postalCode: text(OrderLimits.postalCodeLength),
  country: countrySchema,
};

const objectError = missingOr("must be an object");

const OrderLineInput = z.strictObject({ sku: skuSchema, quantity: quantitySchema }, { error: objectError });

/**
 * The same SKU on two lines is refused: a reservation is keyed by order per SKU, so the second line would look
 * like a repeat of the first and would not be reserved.
 */
const orderLinesSchema = z
  .array(OrderLineInput, { error: missingOr("must be an array of { sku, quantity }") })
  .min(1, { error: "must list at least one item" })
  .max(OrderLimits.items, { error: (iss) => `must list at most ${OrderLimits.items} items, got ${(iss.input as unknown[]).length}` })
  .superRefine((lines, ctx) => {
    const firstLine = new Map<string, number>();
    lines.forEach((line, index) => {
      const first = firstLine.get(line.sku);
      if (first === undefined) firstLine.set(line.sku, index);
      else ctx.addIssue({ code: "custom", path: [index, "sku"], message: `repeats items[${first}].sku "${line.sku}"; put the whole quantity on one line` });
    });
  });

export const currencySchema = z
  .string({ error: missingOr("must be a string") })
  .regex(/^[A-Z]{3}$/, { error: "must be an ISO 4217 code in upper case, e.g. EUR" });

export const OrderInputSchema = z.strictObject(
  {
    formatVersion: z.literal(ORDER_STATE_FORMAT_VERSION).optional(),
    orderId: orderIdSchema,
    /** The currency the client showed its prices in; when given, it must be the store's (checked at placement). */
    currency: currencySchema.optional(),
    customerId: customerIdSchema,
    email: emailSchema,
    items: orderLinesSchema,
    payment: z.strictObject({ token: paymentTokenSchema }, { error: objectError }),
    shipTo: z.strictObject(shipToShape, { error: objectError }),
  },
  { error: "the order must be a JSON object" },
);

export type OrderInput = z.output<typeof OrderInputSchema>;

export type OrderInputResult =
  | { readonly ok: true; readonly order: OrderInput }
  | {
      readonly ok: false;
      readonly problems: readonly Problem[];
      /** The message for OrderRejectedError, e.g. `items[0].quantity: must be an integer ≥ 1`. */
      readonly reason: string;
      /** Set when `orderId` itself is valid, so the rejection can be recorded against it. */
      readonly orderId?: string;
    };

/**
 * Parses the client's order. A `formatVersion` other than 1 is not a bad order but a client this code does not
 * understand, so it throws UnsupportedFormatVersionError instead of returning problems.
 */
export function parseOrderInput(event: unknown): OrderInputResult {
  if (typeof event === "object" && event !== null && "formatVersion" in event) {
    const found = (event as { formatVersion: unknown }).formatVersion;
    if (found !== undefined && !SUPPORTED_VERSIONS.includes(found as 1)) {
      throw new UnsupportedFormatVersionError("order input", found, SUPPORTED_VERSIONS);
    }
  }
  const result = OrderInputSchema.safeParse(event, { error: plainMessages });
  if (result.success) return { ok: true, order: result.data };
  const problems = problemsOf(result.error);
  const orderId = orderIdSchema.safeParse((event as { orderId?: unknown } | null)?.orderId);
  return {
    ok: false,
    problems,
    reason: describeProblems(problems),
    ...(orderId.success ? { orderId: orderId.data } : {}),
  };
}
