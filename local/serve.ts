import { randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import type { LocalCloud } from "./cloud";
import { PrincipalRegistry } from "./iam/principals";
import { processAlive } from "../infra/build-lock";

/**
 * `npm run local -- serve`: the local cloud as a service that stays up, for the AWS CLI, SDKs and the other local
 * commands. What a running serve publishes, and how other processes find and use it:
 *
 * - **Discovery file** `.local/serve/<stack>.json` (or `$LOCAL_SERVE_DIR`): the endpoint, region, the operator's keys,
 *   the stack outputs, the process id and a control token — readable by its owner only, removed when serve stops.
 *   A file whose process is gone, or whose endpoint does not answer with its token, is stale and removed.
 * - **Control routes** on the front door, unsigned but for the token: `GET /_local/serve/info` (stack, outputs) and
 *   `POST /_local/serve/cli`, which runs a local command (`order`, `export`, `iam-report`, `demo`, `outputs`) inside
 *   serve against its cloud and streams the command's stdout, stderr and exit code back as JSON lines. The caller
 *   sends the files its arguments name: paths are the caller's, not serve's.
 */

/** The port serve listens on unless told otherwise (LocalStack has 4566; this one is free of it). */
export const DEFAULT_SERVE_PORT = 4599;
export const DISCOVERY_VERSION = 1;
const TOKEN_HEADER = "x-local-serve-token";

export interface Discovery {
  readonly version: number;
  readonly stack: string;
  readonly pid: number;
  readonly url: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly token: string;
  readonly startedAt: string;
  readonly outputs: Record<string, unknown>;
}

/** A command run inside serve on behalf of another process. */
export interface RemoteCommand {
  readonly argv: string[];
  /** Contents of the files the arguments name, by the path as given. */
  readonly files: Record<string, string>;
  /** What the caller read from its standard input, when an argument is "-". */
  readonly stdin?: string;
}

/** Runs one CLI command line with the given streams and input against the served cloud; resolves with its exit code. */
export type CommandRunner = (command: RemoteCommand, out: { stdout(text: string): void; stderr(text: string): void }) => Promise<number>;

export function discoveryFile(dir: string, stack: string): string {
  return path.join(dir, `${stack}.json`);
}

/**
 * The `export NAME=value` lines a client needs: one global endpoint, the region, the operator's keys.
 * AWS_DEFAULT_REGION as well: the AWS CLI v1 reads only that one.
 */
export function clientEnvironment(cloud: LocalCloud): Record<string, string> {
  return { AWS_ENDPOINT_URL: cloud.frontDoor.url, AWS_REGION: cloud.region, AWS_DEFAULT_REGION: cloud.region, ...PrincipalRegistry.credentialsEnv(cloud.principals.operator) };
}

/** Stack outputs as `pulumi stack output` prints them. */
export function formatOutputs(outputs: Record<string, unknown>): string {
  const names = Object.keys(outputs).sort();
  const width = Math.max(6, ...names.map((n) => n.length));
  const value = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  return [`Current stack outputs (${names.length}):`, `    ${"OUTPUT".padEnd(width)}  VALUE`, ...names.map((n) => `    ${n.padEnd(width)}  ${value(outputs[n])}`)].join("\n");
}

/**
 * Publishes a running cloud: the control routes on its front door and the discovery file. `close()` removes both;
 * the cloud itself is the caller's to stop.
 */
export function publish(cloud: LocalCloud, options: { readonly stack: string; readonly dir: string; readonly run: CommandRunner }): { readonly discovery: Discovery; close(): void } {
  const token = randomBytes(24).toString("base64url");
  const operator = cloud.principals.operator;
  const discovery: Discovery = {
    version: DISCOVERY_VERSION,
    stack: options.stack,
    pid: process.pid,
    url: cloud.frontDoor.url,
    region: cloud.region,
    accessKeyId: operator.accessKeyId,
    secretAccessKey: operator.secretAccessKey,
    token,
    startedAt: new Date().toISOString(),
    outputs: cloud.outputs,
  };
  cloud.localRoutes = (req, res, url) => {
    if (!url.pathname.startsWith("/_local/serve/")) return false;
    if (!sameToken(req.headers[TOKEN_HEADER], token)) {
      res.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ message: "missing or wrong serve token (see the discovery file)" }));
      return true;
    }
    if (req.method === "GET" && url.pathname === "/_local/serve/info") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ stack: options.stack, region: cloud.region, url: cloud.frontDoor.url, outputs: cloud.outputs }));
      return true;
    }
    if (req.method === "POST" && url.pathname === "/_local/serve/cli") {
      void runRemoteCommand(req, res, options.run);
      return true;
    }
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: `no route ${req.method} ${url.pathname}` }));
    return true;
  };
  const file = discoveryFile(options.dir, options.stack);
  writeDiscovery(file, discovery);
  return {
    discovery,
    close: () => {
      cloud.localRoutes = undefined;
      removeIfOurs(file, token);
    },
  };
}

/** Rewrites the discovery file (after a reload changed the outputs). */
export function updateDiscovery(dir: string, discovery: Discovery, outputs: Record<string, unknown>): Discovery {
  const updated = { ...discovery, outputs };
  writeDiscovery(discoveryFile(dir, discovery.stack), updated);
  return updated;
}

function writeDiscovery(file: string, discovery: Discovery): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(discovery, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function removeIfOurs(file: string, token: string): void {
  try {
    if ((JSON.parse(fs.readFileSync(file, "utf8")) as Discovery).token === token) fs.rmSync(file, { force: true });
  } catch {
    // Already gone.
  }
}

function sameToken(given: string | string[] | undefined, token: string): boolean {
  const a = Buffer.from(typeof given === "string" ? given : "");
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function runRemoteCommand(req: IncomingMessage, res: ServerResponse, run: CommandRunner): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let command: RemoteCommand;
  try {
    command = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RemoteCommand;
    if (!Array.isArray(command.argv) || typeof command.files !== "object") throw new Error("expected { argv, files }");
  } catch (err) {
    res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ message: `bad command: ${(err as Error).message}` }));
    return;
  }
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  const line = (value: unknown) => {
    if (!res.destroyed) res.write(`${JSON.stringify(value)}\n`);
  };
  let exit = 1;
  try {
    exit = await run(command, { stdout: (text) => line({ stdout: text }), stderr: (text) => line({ stderr: text }) });
  } catch (err) {
    line({ stderr: `local: ${(err as Error).stack ?? err}\n` });
  }
  line({ exit });
  res.end();
}

/**
 * The serve running for `stack`, if there is one: its discovery file names a live process whose endpoint answers
 * with the file's token. A stale file is removed.
 */
export async function findServe(dir: string, stack: string): Promise<Discovery | undefined> {
  const file = discoveryFile(dir, stack);
  let discovery: Discovery;
  try {
    discovery = JSON.parse(fs.readFileSync(file, "utf8")) as Discovery;
  } catch {
    return undefined;
  }
  const alive = discovery.version === DISCOVERY_VERSION && processAlive(discovery.pid) && (await answers(discovery));
  if (alive) return discovery;
  removeIfOurs(file, discovery.token);
  return undefined;
}

async function answers(discovery: Discovery): Promise<boolean> {
  try {
    const res = await fetch(`${discovery.url}/_local/serve/info`, { headers: { [TOKEN_HEADER]: discovery.token }, signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** The served cloud's current outputs. */
export async function servedOutputs(discovery: Discovery): Promise<Record<string, unknown>> {
  const res = await fetch(`${discovery.url}/_local/serve/info`, { headers: { [TOKEN_HEADER]: discovery.token } });
  if (!res.ok) throw new Error(`${discovery.url} answered ${res.status}`);
  return ((await res.json()) as { outputs: Record<string, unknown> }).outputs;
}

/** Runs a command inside the serve `discovery` names, relaying its output as it comes; resolves with its exit code. */
export async function runInServe(discovery: Discovery, command: RemoteCommand, out: { stdout(text: string): void; stderr(text: string): void }): Promise<number> {
  const res = await fetch(`${discovery.url}/_local/serve/cli`, {
    method: "POST",
    headers: { [TOKEN_HEADER]: discovery.token, "content-type": "application/json" },
    body: JSON.stringify(command),
  });
  if (!res.ok || !res.body) throw new Error(`the local cloud served at ${discovery.url} refused the command: ${res.status} ${await res.text()}`);
  let buffered = "";
  let exit: number | undefined;
  const decoder = new TextDecoder();
  const handle = (text: string) => {
    if (!text) return;
    const message = JSON.parse(text) as { stdout?: string; stderr?: string; exit?: number };
    if (message.stdout !== undefined) out.stdout(message.stdout);
    if (message.stderr !== undefined) out.stderr(message.stderr);
    if (message.exit !== undefined) exit = message.exit;
  };
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    lines.forEach(handle);
  }
  handle(buffered + decoder.decode());
  if (exit === undefined) throw new Error(`the local cloud served at ${discovery.url} ended the command without an exit code (did serve stop?)`);
  return exit;
}
