import { createHash } from "node:crypto";
import { LOCAL_ACCOUNT, LOCAL_PARTITION } from "../program/resource-state";

/**
 * Who is calling. Every compute resource of the program (each Lambda function, each ECS task definition's task
 * role, each state machine) gets its own local access key, mapped to the role it runs with; the operator (CLI,
 * tests, seeding) has one more. The front door identifies every request by the access key in its SigV4
 * Authorization header — the same way AWS tells callers apart — and asks `authorize` before serving it.
 */
export interface Principal {
  readonly kind: "lambda" | "ecs-task" | "state-machine" | "operator";
  /** Function name, task definition family, state machine name, or "operator". */
  readonly name: string;
  /** The role this principal acts as; empty for the operator. */
  readonly roleArn: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** One authorization question: may `principal` perform `action` (IAM name, e.g. `dynamodb:PutItem`) on `resource`? */
export interface AccessRequest {
  readonly principal: Principal;
  /** Signing name of the service (dynamodb, s3, sns, sqs, ssm, states, lambda, ecs, iam). */
  readonly service: string;
  readonly action: string;
  /** The resource ARN the action targets; `*` where the API has no resource type. */
  readonly resource: string;
  /** Condition keys the request carries, e.g. `ecs:cluster` for RunTask, `iam:PassedToService` for PassRole. */
  readonly context?: Readonly<Record<string, string>>;
}

export interface Decision {
  readonly allowed: boolean;
  /**
   * Why a request is denied, in the words AWS puts after the resource ("because no identity-based policy allows the
   * … action", "with an explicit deny in a resource-based policy").
   */
  readonly reason?: string;
  /** The policy statement that decided, when one did. */
  readonly matchedSid?: string;
  /** The kind of policy whose statement decided, when one did: what tells an explicit deny from an implicit one. */
  readonly policy?: "identity-based" | "resource-based";
}

/**
 * The authorization hook. The local cloud sets one that evaluates the principal's role policies (local/iam/enforcement.ts);
 * `allowAll` is the registry's own default, for a cloud booted with `enforceIam: false`.
 */
export type Authorizer = (request: AccessRequest) => Decision;

export const allowAll: Authorizer = () => ({ allowed: true });

export interface AccessLogEntry {
  readonly time: number;
  readonly principal: string;
  readonly roleArn: string;
  readonly service: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
  readonly allowed: boolean;
  readonly matchedSid?: string;
  readonly reason?: string;
}

export class AccessDeniedError extends Error {
  override name = "AccessDenied";
  constructor(readonly request: AccessRequest, reason?: string) {
    super(`User: ${sessionArn(request.principal)} is not authorized to perform: ${request.action} on resource: ${request.resource}${reason ? ` ${reason}` : ""}`);
  }
}

/** The assumed-role session ARN AWS names in AccessDenied messages. */
export function sessionArn(p: Principal): string {
  if (p.kind === "operator") return `arn:${LOCAL_PARTITION}:iam::${LOCAL_ACCOUNT}:user/local-operator`;
  const roleName = p.roleArn.replace(/^.*:role\/(?:.*\/)?/, "");
  return `arn:${LOCAL_PARTITION}:sts::${LOCAL_ACCOUNT}:assumed-role/${roleName}/${p.name}`;
}

/** Issues access keys and answers "who is this key" and "may they". Records every decision for the IAM report. */
export class PrincipalRegistry {
  private readonly byKey = new Map<string, Principal>();
  private readonly byId = new Map<string, Principal>();
  readonly accessLog: AccessLogEntry[] = [];
  readonly operator: Principal;
  authorizer: Authorizer = allowAll;

  constructor() {
    this.operator = this.issue("operator", "operator", "");
  }

  /** Returns the principal for (kind, name), creating its key on first use; the role is updated if it changed. */
  issue(kind: Principal["kind"], name: string, roleArn: string): Principal {
    const id = `${kind}:${name}`;
    const existing = this.byId.get(id);
    if (existing && existing.roleArn === roleArn) return existing;
    const digest = createHash("sha256").update(id).digest();
    const principal: Principal = {
      kind,
      name,
      roleArn,
      // AKIA + 16 characters of the key-id alphabet, as IAM formats long-term keys.
      accessKeyId: `AKIA${base32(digest.subarray(0, 10)).slice(0, 16)}`,
      secretAccessKey: createHash("sha256").update(`secret:${id}`).digest("base64").slice(0, 40),
    };
    if (existing) this.byKey.delete(existing.accessKeyId);
    this.byKey.set(principal.accessKeyId, principal);
    this.byId.set(id, principal);
    return principal;
  }

  byAccessKey(accessKeyId: string): Principal | undefined {
    return this.byKey.get(accessKeyId);
  }

  find(kind: Principal["kind"], name: string): Principal | undefined {
    return this.byId.get(`${kind}:${name}`);
  }

  all(): Principal[] {
    return [...this.byId.values()];
  }

  /**
   * Asks the authorizer and records the answer; throws AccessDeniedError when denied. A decision made elsewhere (a
   * KMS key policy) may be passed in, to be recorded and enforced the same way.
   */
  check(request: AccessRequest, decision: Decision = this.authorizer(request)): void {
    this.accessLog.push({
      time: Date.now(),
      principal: `${request.principal.kind}:${request.principal.name}`,
      roleArn: request.principal.roleArn,
      service: request.service,
      action: request.action,
      resource: request.resource,
      ...(request.context ? { context: request.context } : {}),
      allowed: decision.allowed,
      ...(decision.matchedSid ? { matchedSid: decision.matchedSid } : {}),
      ...(decision.allowed ? {} : { reason: decision.reason }),
    });
    if (!decision.allowed) throw new AccessDeniedError(request, decision.reason);
  }

  /** The distinct (principal, action, resource) triples seen, for an IAM report. */
  usage(): Array<{ principal: string; roleArn: string; action: string; resource: string; count: number; denied: number }> {
    const rows = new Map<string, { principal: string; roleArn: string; action: string; resource: string; count: number; denied: number }>();
    for (const e of this.accessLog) {
      const key = `${e.principal}\u0000${e.action}\u0000${e.resource}`;
      const row = rows.get(key) ?? { principal: e.principal, roleArn: e.roleArn, action: e.action, resource: e.resource, count: 0, denied: 0 };
      row.count++;
      if (!e.allowed) row.denied++;
      rows.set(key, row);
    }
    return [...rows.values()].sort((a, b) => a.principal.localeCompare(b.principal) || a.action.localeCompare(b.action) || a.resource.localeCompare(b.resource));
  }

  /** Environment variables that make the AWS SDK sign as this principal. */
  static credentialsEnv(p: Principal): Record<string, string> {
    return { AWS_ACCESS_KEY_ID: p.accessKeyId, AWS_SECRET_ACCESS_KEY: p.secretAccessKey };
  }
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}
