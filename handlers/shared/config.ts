// Namespace import: lets esbuild drop the parts of zod a bundle does not use (≈90 KB instead of ≈450 KB).
import * as z from "zod";
import { preview } from "./validation";

/** An unset variable and an empty one mean the same thing: infra renders "no value" as either. */
const unsetIfEmpty = (value: unknown): unknown => (typeof value === "string" && value.trim() === "" ? undefined : value);

const required = (what: string) =>
  z.preprocess(
    unsetIfEmpty,
    z.string({ error: (iss) => (iss.input === undefined ? "is not set" : `must be ${what}`) }).trim(),
  );

/**
 * Every environment variable a handler may read, with its rule. Infra sets them; each handler names the ones it
 * needs, so a function fails with the variable's name instead of an `undefined` table name deep in the SDK.
 */
const variables = {
  ORDERS_TABLE: required("a DynamoDB table name"),
  INVENTORY_TABLE: required("a DynamoDB table name"),
  SHIPMENTS_TABLE: required("a DynamoDB table name"),
  NOTIFICATIONS_TOPIC_ARN: required("an SNS topic ARN").pipe(
    z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/, {
      error: (iss) => `must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got ${preview(iss.input)}`,
    }),
  ),
  PAYMENT_GATEWAY_URL: required("a URL").pipe(
    z.url({
      protocol: /^https?$/,
      error: (iss) => `must be an http(s) base URL such as https://gateway.example.com, got ${preview(iss.input)}`,
    }).transform((url) => url.replace(/\/+$/, "")),
  ),
  PAYMENT_KEY_PARAMETER: required("an SSM parameter name"),
  PAYMENT_TIMEOUT_MS: z.preprocess(
    unsetIfEmpty,
    z
      .string({ error: "must be a whole number of milliseconds" })
      .trim()
      .regex(/^\d+$/, { error: (iss) => `must be a whole number of milliseconds from 100 to 900000, got ${preview(iss.input)}` })
      .transform(Number)
      .refine((ms) => ms >= 100 && ms <= 900_000, {
        error: (iss) => `must be a whole number of milliseconds from 100 to 900000, got ${preview(iss.input)}`,
      })
      .default(5000),
  ),
  CURRENCY: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^[A-Z]{3}$/, { error: (iss) => `must be an ISO 4217 code such as EUR, got ${preview(iss.input)}` })
      .default("EUR"),
  ),
  SUPPORTED_SHIP_COUNTRIES: required("a comma-separated list").pipe(
    z
      .string()
      .transform((list) => list.split(",").map((code) => code.trim().toUpperCase()).filter((code) => code !== ""))
      .pipe(
        z
          .array(z.string().regex(/^[A-Z]{2}$/, { error: (iss) => `lists ${preview(iss.input)}, which is not an ISO 3166-1 alpha-2 code` }))
          .min(1, { error: "must list at least one ISO 3166-1 alpha-2 country code, e.g. DE,FR" }),
      ),
  ),
} as const;

type Variables = typeof variables;
export type VariableName = keyof Variables;
export type Config<K extends VariableName> = { readonly [P in K]: z.output<Variables[P]> };

/**
 * Reads and checks the named variables. Throws one error naming every variable that is missing or malformed,
 * e.g. `Invalid configuration: ORDERS_TABLE is not set; PAYMENT_TIMEOUT_MS must be an integer …`.
 */
export function readConfig<K extends VariableName>(names: readonly K[], env: NodeJS.ProcessEnv = process.env): Config<K> {
  const config: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of names) {
    const result = variables[name].safeParse(env[name]);
    if (result.success) config[name] = result.data;
    else problems.push(`${name} ${result.error.issues.map((issue) => issue.message).join(", ")}`);
  }
  if (problems.length > 0) throw new Error(`Invalid configuration: ${problems.join("; ")}`);
  return config as Config<K>;
}

/**
 * The configuration a handler needs, read and checked once per container: on the first invocation rather than at
 * import, so a misconfigured function reports a readable error for the invocation instead of an init crash.
 */
export function lazyConfig<K extends VariableName>(names: readonly K[]): () => Config<K> {
  let cached: Config<K> | undefined;
  return () => (cached ??= readConfig(names));
}
