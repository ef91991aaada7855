import * as fs from "node:fs";
import * as path from "node:path";
import { evaluate, globToRegExp, PolicyDocument, Statement } from "./evaluate";
import type { RolePolicyRecord } from "../program/provider";
import type { AccessLogEntry, AccessRequest, Authorizer, Decision, Principal, PrincipalRegistry } from "./principals";

/**
 * IAM as the local cloud enforces it: every request a principal makes is decided against the identity policies the
 * program attached to that principal's role (the `aws:iam/rolePolicy:RolePolicy` documents the provider collected),
 * with `evaluate()` from iam.ts. The operator (CLI, tests, seeding) stands for an administrator and is always allowed.
 *
 * The access log of a run is kept (`writeIamLog`) so that `npm run local -- iam-report` can say, per principal, what
 * it was granted, what it used, which grants no scenario used, and what was denied.
 */
export class IamEnforcer {
  /** Policies replaced for a while (a test taking a grant away from a running cloud), by role name. */
  private readonly overrides = new Map<string, PolicyDocument[]>();

  constructor(private readonly rolePolicies: readonly RolePolicyRecord[]) {}

  /** The identity policies of a role (by ARN), as the program generated them, or as a test overrode them. */
  policiesOf(roleArn: string): PolicyDocument[] {
    const roleName = roleNameOf(roleArn);
    return this.overrides.get(roleName) ?? this.rolePolicies.filter((p) => p.roleName === roleName).map((p) => parsePolicy(p.document));
  }

  /** The authorizer the principal registry calls before every request is served. */
  readonly authorize: Authorizer = (request: AccessRequest): Decision => {
    if (request.principal.kind === "operator") return { allowed: true, reason: "the operator is an administrator" };
    const result = evaluate(this.policiesOf(request.principal.roleArn), { action: request.action, resource: request.resource, context: { ...(request.context ?? {}) } });
    return { allowed: result.allowed, reason: result.reason, matchedSid: result.matchedSid };
  };

  /**
   * Takes `action` out of every statement of the principal's role until the returned function is called — what an
   * engineer removing a grant from the program would cause, without redeploying.
   */
  revoke(principal: Principal, action: string): () => void {
    return this.override(principal, (docs) =>
      docs.map((doc) => ({
        ...doc,
        Statement: list(doc.Statement)
          .map((s) => ({ ...s, Action: list(s.Action).filter((a) => a.toLowerCase() !== action.toLowerCase()) }))
          .filter((s) => s.Action.length > 0),
      })),
    );
  }

  /** Replaces the principal's policies with `edit` of them until the returned function is called (see `revoke`). */
  override(principal: Principal, edit: (documents: PolicyDocument[]) => PolicyDocument[]): () => void {
    const roleName = roleNameOf(principal.roleArn);
    const before = this.overrides.get(roleName);
    this.overrides.set(roleName, edit(this.policiesOf(principal.roleArn)));
    return () => {
      if (before) this.overrides.set(roleName, before);
      else this.overrides.delete(roleName);
    };
  }
}

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

function parsePolicy(document: RolePolicyRecord["document"]): PolicyDocument {
  const doc = typeof document === "string" ? JSON.parse(document) : document;
  return { Version: doc.Version, Statement: (doc.Statement ?? []) as Statement[] };
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

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
  return process.env.LOCAL_IAM_LOG ?? path.join(projectDir, ".local", "iam-log.json");
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
            const actionRe = globToRegExp(action, "i");
            const resourceRe = resource === "*" ? undefined : globToRegExp(resource);
            const uses = allowed.filter((a) => actionRe.test(a.action) && (!resourceRe || resourceRe.test(a.resource))).reduce((n, a) => n + a.count, 0);
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
    const grants = r.statements.reduce((n, s) => n + list(s.Action).length * list(s.Resource).length, 0);
    // Granted pairs are patterns (an object-key prefix, a log group's streams); requests name concrete resources.
    lines.push(
      "",
      `${r.principal}  (${roleNameOf(r.roleArn)})  ${grants} granted pairs: ${grants - r.unused.length} used, ${r.unused.length} unused; ${r.used.length} distinct requests allowed, ${r.denied.length} denied`,
    );
    for (const s of r.statements) lines.push(`  grant  ${s.Sid ?? "(no Sid)"}: ${list(s.Action).join(", ")} on ${list(s.Resource).join(", ")}${s.Condition ? ` if ${JSON.stringify(s.Condition)}` : ""}`);
    for (const u of r.used) lines.push(`  used   ${u.action} ${u.resource} ×${u.count}`);
    for (const u of r.unused) lines.push(`  unused ${u.sid}: ${u.action} ${u.resource}`);
    for (const d of r.denied) lines.push(`  DENIED ${d.action} ${d.resource} ×${d.count}${d.reason ? ` (${d.reason})` : ""}`);
  }
  const denied = reports.reduce((n, r) => n + r.denied.length, 0);
  const unused = reports.reduce((n, r) => n + r.unused.length, 0);
  lines.push("", `${reports.length} principals · ${unused} unused grants · ${denied} denied (action, resource) pairs`);
  return lines.join("\n");
}
