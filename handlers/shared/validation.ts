import type { z } from "zod";

/** At most this many problems are spelled out in one message; a payload with more is broken in bulk anyway. */
const MAX_LISTED_ISSUES = 10;

/** Renders a zod path the way a person would write it in code: `items[0].quantity`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let rendered = "";
  for (const segment of path) {
    if (typeof segment === "number") rendered += `[${segment}]`;
    else rendered += rendered === "" ? String(segment) : `.${String(segment)}`;
  }
  return rendered;
}

export interface Problem {
  /** Where the problem is, e.g. `items[0].quantity`; `(root)` for the payload itself. */
  readonly field: string;
  readonly message: string;
}

/**
 * Flattens zod issues into `field: message` problems. Unrecognized keys become one problem per key, so the
 * message points at the offending field rather than at its parent object.
 */
export function problemsOf(error: z.ZodError, prefix: readonly PropertyKey[] = []): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) problems.push({ field: fieldPath([...path, key]), message: "is not a known field" });
    } else {
      problems.push({ field: fieldPath(path) || "(root)", message: issue.message });
    }
  }
  return problems;
}

/** `items[0].quantity: must be an integer ≥ 1; email: must be a valid e-mail address (and 3 more)`. */
export function describeProblems(problems: readonly Problem[]): string {
  const listed = problems.slice(0, MAX_LISTED_ISSUES).map((p) => `${p.field}: ${p.message}`);
  const rest = problems.length - listed.length;
  return rest > 0 ? `${listed.join("; ")} (and ${rest} more)` : listed.join("; ");
}

/** Short, JSON-ish rendering of a value for error messages; never dumps a huge input back at the caller. */
export function preview(value: unknown, max = 40): string {
  const text = value === undefined ? "undefined" : JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** What a value is, in words: "a string", "null", "an array". */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "number" && Number.isNaN(value)) return "NaN";
  return `a ${typeof value}`;
}

/**
 * Fallback messages for rules that carry no message of their own; pass as `safeParse(input, { error: plainMessages })`.
 * A message set on the schema wins over these.
 */
export function plainMessages(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return "is required";
    return `must be ${issue.expected === "object" || issue.expected === "array" ? "an" : "a"} ${issue.expected}, got ${kindOf(issue.input)}`;
  }
  return undefined;
}
