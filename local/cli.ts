/**
 * The local cloud's command line (npm start / npm run local -- ...):
 *
 *   demo                                        boot from the dev stack, run the demo scenarios, print traces and a summary
 *   order  --input FILE|- [--inventory FILE]    one order or a JSON array of orders, run concurrently
 *   export --input FILE|- [--document FILE]     one export request (or an array), with the document to export
 *   iam-report [--json]                         per principal: grants, what the last run used, unused grants, denials
 *   serve [--port N] [--persist DIR]            keep the local cloud up for the AWS CLI, SDKs and the commands above
 *                                               (--watch: functions and role policies follow the program's edits)
 *   outputs [--json]                            the stack outputs, as `pulumi stack output` prints them
 *
 * Common flags: --stack NAME (default dev), --json (one JSON object per execution and line on stdout), --verbose.
 * demo, order, export, iam-report and outputs use a running `serve` of the same stack when there is one (local/serve.ts)
 * and boot their own cloud otherwise. demo, order and export leave the run's IAM access log in .local/iam-log.json
 * (or $LOCAL_IAM_LOG) for iam-report; against a serve, iam-report reports everything the serve has decided.
 * Exit codes: 0 every execution succeeded (demo: every scenario ended as designed; serve: stopped cleanly), 1 otherwise,
 * 2 bad usage or input (iam-report: no log yet; serve: port in use, stack already served). `npm run local` execs tsx
 * (package.json) so that a SIGTERM to npm reaches serve: dash, npm's shell, does not pass signals on to its child.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
// Only types at the top: the cloud and its services are imported when a command needs them, so a command that
// fails on its arguments answers in a fraction of a second.
import type { LocalCloud } from "./cloud";
import type { IamLog } from "./iam/enforcement";
import type { LogLine } from "./runtimes/log-lines";
import type { CatalogueEntry, ExportRun, OrderRun } from "./scenarios";
import { localStatePath } from "./state-dir";

/** The repository root (local/..), where the stack files and `.local/` are. */
const PROJECT_DIR = path.resolve(__dirname, "..");

/** Where the CLI reads and writes: the process's streams, or a test's buffers. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Reads all of standard input (for `--input -`). */
  readonly readStdin: () => string;
  /** Where demo/order/export leave the run's IAM access log. @default $LOCAL_IAM_LOG or .local/iam-log.json */
  readonly iamLogFile?: string;
  /** Reads a file an argument names. @default the file system */
  readonly readFile?: (file: string) => string;
  /** Where `serve` publishes its discovery file and the other commands look for one. @default $LOCAL_SERVE_DIR or .local/serve */
  readonly serveDir?: string;
  /** The cloud of the `serve` this command runs in (set by serve for commands other processes send it). */
  readonly servedCloud?: LocalCloud;
  /** Resolves when `serve` should stop, with what stopped it. @default SIGINT or SIGTERM */
  readonly stopSignal?: Promise<string>;
  /** The Pulumi program the commands boot (tests boot the mini program). @default this repository */
  readonly projectDir?: string;
}

/**
 * The cloud's modules, loaded on first use. `require`, not `import()`: under a CommonJS TypeScript loader (tsx, the
 * tests' mocha) a dynamic import bypasses the loader and cannot resolve TypeScript files.
 */
const lazy = {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cloud: () => require("./cloud") as typeof import("./cloud"),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  report: () => require("./report") as typeof import("./report"),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  iam: () => require("./iam/enforcement") as typeof import("./iam/enforcement"),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  scenarios: () => require("./scenarios") as typeof import("./scenarios"),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  progress: () => require("./progress") as typeof import("./progress"),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  demo: () => require("./demo") as typeof import("./demo"),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  serve: () => require("./serve") as typeof import("./serve"),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  watch: () => require("./watch") as typeof import("./watch"),
};

const PROCESS_IO: CliIo = { stdout: process.stdout, stderr: process.stderr, readStdin: () => fs.readFileSync(0, "utf8") };

export class UsageError extends Error {
  override name = "UsageError";
}

const USAGE = `usage:
  npm start                                         (= npm run local -- demo)
  npm run local -- order  --input FILE|- [--inventory FILE] [--stack NAME] [--json] [--verbose]
  npm run local -- export --input FILE|- [--document FILE] [--stack NAME] [--json] [--verbose]
  npm run local -- iam-report [--json]              IAM use of the last demo/order/export run (.local/iam-log.json)
  npm run local -- serve [--stack NAME] [--port N] [--persist DIR] [--verbose]
                                                    keep the local cloud up (default port 4599) until Ctrl-C or SIGTERM
  npm run local -- outputs [--stack NAME] [--json]  the stack outputs (of the running serve, if any)

  --input      JSON: one order / export request, or an array of them (run concurrently); "-" reads stdin
  --inventory  JSON array of { "sku": string, "stock": integer ≥ 0, "price": integer minor units ≥ 0 }
  --document   the document (JSON) to export; uploaded to each request's documentKey (default documents/<file name>)
  --json       print one JSON object per execution and line: status, path, output, error (+ orderStatus | runtime)
  --port       serve: the front door's port (0: any free port)
  --persist    serve: keep tables, objects, queue messages and ended executions in DIR across restarts
  --watch      serve: on a change in handlers/, infra/, containers/, index.ts or the stack file, re-derive the graph and
               update the functions and role policies that changed (next invocation runs the new code; data kept)`;

interface Options {
  readonly command: string;
  readonly input?: string;
  readonly inventory?: string;
  readonly document?: string;
  readonly stack: string;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly port?: number;
  readonly persist?: string;
  readonly watch: boolean;
}

/** Commands that run in a running serve of their stack when there is one. */
const SERVED_COMMANDS = new Set(["demo", "order", "export", "iam-report", "outputs"]);
const COMMANDS = ["demo", "order", "export", "iam-report", "serve", "outputs", "help"];

export function parseCommandLine(argv: readonly string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        input: { type: "string" },
        inventory: { type: "string" },
        document: { type: "string" },
        stack: { type: "string", default: "dev" },
        json: { type: "boolean", default: false },
        verbose: { type: "boolean", default: false },
        port: { type: "string" },
        persist: { type: "string" },
        watch: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const command = values.help ? "help" : (positionals[0] ?? "help");
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command "${command}"`);
  if ((command === "order" || command === "export") && !values.input) throw new UsageError(`${command} needs --input FILE (or - for stdin)`);
  if (command !== "order" && values.inventory) throw new UsageError("--inventory applies to the order command");
  if (command !== "export" && values.document) throw new UsageError("--document applies to the export command");
  if (!/^[A-Za-z0-9_.-]+$/.test(values.stack!)) throw new UsageError(`--stack "${values.stack}" is not a stack name`);
  if (command !== "serve" && (values.port !== undefined || values.persist !== undefined || values.watch)) throw new UsageError("--port, --persist and --watch apply to the serve command");
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError(`--port "${values.port}" is not a port number (0–65535)`);
  if (values.persist !== undefined && !values.persist.trim()) throw new UsageError("--persist needs a folder");
  return {
    command,
    input: values.input,
    inventory: values.inventory,
    document: values.document,
    stack: values.stack!,
    json: !!values.json,
    verbose: !!values.verbose,
    port,
    persist: values.persist,
    watch: !!values.watch,
  };
}

/** Reads a file (or stdin for "-"); a failure names the file and what is wrong. */
function readText(file: string, what: string, io: CliIo): string {
  try {
    return file === "-" ? io.readStdin() : (io.readFile ?? ((f: string) => fs.readFileSync(f, "utf8")))(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${what} ${file === "-" ? "(stdin)" : file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (err as Error).message}`);
  }
}

function parseJsonText(text: string, file: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} ${file === "-" ? "(stdin)" : file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Reads and parses a JSON file (or stdin for "-"); every failure names the file and what is wrong. */
export function readJson(file: string, what: string, io: CliIo = PROCESS_IO): unknown {
  return parseJsonText(readText(file, what, io), file, what);
}

export function parseInventory(value: unknown, file: string): CatalogueEntry[] {
  if (!Array.isArray(value)) throw new UsageError(`--inventory ${file}: expected a JSON array of { sku, stock, price }`);
  return value.map((item, i) => {
    const where = `--inventory ${file}: item ${i}`;
    if (!item || typeof item !== "object" || Array.isArray(item)) throw new UsageError(`${where}: expected an object { sku, stock, price }`);
    const { sku, stock, price, name } = item as Record<string, unknown>;
    if (typeof sku !== "string" || !sku.trim()) throw new UsageError(`${where}: "sku" must be a non-empty string`);
    if (!Number.isInteger(stock) || (stock as number) < 0) throw new UsageError(`${where} (${sku}): "stock" must be an integer ≥ 0`);
    if (!Number.isInteger(price) || (price as number) < 0) throw new UsageError(`${where} (${sku}): "price" must be an integer ≥ 0 in minor units (e.g. 1250 for 12.50)`);
    if (name !== undefined && typeof name !== "string") throw new UsageError(`${where} (${sku}): "name" must be a string`);
    return { sku, stock: stock as number, price: price as number, ...(name ? { name: name as string } : {}) };
  });
}

function asList(value: unknown, what: string): Record<string, unknown>[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new UsageError(`${what}: the array is empty`);
  list.forEach((v, i) => {
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new UsageError(`${what}: ${Array.isArray(value) ? `element ${i}` : "the input"} must be a JSON object`);
  });
  return list as Record<string, unknown>[];
}

/** One JSON line per execution (the --json contract). */
export function jsonLine(run: OrderRun | ExportRun): string {
  const e = run.execution;
  return JSON.stringify({
    status: e.status === "SUCCEEDED" ? "SUCCEEDED" : "FAILED",
    path: e.path,
    output: e.output ?? null,
    error: e.error ? { error: e.error.error, cause: e.error.cause } : null,
    ...("orderStatus" in run ? { orderStatus: run.orderStatus } : {}),
    ...("runtime" in run ? { runtime: run.runtime } : {}),
  });
}

/** Prints function and worker logs as they come (--verbose); returns what stops it. */
function streamLogs(cloud: LocalCloud, io: CliIo): () => void {
  const print = (l: LogLine) => io.stderr.write(`    [${l.source}] ${l.line}\n`);
  cloud.lambda.on("log", print);
  cloud.ecs.on("log", print);
  return () => {
    cloud.lambda.off("log", print);
    cloud.ecs.off("log", print);
  };
}

function iamLogFileOf(io: CliIo): string {
  return io.iamLogFile ?? lazy.iam().iamLogPath(PROJECT_DIR);
}

function serveDirOf(io: CliIo): string {
  return io.serveDir ?? process.env.LOCAL_SERVE_DIR ?? localStatePath(PROJECT_DIR, "serve");
}

/** Refuses a stack without a config file before the cloud's modules load (the boot would refuse it as well). */
function requireStackFile(stack: string, io: CliIo): void {
  const file = path.join(io.projectDir ?? PROJECT_DIR, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new UsageError(`stack "${stack}" has no config file ${file}`);
}

/**
 * Runs `body` on the served cloud when the command runs inside serve, on a cloud booted for it otherwise (stopped
 * after, its IAM log left for iam-report unless `iamLog` is false).
 */
async function withCloud<T>(options: Options, io: CliIo, body: (cloud: LocalCloud) => Promise<T>, { iamLog = true } = {}): Promise<T> {
  if (io.servedCloud) {
    const stopLogs = options.verbose ? streamLogs(io.servedCloud, io) : undefined;
    try {
      return await body(io.servedCloud);
    } finally {
      stopLogs?.();
    }
  }
  requireStackFile(options.stack, io);
  const { startLocalCloud } = lazy.cloud();
  const { formatBoot } = lazy.report();
  const { writeIamLog } = lazy.iam();
  const cloud = await startLocalCloud({ stack: options.stack, verbose: options.verbose, projectDir: io.projectDir });
  if (!options.json) io.stderr.write(`${formatBoot(cloud)}\n`);
  if (options.verbose) streamLogs(cloud, io);
  try {
    return await body(cloud);
  } finally {
    if (iamLog) writeIamLog(iamLogFileOf(io), cloud.iamLog(options.command));
    await cloud.stop();
  }
}

/** Reads the last run's IAM log and prints the report; exit 2 when there is none. */
async function iamReportCommand(options: Options, io: CliIo): Promise<number> {
  let log: IamLog;
  if (io.servedCloud) {
    log = io.servedCloud.iamLog("serve");
  } else {
    const file = iamLogFileOf(io);
    if (!fs.existsSync(file)) {
      throw new UsageError(`no IAM log at ${file}: run \`npm start\` or \`npm run local -- order|export ...\` first`);
    }
    log = readJson(file, "IAM log", { ...io, readFile: undefined }) as IamLog;
    if (log?.version !== 1 || !Array.isArray(log.principals) || !Array.isArray(log.accesses)) throw new UsageError(`${file} is not an IAM log this version understands`);
  }
  const { formatIamReport, iamReport } = lazy.iam();
  const reports = iamReport(log);
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ run: log.run, stack: log.stack, writtenAt: log.writtenAt, principals: reports })}\n`);
  } else {
    io.stdout.write(`${formatIamReport(reports, log)}\n`);
  }
  return 0;
}

async function orderCommand(options: Options, io: CliIo): Promise<number> {
  const orders = asList(readJson(options.input!, "--input", io), `--input ${options.input}`);
  const inventory = options.inventory ? parseInventory(readJson(options.inventory, "--inventory", io), options.inventory) : undefined;
  requireStackFile(options.stack, io);
  const { Operator } = lazy.scenarios();
  const { formatExecution } = lazy.report();
  return withCloud(options, io, async (cloud) => {
    const operator = new Operator(cloud);
    try {
      if (inventory) await operator.seedInventory(inventory);
      const runs = await operator.placeOrders(orders);
      for (const run of runs) {
        io.stdout.write(options.json ? `${jsonLine(run)}\n` : `${formatExecution(`order ${run.orderId ?? "(no orderId)"}`, run.execution, { orderStatus: run.orderStatus })}\n\n`);
      }
      return runs.every((r) => r.execution.status === "SUCCEEDED") ? 0 : 1;
    } finally {
      operator.close();
    }
  });
}

async function exportCommand(options: Options, io: CliIo): Promise<number> {
  const requests = asList(readJson(options.input!, "--input", io), `--input ${options.input}`).map((r) => ({ ...r }));
  let document: string | undefined;
  if (options.document) {
    if (options.document === "-" && options.input === "-") throw new UsageError("--input and --document cannot both read stdin");
    document = readText(options.document, "--document", io);
    parseJsonText(document, options.document, "--document");
    for (const r of requests) r.documentKey ??= `documents/${path.basename(options.document)}`;
  }
  requests.forEach((r, i) => {
    if (typeof r.documentKey !== "string") throw new UsageError(`--input ${options.input}: request ${i} has no "documentKey" (or pass --document FILE)`);
    r.jobId ??= `local-${Date.now().toString(36)}-${i}`;
  });
  requireStackFile(options.stack, io);
  const { Operator } = lazy.scenarios();
  const { formatExecution } = lazy.report();
  const { watchExportProgress } = lazy.progress();
  return withCloud(options, io, async (cloud) => {
    const operator = new Operator(cloud);
    const stopProgress = watchExportProgress(cloud, (line) => io.stderr.write(`${line}\n`));
    try {
      if (document !== undefined) for (const key of new Set(requests.map((r) => String(r.documentKey)))) await operator.uploadDocument(key, document);
      const runs = await operator.runExports(requests);
      for (const run of runs) {
        io.stdout.write(options.json ? `${jsonLine(run)}\n` : `${formatExecution(`export ${run.jobId}`, run.execution, { runtime: run.runtime })}\n\n`);
      }
      return runs.every((r) => r.execution.status === "SUCCEEDED") ? 0 : 1;
    } finally {
      stopProgress();
      operator.close();
    }
  });
}

/** Prints the stack outputs: the running serve's, or those of a cloud booted for the purpose. */
async function outputsCommand(options: Options, io: CliIo): Promise<number> {
  const outputs = await withCloud(options, { ...io, stderr: { write: () => undefined } }, async (cloud) => cloud.outputs, { iamLog: false });
  io.stdout.write(options.json ? `${JSON.stringify(outputs)}\n` : `${lazy.serve().formatOutputs(outputs)}\n`);
  return 0;
}

/**
 * serve: boots the stack's cloud on a fixed port, publishes it (local/serve.ts), prints what a client needs, and
 * serves until SIGINT/SIGTERM (or `io.stopSignal`); then stops every worker, container and server and says so.
 */
async function serveCommand(options: Options, io: CliIo): Promise<number> {
  requireStackFile(options.stack, io);
  const serve = lazy.serve();
  const dir = serveDirOf(io);
  const other = await serve.findServe(dir, options.stack);
  if (other) throw new UsageError(`stack ${options.stack} is already served at ${other.url} by process ${other.pid}; stop it first (Ctrl-C there, or kill ${other.pid})`);
  const stopSignal = io.stopSignal ?? processStopSignal();
  const { startLocalCloud } = lazy.cloud();
  const { formatBoot } = lazy.report();
  const started = Date.now();
  let cloud: LocalCloud;
  try {
    cloud = await startLocalCloud({ stack: options.stack, verbose: options.verbose, port: options.port ?? serve.DEFAULT_SERVE_PORT, projectDir: io.projectDir, persistDir: options.persist });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") throw new UsageError((err as Error).message);
    throw err;
  }
  const published = serve.publish(cloud, {
    stack: options.stack,
    dir,
    run: (command, out) => main(command.argv, remoteIo(cloud, command, out, io)),
  });
  const stopLogs = options.verbose ? streamLogs(cloud, io) : undefined;
  const stopExecutionLog = logExecutions(cloud, io);
  const stopWatch = options.watch ? lazy.watch().watchProgram(cloud, { stack: options.stack, onLine: (line) => io.stderr.write(`${line}\n`) }) : undefined;
  const kept = options.persist ? `; tables, objects, queues and executions kept in ${path.resolve(options.persist)}` : "";
  io.stderr.write(`${formatBoot(cloud)}\n  ready in ${Date.now() - started} ms${kept}\n\n`);
  const env = serve.clientEnvironment(cloud);
  io.stdout.write(`${Object.entries(env).map(([k, v]) => `export ${k}=${v}`).join("\n")}\n\n${serve.formatOutputs(cloud.outputs)}\n\n`);
  io.stderr.write(`Serving stack ${options.stack} until Ctrl-C or SIGTERM. Paste the export lines in another shell, then e.g.\n  aws stepfunctions list-state-machines\n  npm run local -- order --input examples/orders/happy.json --inventory examples/inventory.json\n\n`);
  const signal = await stopSignal;
  io.stderr.write(`\n${signal}: stopping the local cloud…\n`);
  stopWatch?.();
  stopExecutionLog();
  stopLogs?.();
  published.close();
  const executions = cloud.sfn.executions.size;
  const running = [...cloud.sfn.executions.values()].filter((e) => e.status === "RUNNING").length;
  const tasks = cloud.ecs.tasks.filter((t) => t.lastStatus !== "STOPPED").length;
  await cloud.stop();
  io.stderr.write(`local cloud for stack ${options.stack} stopped: ${executions} executions (${running} still running were aborted), ${tasks} Fargate tasks stopped, servers closed\n`);
  return 0;
}

/** The first SIGINT or SIGTERM; a second Ctrl-C while stopping exits at once. */
function processStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      process.once("SIGINT", () => process.exit(130));
      resolve(signal);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

/** One line per execution that ends while serving. */
function logExecutions(cloud: LocalCloud, io: CliIo): () => void {
  const onEnd = (e: { name: string; stateMachineName: string; status: string; startDate: number; stopDate?: number; error: { error: string } | null }) => {
    const time = new Date().toISOString().slice(11, 19);
    io.stderr.write(`[${time}] ${e.stateMachineName} ${e.name}: ${e.status} in ${(e.stopDate ?? Date.now()) - e.startDate} ms${e.error ? ` (${e.error.error})` : ""}\n`);
  };
  cloud.sfn.on("execution-ended", onEnd);
  return () => cloud.sfn.off("execution-ended", onEnd);
}

/** The streams and files of a command another process sent to serve. */
function remoteIo(cloud: LocalCloud, command: import("./serve").RemoteCommand, out: { stdout(text: string): void; stderr(text: string): void }, io: CliIo): CliIo {
  return {
    stdout: { write: out.stdout },
    stderr: { write: out.stderr },
    readStdin: () => command.stdin ?? "",
    readFile: (file) => {
      if (Object.hasOwn(command.files, file)) return command.files[file];
      throw Object.assign(new Error(`no such file ${file}`), { code: "ENOENT" });
    },
    servedCloud: cloud,
    serveDir: io.serveDir,
    iamLogFile: io.iamLogFile,
    projectDir: io.projectDir,
  };
}

/** Sends a command to the running serve, with the files its arguments name read here. */
async function runInServe(discovery: import("./serve").Discovery, argv: readonly string[], options: Options, io: CliIo): Promise<number> {
  const files: Record<string, string> = {};
  let stdin: string | undefined;
  for (const file of [options.input, options.inventory, options.document]) {
    if (file === undefined) continue;
    if (file === "-") {
      stdin ??= io.readStdin();
      continue;
    }
    try {
      files[file] = (io.readFile ?? ((f: string) => fs.readFileSync(f, "utf8")))(file);
    } catch {
      // serve answers for a file it was not sent exactly as for a missing one.
    }
  }
  if (!options.json) io.stderr.write(`using the local cloud served at ${discovery.url} (stack ${discovery.stack}, process ${discovery.pid})\n`);
  return lazy.serve().runInServe(discovery, { argv: [...argv], files, ...(stdin !== undefined ? { stdin } : {}) }, { stdout: (t) => io.stdout.write(t), stderr: (t) => io.stderr.write(t) });
}

/** Runs one command line; resolves with the exit code. Output goes to `io` (the process's streams by default). */
export async function main(argv: readonly string[], io: CliIo = PROCESS_IO): Promise<number> {
  let options: Options;
  try {
    options = parseCommandLine(argv);
    if (SERVED_COMMANDS.has(options.command) && !io.servedCloud) {
      const served = await lazy.serve().findServe(serveDirOf(io), options.stack);
      if (served) return await runInServe(served, argv, options, io);
    }
    switch (options.command) {
      case "help":
        io.stdout.write(`${USAGE}\n`);
        return 0;
      case "order":
        return await orderCommand(options, io);
      case "export":
        return await exportCommand(options, io);
      case "iam-report":
        return await iamReportCommand(options, io);
      case "serve":
        return await serveCommand(options, io);
      case "outputs":
        return await outputsCommand(options, io);
      default: {
        const { runDemo } = lazy.demo();
        const write = (text: string) => io.stdout.write(text);
        if (io.servedCloud) return await runDemo({ stack: options.stack, json: options.json, cloud: io.servedCloud, write });
        return await runDemo({ stack: options.stack, json: options.json, verbose: options.verbose, iamLogFile: iamLogFileOf(io), write });
      }
    }
  } catch (err) {
    if (err instanceof UsageError || (err as Error).name === "StackConfigError") {
      io.stderr.write(`local: ${(err as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    if ((err as { code?: unknown }).code === "ExecutionAlreadyExists") {
      // Only a serve outlives one command: its executions keep their names, as on AWS (90 days).
      io.stderr.write(`local: ${(err as Error).message}: the served cloud already ran an execution of that name; give the order or export another id\n`);
      return 1;
    }
    io.stderr.write(`local: ${(err as Error).stack ?? err}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`local: ${(err as Error).stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
