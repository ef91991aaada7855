import * as pulumi from "@pulumi/pulumi";
import type { Plugin } from "esbuild";
import { FunctionSizing, lambdaTaskSeconds } from "./config";
import { LambdaFunction } from "./lambda-function";
import { PolicyStatement } from "./policy";

/** What one function of a pipeline is: its handler, its purpose, its privileges and its environment. */
export interface FunctionSpec {
  readonly entry: string;
  readonly description: string;
  readonly grants: readonly PolicyStatement[];
  readonly environment: Record<string, pulumi.Input<string>>;
  readonly bundlePlugins?: readonly Plugin[];
}

/** Settings every function of a stack shares. */
export interface FunctionDefaults {
  readonly namePrefix: string;
  readonly logRetentionDays: number;
  readonly logLevel: string;
  readonly alarmTopicArn: pulumi.Input<string>;
}

/** `handlePaymentFailure` → `handle-payment-failure`. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * One LambdaFunction per spec, named `${name}-${key}` (logical) and `${namePrefix}-${key}` (physical), sized from the
 * stack config, as children of `parent`.
 */
export function createFunctionSet<K extends string>(
  parent: pulumi.Resource,
  name: string,
  specs: Record<K, FunctionSpec>,
  sizing: Record<K, FunctionSizing>,
  defaults: FunctionDefaults,
): Record<K, LambdaFunction> {
  const keys = Object.keys(specs) as K[];
  return Object.fromEntries(
    keys.map((key) => {
      const spec = specs[key];
      const size = sizing[key];
      const fn = new LambdaFunction(
        `${name}-${kebab(key)}`,
        {
          entry: spec.entry,
          functionName: `${defaults.namePrefix}-${kebab(key)}`,
          description: spec.description,
          memorySize: size.memoryMb,
          timeoutSeconds: size.timeoutSeconds,
          reservedConcurrency: size.reservedConcurrency,
          provisionedConcurrency: size.provisionedConcurrency,
          environment: spec.environment,
          grants: spec.grants,
          bundlePlugins: spec.bundlePlugins,
          logRetentionDays: defaults.logRetentionDays,
          logLevel: defaults.logLevel,
          alarmTopicArn: defaults.alarmTopicArn,
        },
        { parent },
      );
      return [key, fn];
    }),
  ) as Record<K, LambdaFunction>;
}

/** The alias ARNs a workflow invokes, resolved together. */
export function invokeArns<K extends string>(functions: Record<K, LambdaFunction>): pulumi.Output<Record<K, string>> {
  const keys = Object.keys(functions) as K[];
  return pulumi.output(Object.fromEntries(keys.map((k) => [k, functions[k].invokeArn]))) as unknown as pulumi.Output<Record<K, string>>;
}

/** The TimeoutSeconds of each function's Task: its timeout plus Lambda's init limit (config.ts `lambdaTaskSeconds`). */
export function taskTimeoutsOf<K extends string>(keys: readonly K[], sizing: Record<K, FunctionSizing>): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, lambdaTaskSeconds(sizing[k].timeoutSeconds)])) as Record<K, number>;
}
