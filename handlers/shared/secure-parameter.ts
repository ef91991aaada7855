import { GetParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";

export interface SecureParameterCache {
  /** The decrypted value; fetched from SSM once per name for the life of the container. */
  get(name: string): Promise<string>;
  /** Forgets a value, e.g. after the gateway refused it, so the next call picks up a rotated key. */
  invalidate(name: string): void;
}

/**
 * SecureString parameters cached for the container's lifetime: one GetParameter per cold start instead of one per
 * invocation (SSM's default throughput is 40 TPS per account and region). A failed read is not cached.
 */
export function secureParameterCache(client: SSMClient): SecureParameterCache {
  const values = new Map<string, Promise<string>>();
  return {
    get(name) {
      let value = values.get(name);
      if (value === undefined) {
        value = read(client, name);
        values.set(name, value);
        value.catch(() => values.delete(name));
      }
      return value;
    },
    invalidate(name) {
      values.delete(name);
    },
  };
}

async function read(client: SSMClient, name: string): Promise<string> {
  const { Parameter } = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const value = Parameter?.Value;
  if (value === undefined || value === "") throw new Error(`SSM parameter ${name} has no value`);
  return value;
}
