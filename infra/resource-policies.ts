import * as pulumi from "@pulumi/pulumi";

/**
 * Resource-policy statements shared by the components that own queues, topics and buckets. Plain functions returning
 * policy JSON, so tests can read them whole.
 */

/** Denies every request that does not use TLS (aws:SecureTransport), whoever makes it. */
export function denyInsecureTransport(action: string, resources: pulumi.Input<string>[]): Record<string, unknown> {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: action,
    Resource: resources,
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/** A policy document from statements whose values may be Pulumi inputs. */
export function resourcePolicy(statements: Record<string, unknown>[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}
