/**
 * Child process that runs the Pulumi program under mocks. Every registration and provider call is forwarded over
 * IPC to the local provider in the parent (local/program/provider.ts), which provisions the resource locally and answers with
 * its state. The program runs in its own process so that the Pulumi runtime's global state (mocks, config, the
 * resource monitor) never mixes with a test runner's or with a previous boot.
 *
 * Protocol (parent ⇄ child, JSON over the fork IPC channel):
 *   child → parent  { kind: "register", seq, args }   parent → child  { kind: "reply", seq, result | error }
 *   child → parent  { kind: "call", seq, token, inputs }
 *   child → parent  { kind: "done", outputs } | { kind: "failed", error }
 */
import * as pulumi from "@pulumi/pulumi";
import type { MockCallArgs, MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";

export interface HostSetup {
  readonly entry: string;
  readonly project: string;
  readonly stack: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
}

export interface RegistrationArgs {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
  readonly provider?: string;
  readonly importId?: string;
}

type Reply = { kind: "reply"; seq: number; result?: unknown; error?: string };

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SPECIAL_SIG = "4dabf18193072939515e22adb298388d";

let nextSeq = 1;
const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
let inFlight = 0;

function request(message: Record<string, unknown>): Promise<unknown> {
  const seq = nextSeq++;
  inFlight++;
  return new Promise<unknown>((resolve, reject) => {
    waiting.set(seq, { resolve, reject });
    process.send!({ ...message, seq });
  }).finally(() => inFlight--);
}

process.on("message", (msg: Reply) => {
  if (msg?.kind !== "reply") return;
  const w = waiting.get(msg.seq);
  if (!w) return;
  waiting.delete(msg.seq);
  if (msg.error !== undefined) w.reject(new Error(msg.error));
  else w.resolve(msg.result);
});

/** Turns mock inputs into plain JSON: secrets unwrapped, assets/archives resolved to paths, resources to URNs. */
async function plain(value: unknown): Promise<unknown> {
  if (value === null || value === undefined) return value ?? null;
  if (value instanceof Promise) return plain(await value);
  if (Array.isArray(value)) return Promise.all(value.map(plain));
  if (typeof value !== "object") return value;
  const v = value as Record<string, unknown>;
  if (v[SPECIAL_SIG] === SECRET_SIG) return plain(v.value);
  if (pulumi.asset.Archive.isInstance(value) || pulumi.asset.Asset.isInstance(value)) {
    const out: Record<string, unknown> = { $kind: value.constructor.name };
    for (const key of ["path", "uri", "text", "assets"]) {
      if (key in v) out[key] = await plain(v[key]);
    }
    return out;
  }
  if (pulumi.Resource.isInstance(value)) {
    return { $resource: await plain((value as pulumi.Resource).urn) };
  }
  if (pulumi.Output.isInstance(value)) {
    return plain(await (value as unknown as { promise(): Promise<unknown> }).promise());
  }
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(v)) out[key] = await plain(inner);
  return out;
}

async function main(): Promise<void> {
  // The Pulumi SDK records a stack trace for every promise it creates (debuggablePromise); mapped through tsx's
  // source maps, that was a seventh of a program run. Errors keep their messages.
  process.setSourceMapsEnabled(false);
  const setup = JSON.parse(process.env.LOCAL_PROGRAM_SETUP ?? "null") as HostSetup | null;
  if (!setup) throw new Error("LOCAL_PROGRAM_SETUP is not set: this file is started by local/program/provider.ts");
  pulumi.runtime.setAllConfig(setup.config, setup.secretKeys);
  await pulumi.runtime.setMocks(
    {
      async newResource(args: MockResourceArgs) {
        const registration: RegistrationArgs = {
          type: args.type,
          name: args.name,
          custom: args.custom ?? true,
          inputs: (await plain(args.inputs)) as Record<string, unknown>,
          provider: args.provider,
          importId: args.id,
        };
        return (await request({ kind: "register", args: registration })) as { id: string; state: Record<string, unknown> };
      },
      async call(args: MockCallArgs) {
        return (await request({ kind: "call", token: args.token, inputs: await plain(args.inputs) })) as Record<string, unknown>;
      },
    },
    setup.project,
    setup.stack,
    false,
  );

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require(setup.entry) as Record<string, unknown> | (() => unknown);
  let exported: unknown = program;
  const main = typeof program === "function" ? program : (program as { default?: unknown }).default;
  if (typeof main === "function") exported = await (main as () => unknown)();

  await settle();
  const outputs = (await plain(exported)) as Record<string, unknown>;
  await settle();
  process.send!({ kind: "done", outputs: Object.fromEntries(Object.entries(outputs ?? {}).filter(([k]) => k !== "default" && k !== "__esModule")) });
}

/** Waits until the runtime's RPC queue is drained and no registration is in flight, twice in a row. */
async function settle(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  let quietRounds = 0;
  while (quietRounds < 2) {
    await settings.waitForRPCs();
    await new Promise((r) => setImmediate(r));
    if (inFlight === 0) quietRounds++;
    else {
      quietRounds = 0;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

function fail(err: unknown): void {
  const error = err instanceof Error ? `${err.message}\n${err.stack ?? ""}` : String(err);
  process.send?.({ kind: "failed", error }, () => process.exit(1));
}

process.on("unhandledRejection", fail);
process.on("uncaughtException", fail);
main().then(
  () => process.disconnect?.(),
  (err) => fail(err),
);
