import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { HostSetup, RegistrationArgs } from "../local/program-host";
import { invokeResult, resourceState } from "../local/resource-state";
import { loadStackConfig, StackConfig } from "../local/stack-config";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require("js-yaml");

/**
 * Secrets declared in Pulumi.yaml (`secret: true`) that the stack file does not set yet get a throwaway value, so the
 * program runs offline; a real `pulumi up` still refuses to run without them.
 */
export function withDeclaredSecrets(config: StackConfig): StackConfig {
  const project = yaml.load(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")) as { config?: Record<string, { secret?: boolean }> };
  const values = { ...config.values };
  const secretKeys = [...config.secretKeys];
  const notes = [...config.notes];
  for (const [key, declaration] of Object.entries(project.config ?? {})) {
    const full = key.includes(":") ? key : `${config.project}:${key}`;
    if (declaration?.secret && values[full] === undefined) {
      values[full] = `offline-${randomBytes(12).toString("hex")}`;
      secretKeys.push(full);
      notes.push(`${full}: declared secret not set in the stack file; a throwaway value is used offline`);
    }
  }
  return { ...config, values, secretKeys, notes };
}

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
  const config = withDeclaredSecrets(loadStackConfig({ projectDir: PROJECT_ROOT, stack, overrides }));
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
