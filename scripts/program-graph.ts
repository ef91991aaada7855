import * as path from "node:path";
import { recordProgram, type RecordedResource } from "../local/program/provider";
import { loadStackConfig, substitutableKeys } from "../local/program/stack-config";

/**
 * Runs the Pulumi program (index.ts) under mocks in a child process and returns the resource graph it registers,
 * without provisioning anything: what `npm run plan` prints and what the benchmarks measure. The local cloud runs the
 * same program host, with a provider that also provisions (local/program/provider.ts).
 */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

export type GraphResource = RecordedResource;

export interface ProgramGraph {
  readonly stack: string;
  readonly region: string;
  readonly resources: GraphResource[];
  readonly outputs: Record<string, unknown>;
}

const cache = new Map<string, Promise<ProgramGraph>>();

/** The graph of one stack; runs the program once per stack and overrides within a process (the graph is data). */
export function programGraph(stack = "dev", overrides: Record<string, string> = {}): Promise<ProgramGraph> {
  const key = JSON.stringify([stack, overrides]);
  if (!cache.has(key)) {
    const run = runProgram(stack, overrides);
    run.catch(() => cache.delete(key));
    cache.set(key, run);
  }
  return cache.get(key)!;
}

async function runProgram(stack: string, overrides: Record<string, string>): Promise<ProgramGraph> {
  // Declared secrets the stack file lacks (paymentGatewayKey) get a throwaway value here; `pulumi up` still needs them.
  const config = loadStackConfig({ projectDir: PROJECT_ROOT, stack, overrides });
  const { resources, outputs } = await recordProgram({ entry: "index.ts", projectDir: PROJECT_ROOT, config, quiet: true, substitutable: substitutableKeys(config.project) });
  return { stack, region: config.region, resources, outputs };
}
