import type { Principal } from "../iam/principals";
import { LOCAL_ACCOUNT, LOCAL_PARTITION } from "../program/resource-state";
import { Access, ServiceError } from "./errors";

/**
 * A parameter store holding the parameters the program registered (SecureString values as the program set them; no
 * data is encrypted locally, but reading one decrypted needs the caller's permission on its KMS key, checked by the
 * `decrypt` hook the cloud sets — see kms.ts). AWS JSON 1.1 protocol: GetParameter, GetParameters, PutParameter.
 */
export interface ParameterRecord {
  readonly name: string;
  readonly arn: string;
  type: "String" | "StringList" | "SecureString";
  value: string;
  /** The KMS key of a SecureString (id, ARN or alias); unset means the AWS-managed `alias/aws/ssm`. */
  keyId?: string;
  version: number;
  lastModified: number;
}

export class LocalSsm {
  readonly parameters = new Map<string, ParameterRecord>();
  /** Checks that the caller may have a SecureString decrypted (kms:Decrypt through SSM); throws when not. */
  decrypt?: (caller: Principal, parameter: ParameterRecord) => void;

  constructor(private readonly region: string) {}

  put(name: string, type: ParameterRecord["type"], value: string, keyId?: string): ParameterRecord {
    const prior = this.parameters.get(name);
    const record: ParameterRecord = {
      name,
      arn: this.arnOf(name),
      type,
      value,
      ...(type === "SecureString" ? { keyId: keyId ?? prior?.keyId } : {}),
      version: (prior?.version ?? 0) + 1,
      lastModified: Date.now(),
    };
    this.parameters.set(name, record);
    return record;
  }

  get(name: string): ParameterRecord | undefined {
    return this.parameters.get(name) ?? this.parameters.get(name.replace(/^arn:[^:]+:ssm:[^:]+:\d+:parameter/, ""));
  }

  arnOf(name: string): string {
    const resource = name.startsWith("/") ? `parameter${name}` : `parameter/${name}`;
    return `arn:${LOCAL_PARTITION}:ssm:${this.region}:${LOCAL_ACCOUNT}:${resource}`;
  }

  describe(operation: string, input: Record<string, unknown>): Access[] {
    const names = operation === "GetParameters" ? ((input.Names as string[]) ?? []) : [String(input.Name ?? "")];
    return names.map((name) => ({ action: `ssm:${operation}`, resource: name.startsWith("arn:") ? name : this.arnOf(name) }));
  }

  handleJson(operation: string, input: Record<string, any>, caller?: Principal): unknown {
    switch (operation) {
      case "GetParameter": {
        const record = this.get(String(input.Name ?? ""));
        if (!record) throw new ServiceError("ParameterNotFound", "", 400);
        return { Parameter: this.render(record, !!input.WithDecryption, caller) };
      }
      case "GetParameters": {
        const names = (input.Names as string[]) ?? [];
        const found = names.map((n) => this.get(n)).filter((r): r is ParameterRecord => !!r);
        return {
          Parameters: found.map((r) => this.render(r, !!input.WithDecryption, caller)),
          InvalidParameters: names.filter((n) => !this.get(n)),
        };
      }
      case "PutParameter": {
        const prior = this.get(String(input.Name));
        if (prior && !input.Overwrite) throw new ServiceError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.", 400);
        const record = this.put(String(input.Name), (input.Type ?? prior?.type ?? "String") as ParameterRecord["type"], String(input.Value), input.KeyId);
        return { Version: record.version, Tier: "Standard" };
      }
      default:
        throw new ServiceError("InvalidAction", `The action ${operation} is not implemented by the local SSM`, 400);
    }
  }

  private render(r: ParameterRecord, decrypt: boolean, caller: Principal | undefined): Record<string, unknown> {
    if (decrypt && r.type === "SecureString" && caller) this.decrypt?.(caller, r);
    return {
      Name: r.name,
      Type: r.type,
      // Without decryption AWS returns the KMS ciphertext; any opaque value serves locally.
      Value: r.type === "SecureString" && !decrypt ? Buffer.from(`local-kms:${r.name}:${r.version}`).toString("base64") : r.value,
      Version: r.version,
      LastModifiedDate: r.lastModified / 1000,
      ARN: r.arn,
      DataType: "text",
    };
  }
}
