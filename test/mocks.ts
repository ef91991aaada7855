/**
 * The one Pulumi-mocks setup for unit tests: imported before any component, it answers every registration with the
 * same realistic state the local cloud uses (local/program/resource-state.ts) and records it, so tests can read back what the
 * program registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { invokeResult, resourceState } from "../local/program/resource-state";

export const TEST_REGION = "eu-central-1";

export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  readonly state: Record<string, any>;
}

/** Everything registered since the process started (component tests use distinct names, so they never collide). */
export const registered: Registered[] = [];

let ready: Promise<void> | undefined;

/** Sets the mocks once per process; await it before constructing components. */
export function setupMocks(): Promise<void> {
  ready ??= pulumi.runtime.setMocks(
    {
      async newResource(args) {
        const result = resourceState({ type: args.type, name: args.name, inputs: args.inputs }, TEST_REGION);
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, state: result.state });
        return result;
      },
      async call(args) {
        return invokeResult(args.token, TEST_REGION);
      },
    },
    "order-pipeline",
    "test",
    false,
  );
  return ready;
}

/** Resolves an output; a failure inside it rejects the test instead of being swallowed by an apply. */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return (output as unknown as { promise(): Promise<T> }).promise();
}

/** Registrations of one type whose logical name starts with `prefix`. */
export function ofType(type: string, prefix: string): Registered[] {
  return registered.filter((r) => r.type === type && r.name.startsWith(prefix));
}

/** Waits until registrations stop arriving (resources created inside applies register late). */
export async function settled(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  let count = -1;
  while (count !== registered.length) {
    count = registered.length;
    await settings.waitForRPCs();
    await new Promise((r) => setTimeout(r, 10));
  }
}
