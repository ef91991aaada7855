import type * as z from "zod";

/** At most this many validation problems are spelled out in one error message; the rest are counted. */
const MAX_ISSUES_IN_MESSAGE = 3;

/** `["pages", 3, "elements", 7, "x"]` → `pages[3].elements[7].x`; the empty path is `root`. */
export function formatPath(path: readonly PropertyKey[], root: string): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? root : out;
}

const TYPE_NAMES: Record<string, string> = {
  number: "a finite number",
  int: "an integer",
  string: "a string",
  object: "an object",
  array: "an array",
  boolean: "true or false",
};

function lengthNoun(origin: string, path: readonly PropertyKey[], count: number): string {
  const last = path[path.length - 1];
  const plural = origin === "string" ? "characters" : typeof last === "string" ? last : "items";
  return count === 1 && plural.endsWith("s") ? plural.slice(0, -1) : plural;
}

/**
 * One zod issue as a sentence a person can act on. zod's own messages ("Too big: expected array to have <=2000 items")
 * name zod's concepts; these name the document's.
 */
export function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "too_small": {
      const bound = Number(issue.minimum);
      if (issue.origin === "number") return `expected a number ${issue.inclusive ? "≥" : ">"} ${bound}`;
      return `expected at least ${bound} ${lengthNoun(issue.origin, issue.path, bound)}`;
    }
    case "too_big": {
      const bound = Number(issue.maximum);
      if (issue.origin === "number") return `expected a number ${issue.inclusive ? "≤" : "<"} ${bound}`;
      return `expected at most ${bound} ${lengthNoun(issue.origin, issue.path, bound)}`;
    }
    case "invalid_value":
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}`
        : `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_union":
      if ("options" in issue && Array.isArray(issue.options)) {
        return `expected one of ${issue.options.map((v: unknown) => JSON.stringify(v)).join(", ")}`;
      }
      return issue.message;
    case "unrecognized_keys":
      return `unexpected field${issue.keys.length === 1 ? "" : "s"} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    default:
      return issue.message;
  }
}

/**
 * All issues of a failed parse as one message: `pages[3].elements[7].x: expected a finite number (and 2 more problems)`.
 *
 * @param at where the parsed value sits in a larger one, prefixed to every path (a page read on its own is `["pages", 3]`).
 */
export function describeIssues(
  error: z.ZodError | readonly z.core.$ZodIssue[],
  root: string,
  at: readonly PropertyKey[] = [],
): string {
  const issues = Array.isArray(error) ? error : (error as z.ZodError).issues;
  const shown = issues.slice(0, MAX_ISSUES_IN_MESSAGE).map((issue: z.core.$ZodIssue) => {
    const placed = at.length === 0 ? issue : { ...issue, path: [...at, ...issue.path] };
    return `${formatPath(placed.path, root)}: ${describeIssue(placed)}`;
  });
  const more = issues.length - shown.length;
  return shown.join("; ") + (more > 0 ? ` (and ${more} more problem${more === 1 ? "" : "s"})` : "");
}
