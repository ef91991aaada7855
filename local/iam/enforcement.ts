import * as fs from "node:fs";
import * as path from "node:path";
import { actionMatches, Caller, evaluate, list, PolicyDocument, resourceMatches, Statement } from "./evaluate";
import { RequestContextSpec, unsupportedConstructs } from "./validate";
import { LOCAL_ACCOUNT, LOCAL_PARTITION } from "../program/resource-state";
import type { ResourcePolicyRecord, RolePolicyRecord } from "../program/provider";
import { sessionArn, type AccessLogEntry, type AccessRequest, type Authorizer, type Decision, type Principal, type PrincipalRegistry } from "./principals";
import { localStatePath } from "../state-dir";

/**
 * What the local request context carries, for the boot-time check (validate.ts) that every condition key a policy
 * tests is one the local cloud supplies wherever AWS would. Service keys are set where the runtimes make the request
 * (the Step Functions runtime's RunTask and PassRole, KMS's requests in kms.ts); global keys by `requestContext`.
 */
export const LOCAL_REQUEST_CONTEXT: RequestContextSpec = {
  services: ["dynamodb", "s3", "sns", "sqs", "ssm", "states", "lambda", "ecs", "iam", "kms"],
  global: { "aws:SecureTransport": "Bool", "aws:PrincipalArn": "ARN", "aws:PrincipalAccount": "String", "aws:RequestedRegion": "String" },
  // "Only available when the call to your resource is made directly by an AWS service principal" (IAM User Guide, "AWS
  // global condition context keys"): never in a request of a function, a task or a state machine, which act as roles.
  absent: ["aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceOrgID", "aws:SourceOrgPaths"],
  actions: {
    "ecs:RunTask": { "ecs:cluster": "ARN" },
    "iam:PassRole": { "iam:PassedToService": "String" },
    // What local/services/kms.ts puts in the requests SSM, SNS and ECS make to KMS on the caller's behalf.
    "kms:Decrypt": { "kms:ViaService": "String", "kms:CallerAccount": "String", "kms:EncryptionContext:PARAMETER_ARN": "String" },
    "kms:GenerateDataKey": { "kms:ViaService": "String", "kms:CallerAccount": "String" },
  },
  onlyActions: { kms: ["kms:Decrypt", "kms:GenerateDataKey"] },
};

export interface IamEnforcerOptions {
  /** The stack's region, `aws:RequestedRegion` of every request: the local cloud serves one region. @default "us-east-1" */
  readonly region?: string;
  /** The bucket, topic and queue policies the program attached, evaluated with the caller's identity policies. @default [] */
  readonly resourcePolicies?: readonly ResourcePolicyRecord[];
}

/**
 * IAM as the local cloud enforces it: every request a principal makes is decided against the identity policies the
 * program attached to that principal's role (the `aws:iam/rolePolicy:RolePolicy` documents the provider collected)
 * and the resource-based policy of the bucket, topic or queue it names, with `evaluate()` from evaluate.ts. The
 * operator (CLI, tests, seeding) stands for an administrator and is always allowed.
 *
 * The access log of a run is kept (`writeIamLog`) so that `npm run local -- iam-report` can say, per principal, what
 * it was granted, what it used, which grants no scenario used, and what was denied.
 */
export class IamEnforcer {
  /** Policies replaced for a while (a test taking a grant away from a running cloud), by role name. */
  private readonly overrides = new Map<string, PolicyDocument[]>();
  /**
   * Decisions already made, by principal, action, resource and context: the same request is decided the same way
   * while the policies stay as they are (every order repeats the same few dozen). Cleared when a policy is added or
   * overridden; bounded by DECISION_CACHE_SIZE.
   */
  private readonly decisions = new Map<string, Decision>();
  private policiesSeen = "";

  constructor(
    private readonly rolePolicies: readonly RolePolicyRecord[],
    private readonly options: IamEnforcerOptions = {},
  ) {}

  /** The identity policies of a role (by ARN), as the program generated them, or as a test overrode them. */
  policiesOf(roleArn: string): PolicyDocument[] {
    const roleName = roleNameOf(roleArn);
    return this.overrides.get(roleName) ?? this.rolePolicies.filter((p) => p.roleName === roleName).map((p) => parsePolicy(p.document));
  }

  /** Forgets every remembered decision: a role policy's document was replaced in place (serve --watch). */
  policiesChanged(): void {
    this.decisions.clear();
  }

  /** The authorizer the principal registry calls before every request is served. */
  readonly authorize: Authorizer = (request: AccessRequest): Decision => {
    if (request.principal.kind === "operator") return { allowed: true, reason: "the operator is an administrator" };
    const context = requestContext(request, this.options.region ?? "us-east-1");
    const seen = `${this.rolePolicies.length}/${this.options.resourcePolicies?.length ?? 0}`;
    if (seen !== this.policiesSeen || this.decisions.size >= DECISION_CACHE_SIZE) {
      this.decisions.clear();
      this.policiesSeen = seen;
    }
    const key = `${request.principal.kind}:${request.principal.name}\n${request.principal.roleArn}\n${request.action}\n${request.resource}\n${JSON.stringify(context)}`;
    const known = this.decisions.get(key);
    if (known) return known;
    const decision = this.decide(request, context);
    this.decisions.set(key, decision);
    return decision;
  };

  private decide(request: AccessRequest, context: Record<string, string>): Decision {
    const result = evaluate(this.policiesOf(request.principal.roleArn), { action: request.action, resource: request.resource, context, caller: callerOf(request.principal) }, this.resourcePolicyOf(request.resource));
    return { allowed: result.allowed, reason: result.reason, matchedSid: result.matchedSid, ...(result.policy ? { policy: result.policy } : {}) };
  }

  /**
   * The resource-based policy governing an ARN: the bucket's policy for the bucket and every object in it, the topic's
   * or queue's for that topic or queue.
   */
  resourcePolicyOf(resource: string): PolicyDocument | undefined {
    const record = (this.options.resourcePolicies ?? []).find((p) => p.resourceArn === resource || (p.resourceArn.startsWith(`arn:${LOCAL_PARTITION}:s3:::`) && resource.startsWith(`${p.resourceArn}/`)));
    return record ? parsePolicy(record.document) : undefined;
  }

  /**
   * Every policy construct the local evaluator cannot evaluate as AWS would, by policy — the role policies, the
   * resource policies and `more` (the program's KMS key policies): the local cloud refuses to boot with any (cloud.ts).
   */
  async unsupported(more: readonly ResourcePolicyRecord[] = []): Promise<string[]> {
    const problems: string[] = [];
    for (const p of this.rolePolicies) {
      for (const problem of await unsupportedConstructs(parseDocument(p.document), "identity", LOCAL_REQUEST_CONTEXT)) problems.push(`role ${p.roleName}, policy ${p.policyName}: ${problem}`);
    }
    for (const p of [...(this.options.resourcePolicies ?? []), ...more]) {
      for (const problem of await unsupportedConstructs(parseDocument(p.document), "resource", LOCAL_REQUEST_CONTEXT)) problems.push(`${p.type} ${p.name} (${p.resourceArn}): ${problem}`);
    }
    return problems;
  }

  /**
   * Takes `action` out of every statement of the principal's role until the returned function is called — what an
   * engineer removing a grant from the program would cause, without redeploying.
   */
  revoke(principal: Principal, action: string): () => void {
    return this.override(principal, (docs) =>
      docs.map((doc) => ({
        ...doc,
        // Only grants are taken away: a Deny is left whole, and an Allow with NotAction stops granting the action by
        // naming it among the actions it excludes.
        Statement: list(doc.Statement)
          .map((s): Statement => {
            if (s.Effect !== "Allow") return s;
            if (s.NotAction !== undefined) return { ...s, NotAction: [...list(s.NotAction), action] };
            return { ...s, Action: list(s.Action).filter((a) => a.toLowerCase() !== action.toLowerCase()) };
          })
          .filter((s) => s.Action === undefined || list(s.Action).length > 0),
      })),
    );
  }

  /** Replaces the principal's policies with `edit` of them until the returned function is called (see `revoke`). */
  override(principal: Principal, edit: (documents: PolicyDocument[]) => PolicyDocument[]): () => void {
    const roleName = roleNameOf(principal.roleArn);
    const before = this.overrides.get(roleName);
    this.overrides.set(roleName, edit(this.policiesOf(principal.roleArn)));
    this.decisions.clear();
    return () => {
      if (before) this.overrides.set(roleName, before);
      else this.overrides.delete(roleName);
      this.decisions.clear();
    };
  }
}

/** At most this many remembered decisions (a few MB); the cache starts again when full. */
const DECISION_CACHE_SIZE = 10_000;

/** One principal's granted statements, for the IAM log. */
export interface PrincipalGrants {
  readonly principal: string;
  readonly roleArn: string;
  readonly statements: Statement[];
}

/** What a run leaves for `iam-report`: who was granted what, and every distinct access with its decision. */
export interface IamLog {
  readonly version: 1;
  readonly writtenAt: string;
  /** The command that ran (demo, order, export, test). */
  readonly run: string;
  readonly stack: string;
  readonly principals: PrincipalGrants[];
  readonly accesses: Array<{ principal: string; action: string; resource: string; context?: Record<string, string>; allowed: boolean; count: number; reason?: string }>;
}

export function roleNameOf(roleArn: string): string {
  return roleArn.replace(/^.*:role\/(?:.*\/)?/, "");
}

/** A principal as a resource policy's Principal names it. */
export function callerOf(principal: Principal): Caller {
  return { arn: principal.roleArn, sessionArn: sessionArn(principal), account: LOCAL_ACCOUNT };
}

/**
 * The request context of a principal's request: the global keys, then the keys the request carries.
 * `aws:PrincipalArn` is the role's ARN, not the session's, as AWS sets it for roles; the local front door is plain HTTP
 * on the loopback standing in for AWS's HTTPS endpoints, so `aws:SecureTransport` is true unless the request says
 * otherwise.
 */
export function requestContext(request: Pick<AccessRequest, "principal" | "context">, region: string): Record<string, string> {
  return {
    "aws:PrincipalArn": request.principal.roleArn,
    "aws:PrincipalAccount": LOCAL_ACCOUNT,
    "aws:RequestedRegion": region,
    "aws:SecureTransport": "true",
    ...(request.context ?? {}),
  };
}

function parseDocument(document: RolePolicyRecord["document"]): unknown {
  return typeof document === "string" ? JSON.parse(document) : document;
}

function parsePolicy(document: RolePolicyRecord["document"]): PolicyDocument {
  const doc = parseDocument(document) as { Version?: string; Statement?: Statement | Statement[] };
  return { Version: doc.Version, Statement: doc.Statement ?? [] };
}

/** Builds the IAM log of a run from the registry (principals and their roles) and the access log. */
export function iamLog(args: { run: string; stack: string; principals: readonly Principal[]; enforcer: IamEnforcer; accessLog: readonly AccessLogEntry[] }): IamLog {
  const principals = args.principals
    .filter((p) => p.kind !== "operator" && p.roleArn)
    .map((p) => ({ principal: `${p.kind}:${p.name}`, roleArn: p.roleArn, statements: args.enforcer.policiesOf(p.roleArn).flatMap((d) => list(d.Statement)) }))
    .sort((a, b) => a.principal.localeCompare(b.principal));
  const rows = new Map<string, IamLog["accesses"][number]>();
  for (const e of args.accessLog) {
    const context = e.context ? { ...e.context } : undefined;
    const key = JSON.stringify([e.principal, e.action, e.resource, context ?? null, e.allowed]);
    const row = rows.get(key) ?? { principal: e.principal, action: e.action, resource: e.resource, ...(context ? { context } : {}), allowed: e.allowed, count: 0, ...(e.reason ? { reason: e.reason } : {}) };
    row.count++;
    rows.set(key, row);
  }
  const accesses = [...rows.values()].sort((a, b) => a.principal.localeCompare(b.principal) || a.action.localeCompare(b.action) || a.resource.localeCompare(b.resource));
  return { version: 1, writtenAt: new Date().toISOString(), run: args.run, stack: args.stack, principals, accesses };
}

/** Where a run's IAM log goes: `.local/iam-log.json` in the project, or `LOCAL_IAM_LOG` (the CLI tests keep theirs apart). */
export function iamLogPath(projectDir: string): string {
  return process.env.LOCAL_IAM_LOG ?? localStatePath(projectDir, "iam-log.json");
}

/** Writes the log atomically (temporary file + rename): a reader never sees half a file. */
export function writeIamLog(file: string, log: IamLog): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(log, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** One granted (action, resource) pair of a statement, and how often an allowed request used it. */
export interface GrantUse {
  readonly sid: string;
  readonly action: string;
  readonly resource: string;
  readonly uses: number;
}

export interface PrincipalReport {
  readonly principal: string;
  readonly roleArn: string;
  readonly statements: Statement[];
  /** Distinct (action, resource) pairs the principal was allowed, with counts. */
  readonly used: Array<{ action: string; resource: string; count: number }>;
  readonly unused: GrantUse[];
  readonly denied: Array<{ action: string; resource: string; count: number; reason?: string }>;
}

/**
 * Per principal: every Allow statement split into (action, resource) pairs, each matched against the allowed
 * requests (same glob rules as evaluation); a pair no request matched is unused.
 */
export function iamReport(log: Pick<IamLog, "principals" | "accesses">): PrincipalReport[] {
  return log.principals.map((p) => {
    const mine = log.accesses.filter((a) => a.principal === p.principal);
    const allowed = mine.filter((a) => a.allowed);
    const grants: GrantUse[] = p.statements
      .filter((s) => s.Effect === "Allow")
      .flatMap((s) =>
        list(s.Action).flatMap((action) =>
          list(s.Resource).map((resource) => {
            const uses = allowed.filter((a) => actionMatches(action, a.action) && (resource === "*" || resourceMatches(resource, a.resource))).reduce((n, a) => n + a.count, 0);
            return { sid: s.Sid ?? "(no Sid)", action, resource, uses };
          }),
        ),
      );
    return {
      principal: p.principal,
      roleArn: p.roleArn,
      statements: p.statements,
      used: allowed.map((a) => ({ action: a.action, resource: a.resource, count: a.count })),
      unused: grants.filter((g) => g.uses === 0),
      denied: mine.filter((a) => !a.allowed).map((a) => ({ action: a.action, resource: a.resource, count: a.count, ...(a.reason ? { reason: a.reason } : {}) })),
    };
  });
}

/** The report as text: one block per principal. */
export function formatIamReport(reports: readonly PrincipalReport[], log: Pick<IamLog, "run" | "stack" | "writtenAt">): string {
  const lines = [`IAM report — run "${log.run}" on stack ${log.stack}, written ${log.writtenAt}`];
  for (const r of reports) {
    const grants = r.statements.filter((s) => s.Effect === "Allow").reduce((n, s) => n + list(s.Action).length * list(s.Resource).length, 0);
    // Granted pairs are patterns (an object-key prefix, a log group's streams); requests name concrete resources.
    lines.push(
      "",
      `${r.principal}  (${roleNameOf(r.roleArn)})  ${grants} granted pairs: ${grants - r.unused.length} used, ${r.unused.length} unused; ${r.used.length} distinct requests allowed, ${r.denied.length} denied`,
    );
    for (const s of r.statements) {
      const actions = s.NotAction !== undefined ? `every action but ${list(s.NotAction).join(", ")}` : list(s.Action).join(", ");
      const resources = s.NotResource !== undefined ? `every resource but ${list(s.NotResource).join(", ")}` : list(s.Resource).join(", ");
      lines.push(`  ${s.Effect === "Deny" ? "deny " : "grant"}  ${s.Sid ?? "(no Sid)"}: ${actions} on ${resources}${s.Condition ? ` if ${JSON.stringify(s.Condition)}` : ""}`);
    }
    for (const u of r.used) lines.push(`  used   ${u.action} ${u.resource} ×${u.count}`);
    for (const u of r.unused) lines.push(`  unused ${u.sid}: ${u.action} ${u.resource}`);
    for (const d of r.denied) lines.push(`  DENIED ${d.action} ${d.resource} ×${d.count}${d.reason ? ` (${d.reason})` : ""}`);
  }
  const denied = reports.reduce((n, r) => n + r.denied.length, 0);
  const unused = reports.reduce((n, r) => n + r.unused.length, 0);
  lines.push("", `${reports.length} principals · ${unused} unused grants · ${denied} denied (action, resource) pairs`);
  return lines.join("\n");
}
