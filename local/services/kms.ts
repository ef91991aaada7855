import { resourcePolicyVerdict, type PolicyDocument, type ResourcePolicyVerdict } from "../iam/evaluate";
import { callerOf, requestContext } from "../iam/enforcement";
import { allowAll, type AccessDeniedError, type Decision, type Principal, type PrincipalRegistry } from "../iam/principals";
import type { ResourcePolicyRecord } from "../program/provider";
import { LOCAL_ACCOUNT, LOCAL_PARTITION } from "../program/resource-state";

/**
 * KMS as the services that encrypt with it use it on the caller's behalf: SSM decrypting a SecureString, SNS
 * encrypting a message for an encrypted topic, ECS reading a task's secrets. No data is encrypted locally; what is
 * enforced is who may use which key, as AWS decides it (sources: "Key policies in AWS KMS", "Default key policy",
 * "kms:ViaService", "How AWS Systems Manager Parameter Store uses AWS KMS", "Encryption at rest" for SNS — AWS KMS and
 * SNS developer guides):
 *
 * - an explicit Deny in the caller's IAM policies or in the key policy wins; otherwise a key-policy statement naming
 *   the caller's role or session (or `*`) allows it directly; a statement allowing the account
 *   (`arn:aws:iam::<account>:root`) hands the decision to the caller's IAM policies; a key whose policy does neither
 *   cannot be used by the caller, whatever its IAM policies say;
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

  /** The key policies of the keys the program created, for the boot-time check of what the evaluator supports. */
  keyPolicies(): ResourcePolicyRecord[] {
    return [...this.keys.values()].filter((k) => !k.managedFor).map((k) => ({ type: "aws:kms/key:Key", name: k.keyId, resourceArn: k.arn, document: JSON.stringify(k.policy) }));
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
   *
   * The key policy is a resource-based policy evaluated by the same evaluator as a bucket's, with KMS's rule on top
   * ("Determining access to an AWS KMS key"): an explicit Deny in the caller's IAM policies or the key policy wins;
   * otherwise the key policy must allow the caller itself, or allow the account and so let IAM policies decide —
   * an IAM Allow alone, which suffices for a bucket, does not open a key.
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
    const identity = principals.authorizer(request);
    const keyPolicy = resourcePolicyVerdict(key.policy, { action, resource: key.arn, context: requestContext(request, this.region), caller: callerOf(principal) });
    principals.check(request, keyDecision(action, identity, keyPolicy));
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
          },
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
  return { Version: "2012-10-17", Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: ROOT }, Action: "kms:*", Resource: "*" }] };
}

/** A key a service was told to use does not exist (KMS's NotFoundException, wrapped by the calling service). */
export class KmsNotFound extends Error {}

/** The message KMS gives when it refuses a caller, as services pass it on. */
export function kmsDeniedMessage(error: AccessDeniedError): string {
  return `${error.message} (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)`;
}

/** The IAM decision and the key policy's verdict combined as KMS combines them (see `LocalKms.authorize`). */
function keyDecision(action: string, identity: Decision, keyPolicy: ResourcePolicyVerdict): Decision {
  if (!identity.allowed && identity.policy !== undefined) return identity;
  switch (keyPolicy.effect) {
    case "deny":
      return { allowed: false, matchedSid: keyPolicy.matchedSid, policy: "resource-based", reason: "with an explicit deny in a resource-based policy" };
    case "allow":
      return { allowed: true, matchedSid: keyPolicy.matchedSid, policy: "resource-based", reason: `allowed by statement ${keyPolicy.matchedSid ?? "(no Sid)"} of the key policy` };
    case "delegate":
      return identity;
    case "none":
      return { allowed: false, reason: `because no resource-based policy allows the ${action} action` };
  }
}
