import { fork } from "node:child_process";
import * as path from "node:path";
import type { HostSetup, RegistrationArgs } from "../local/program-host";
import { invokeResult, resourceState } from "../local/resource-state";
import { loadStackConfig } from "../local/stack-config";

/**
 * Runs the Pulumi program (index.ts) under mocks in a child process and returns the resource graph it registers,
 * without provisioning anything: what `npm run plan` prints and what the benchmarks measure. The local cloud runs the
 * same program host, with a provider that also provisions (local/provider.ts).
 */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

export interface GraphResource {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: Record<string, any>;
  readonly state: Record<string, any>;
}

export interface ProgramGraph {
  readonly stack: string;
  readonly region: string;
  readonly resources: GraphResource[];
  readonly outputs: Record<string, unknown>;
}

export async function programGraph(stack = "dev", overrides: Record<string, string> = {}): Promise<ProgramGraph> {
  const config = loadStackConfig({ projectDir: PROJECT_ROOT, stack, overrides });
  const setup: HostSetup = {
    entry: path.join(PROJECT_ROOT, "index.ts"),
    project: config.project,
    stack,
    config: config.values,
    secretKeys: config.secretKeys,
  };
  const resources: GraphResource[] = [];
  const child = fork(path.join(PROJECT_ROOT, "local", "program-host.ts"), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, LOCAL_PROGRAM_SETUP: JSON.stringify(setup) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise<ProgramGraph>((resolve, reject) => {
    child.on("message", (msg: any) => {
      if (msg.kind === "register") {
        const args = msg.args as RegistrationArgs;
        const result = resourceState({ type: args.type, name: args.name, inputs: args.inputs }, config.region);
        resources.push({ type: args.type, name: args.name, custom: args.custom, inputs: args.inputs, state: result.state });
        child.send({ kind: "reply", seq: msg.seq, result });
      } else if (msg.kind === "call") {
        child.send({ kind: "reply", seq: msg.seq, result: invokeResult(msg.token, config.region) });
      } else if (msg.kind === "done") {
        resolve({ stack, region: config.region, resources, outputs: msg.outputs });
        child.kill();
      } else if (msg.kind === "failed") {
        reject(new Error(`the program failed under mocks: ${msg.error}`));
      }
    });
    child.on("exit", (code) => {
      if (code) reject(new Error(`program host exited with code ${code}`));
    });
  });
}
