import { evaluate, type PolicyDocument, type Statement } from "../iam/evaluate";
import { allowAll, type AccessDeniedError, type Decision, type Principal, type PrincipalRegistry } from "../iam/principals";
import { LOCAL_ACCOUNT, LOCAL_PARTITION } from "../program/resource-state";

/**
 * KMS as the services that encrypt with it use it on the caller's behalf: SSM decrypting a SecureString, SNS
 * encrypting a message for an encrypted topic, ECS reading a task's secrets. No data is encrypted locally; what is
 * enforced is who may use which key, as AWS decides it (sources: "Key policies in AWS KMS", "Default key policy",
 * "kms:ViaService", "How AWS Systems Manager Parameter Store uses AWS KMS", "Encryption at rest" for SNS — AWS KMS and
 * SNS developer guides):
 *
 * - the key policy decides first: a statement naming the caller's role (or `*`) allows or denies it directly; a
 *   statement allowing the account (`arn:aws:iam::<account>:root`) hands the decision to the caller's IAM policies;
 *   a key whose policy does neither cannot be used by the caller, whatever its IAM policies say;
 * - the request context carries `kms:ViaService` (`<service>.<region>.amazonaws.com`), `kms:CallerAccount` and the
 *   encryption context the service uses (`kms:EncryptionContext:PARAMETER_ARN` for SSM), so a policy conditioned on
 *   them is evaluated as on AWS;
 * - a key created without a policy gets the default key policy (the account delegates to IAM);
 * - a SecureString or topic without a key of its own uses the AWS-managed key (`alias/aws/ssm`, `alias/aws/sns`),
 *   whose policy lets every principal of the account use it through that service only.
 */
export interface KeyRecord {
  readonly keyId: string;
  readonly arn: string;
  readonly policy: PolicyDocument;
  /** Set for an AWS-managed key: the service it serves. */
  readonly managedFor?: string;
}

/** A statement of a key policy: an IAM statement with a Principal. */
interface KeyPolicyStatement extends Statement {
  readonly Principal?: "*" | { readonly AWS?: string | string[]; readonly Service?: string | string[] };
}

const list = <T>(value: T | readonly T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? [...value] : [value as T]);
const ROOT = `arn:${LOCAL_PARTITION}:iam::${LOCAL_ACCOUNT}:root`;

export class LocalKms {
  private readonly keys = new Map<string, KeyRecord>();
  private readonly aliases = new Map<string, string>();

  constructor(private readonly region: string) {}

  /** A key the program created; without a policy it gets KMS's default key policy. */
  registerKey(keyId: string, arn: string, policy?: string | PolicyDocument): KeyRecord {
    const parsed = typeof policy === "string" ? (JSON.parse(policy) as PolicyDocument) : policy;
    const key: KeyRecord = { keyId, arn, policy: parsed ?? defaultKeyPolicy() };
    this.keys.set(keyId, key);
    return key;
  }

  registerAlias(name: string, targetKeyId: string): void {
    this.aliases.set(name, targetKeyId);
  }

  /**
   * The key a service names by id, ARN, alias name or alias ARN; undefined or empty means the service's AWS-managed
   * key (`alias/aws/<service>`).
   */
  resolve(ref: string | undefined, service: string): KeyRecord {
    if (ref === undefined || ref === "" || ref === `alias/aws/${service}`) return this.managedKey(service);
    const keyId = /:key\/(.+)$/.exec(ref)?.[1] ?? this.aliases.get(/:(alias\/.+)$/.exec(ref)?.[1] ?? ref) ?? ref;
    const key = this.keys.get(keyId);
    if (!key) throw new KmsNotFound(`Invalid keyId ${ref}`);
    return key;
  }

  /**
   * Decides whether `principal` may perform `action` on `key` through `service` (as a service does on the caller's
   * behalf), recording the decision in the access log; throws AccessDeniedError naming KMS's reason when denied.
   */
  authorize(principals: PrincipalRegistry, principal: Principal, action: string, key: KeyRecord, service: string, encryptionContext: Record<string, string> = {}): void {
    const context: Record<string, string> = {
      "kms:ViaService": `${service}.${this.region}.amazonaws.com`,
      "kms:CallerAccount": LOCAL_ACCOUNT,
      ...Object.fromEntries(Object.entries(encryptionContext).map(([k, v]) => [`kms:EncryptionContext:${k}`, v])),
    };
    const request = { principal, service: "kms", action, resource: key.arn, context };
    // The operator stands for an administrator; a cloud booted with `enforceIam: false` checks nothing.
    if (principal.kind === "operator" || principals.authorizer === allowAll) return principals.check(request);
    const statements = list(key.policy.Statement) as KeyPolicyStatement[];
    const direct = statements.filter((s) => namesPrincipal(s, principal.roleArn));
    const verdict = evaluate([{ Statement: direct.map(withoutPrincipal) }], { action, resource: key.arn, context });
    if (verdict.allowed || /explicitly denied/.test(verdict.reason)) {
      // The key policy itself allowed or denied this role.
      return principals.check(request, { allowed: verdict.allowed, reason: `${verdict.reason} of the key policy of ${key.arn}`, matchedSid: verdict.matchedSid });
    }
    const delegating = statements.filter((s) => s.Effect === "Allow" && namesAccount(s));
    const delegated = evaluate([{ Statement: delegating.map(withoutPrincipal) }], { action, resource: key.arn, context });
    if (!delegated.allowed) {
      const decision: Decision = { allowed: false, reason: `the key policy of ${key.arn} neither allows ${principal.roleArn} nor lets IAM policies allow ${action}` };
      return principals.check(request, decision);
    }
    principals.check(request);
  }

  private managedKey(service: string): KeyRecord {
    const alias = `alias/aws/${service}`;
    const existing = this.aliases.get(alias);
    if (existing) return this.keys.get(existing)!;
    const keyId = `aws-managed-${service}`;
    const key: KeyRecord = {
      keyId,
      arn: `arn:${LOCAL_PARTITION}:kms:${this.region}:${LOCAL_ACCOUNT}:key/${keyId}`,
      managedFor: service,
      policy: {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: `Allow access through ${service.toUpperCase()} for all principals in the account that are authorized to use ${service.toUpperCase()}`,
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            Resource: "*",
            Condition: { StringEquals: { "kms:ViaService": `${service}.${this.region}.amazonaws.com`, "kms:CallerAccount": LOCAL_ACCOUNT } },
          } as KeyPolicyStatement,
        ],
      },
    };
    this.keys.set(keyId, key);
    this.aliases.set(alias, keyId);
    return key;
  }
}

/** The default key policy KMS gives a key created without one: the account's IAM policies decide. */
export function defaultKeyPolicy(): PolicyDocument {
  return { Version: "2012-10-17", Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: ROOT }, Action: "kms:*", Resource: "*" } as KeyPolicyStatement] };
}

/** A key a service was told to use does not exist (KMS's NotFoundException, wrapped by the calling service). */
export class KmsNotFound extends Error {}

/** The message KMS gives when it refuses a caller, as services pass it on. */
export function kmsDeniedMessage(error: AccessDeniedError): string {
  return `${error.message} (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)`;
}

function namesPrincipal(s: KeyPolicyStatement, roleArn: string): boolean {
  if (s.Principal === "*") return true;
  return list(s.Principal?.AWS).some((p) => p === "*" || p === roleArn);
}

function namesAccount(s: KeyPolicyStatement): boolean {
  return s.Principal !== "*" && list(s.Principal?.AWS).some((p) => p === ROOT || p === LOCAL_ACCOUNT);
}

function withoutPrincipal({ Principal: _, ...statement }: KeyPolicyStatement): Statement {
  return statement;
}
