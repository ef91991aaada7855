import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { EventEmitter } from "node:events";
import { CodeStore, writableDirFor } from "../code-store";
import { keepLog, LogLine, onLines } from "../log-lines";
import { Principal, PrincipalRegistry } from "../../iam/principals";
import { ExecutionEnvironment, InvocationOutcome } from "./environment";

/** A function alias (`aws:lambda/alias:Alias`). */
export interface AliasSpec {
  readonly functionName: string;
  readonly name: string;
  /** The version the alias points to. */
  readonly functionVersion: string;
  readonly description?: string;
}

/** What the runtime needs of a deployed function; all of it comes from the `aws:lambda/function:Function` inputs. */
export interface FunctionSpec {
  readonly name: string;
  readonly arn: string;
  readonly handler: string;
  readonly runtime: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly environment: Record<string, string>;
  readonly roleArn: string;
  /** The deployed bundle folder (the FileArchive's path). */
  readonly codeDir: string;
  readonly version: string;
  readonly logGroup: string;
  /** `loggingConfig.logFormat`; JSON makes Lambda set AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL. */
  readonly logFormat?: string;
  /** `loggingConfig.applicationLogLevel` (Lambda's default with JSON logs: INFO). */
  readonly applicationLogLevel?: string;
  /** Concurrency reserved for the function; invocations beyond it are throttled as in AWS. */
  readonly reservedConcurrency?: number;
  /** What GetFunctionConfiguration reports and the runtime does not use. */
  readonly description?: string;
  readonly architectures?: readonly string[];
  readonly tracingMode?: string;
  readonly tags?: Record<string, string>;
  /** When the program registered it, epoch ms. */
  readonly lastModified?: number;
}

export interface LambdaError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: string[];
}

export interface InvocationRecord {
  readonly requestId: string;
  readonly functionName: string;
  readonly qualifier?: string;
  readonly cold: boolean;
  /** Environment start-up (worker + module load) on a cold start. */
  readonly initMs?: number;
  readonly durationMs: number;
  readonly startedAt: number;
  readonly outcome: "success" | "error" | "timeout" | "out-of-memory" | "throttled" | "crashed" | "service-error";
  /** Set when an injected fault decided the outcome (see LambdaFault). */
  readonly fault?: string;
  readonly errorType?: string;
  /** Who invoked: an execution's state, or the operator. */
  readonly caller?: string;
  /** CPU time the invocation used in its environment (the process's, GC threads included). */
  readonly cpuMs?: number;
  /** `cpuMs` at the function's share of a vCPU: its duration on Lambda, were it CPU-bound. */
  readonly projectedMs?: number;
  /** Peak resident memory of the environment, MB. */
  readonly maxRssMb?: number;
}

export type InvokeResult =
  | { readonly ok: true; readonly payload: unknown; readonly record: InvocationRecord }
  | { readonly ok: false; readonly kind: Exclude<InvocationRecord["outcome"], "success">; readonly error: LambdaError; readonly record: InvocationRecord };

/**
 * A failure the Lambda service reports instead of (or after) running the handler, for testing error paths:
 * - `before`: the Invoke call fails before any code runs — `Lambda.ServiceException`, `Lambda.TooManyRequestsException`
 *   (throttling) or a timeout (`Sandbox.Timedout`, as if the function ran out of time);
 * - `after`: the handler runs to completion (its writes happen), then the invocation is reported failed — the
 *   environment died before returning its result, so Step Functions sees `Lambda.ServiceException` and retries.
 */
export interface LambdaFault {
  /** Function name. */
  readonly functionName: string;
  readonly when: "before" | "after";
  /** `Lambda.ServiceException`, `Lambda.TooManyRequestsException`, `Lambda.AWSLambdaException`, ... or `Sandbox.Timedout`. */
  readonly error: string;
  /** Only invocations whose event (JSON) contains this text, e.g. an order id. */
  readonly eventIncludes?: string;
  /** How many matching invocations fail; unlimited when unset. */
  remaining?: number;
  /** How many invocations this fault has failed so far. */
  hits?: number;
}

/**
 * Something a test does just before an invocation runs — another client taking the last units, say — so the handler
 * meets that state at a given point of the workflow's progress rather than after a wall-clock delay. The invocation
 * waits for `run`; the Task's timeout has not started yet.
 */
export interface InvocationHook {
  /** Function name. */
  readonly functionName: string;
  /** Only invocations whose event (JSON) contains this text. */
  readonly eventIncludes?: string;
  readonly run: (event: unknown) => Promise<void> | void;
  /** How many matching invocations it runs for; unlimited when unset. */
  remaining?: number;
}

interface Environment extends ExecutionEnvironment {
  /** The invocation it runs, for its log lines. */
  requestId?: string;
}

interface Pool {
  spec: FunctionSpec;
  readonly envs: Environment[];
  readonly waiting: Array<() => void>;
  /** Invocations running or waiting for an environment: what reserved concurrency is compared with. */
  inFlight: number;
  /** The read-only copy of the bundle the environments run (made at the first cold start). */
  codeDir?: string;
  /** Digest of the code folder's files (names, sizes, times) when the function was deployed: what `update` compares. */
  codeDigest: string;
}

/**
 * Digest of every file under `dir` by name, size and modification time (a stat each: cheap enough for every boot);
 * "missing" for a folder that is not there.
 */
function folderDigest(dir: string): string {
  if (!fs.existsSync(dir)) return "missing";
  const hash = createHash("sha256");
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) {
        const stat = fs.statSync(path.join(dir, child));
        hash.update(`${child}\0${stat.size}\0${stat.mtimeMs}\n`);
      }
    }
  };
  walk("");
  return hash.digest("hex");
}

function faultKind(error: string): Exclude<InvocationRecord["outcome"], "success"> {
  if (error === "Sandbox.Timedout") return "timeout";
  if (/TooManyRequests/.test(error)) return "throttled";
  return "service-error";
}

function faultError(error: string, requestId: string, spec: FunctionSpec): LambdaError {
  if (error === "Sandbox.Timedout") return { errorType: error, errorMessage: `${requestId} Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds` };
  if (/TooManyRequests/.test(error)) return { errorType: "TooManyRequestsException", errorMessage: "Rate Exceeded." };
  return { errorType: error, errorMessage: `${error.replace(/^Lambda\./, "")}: injected fault (Service: Lambda, Status Code: 500, Request ID: ${requestId})` };
}

/** Synchronous invocation payload limit (request and response), as in AWS. */
const PAYLOAD_LIMIT = 6 * 1024 * 1024;

export interface LambdaRuntimeOptions {
  readonly principals: PrincipalRegistry;
  /** Region and endpoint variables every function gets. */
  readonly baseEnv: () => Record<string, string>;
  /**
   * Execution environments one function may have at once on this machine (AWS scales far wider). Invocations beyond
   * it wait for a free environment — without that wait counting against Task timeouts — and only a function's own
   * reserved concurrency throttles, as in AWS. @default 4: each environment is a process with its own cold start,
   * and on 2 cores more of them cost more CPU than they save waiting (see bench/local-orders.ts).
   */
  readonly maxEnvironmentsPerFunction?: number;
  /**
   * Folder for V8's compile cache (NODE_COMPILE_CACHE): bundles compiled once are loaded faster by later cold starts
   * — about 30 % less init for the PDF exporter. Lambda has no such cache, so init times then read lower than
   * Lambda's; the tests turn it on, the demo and benchmarks do not. @default none
   */
  readonly compileCacheDir?: string;
  /** Profile every environment's process into this folder (environment.ts `cpuProfileDir`). @default none */
  readonly cpuProfileDir?: string;
  /** Where read-only copies of the bundles go (code-store.ts). @default /var/tmp/local-cloud/code */
  readonly codeStore?: CodeStore;
}

/**
 * Runs each function's deployed bundle in execution environments (environment.ts): one process each, with the
 * function's own environment variables and credentials, its memory size and CPU share enforced, a read-only copy
 * of its bundle as its only code, frozen between invocations. Warm environments are reused, one invocation at a
 * time each.
 */
export class LambdaRuntime extends EventEmitter {
  private readonly pools = new Map<string, Pool>();
  private readonly aliases = new Map<string, AliasSpec>();
  readonly invocations: InvocationRecord[] = [];
  readonly logs: LogLine[] = [];
  /** Injected failures (tests); the first matching rule with attempts left applies. */
  readonly faults: LambdaFault[] = [];
  /** Actions run before matching invocations (tests); every matching hook with runs left applies, in order. */
  readonly hooks: InvocationHook[] = [];
  private stopped = false;

  constructor(private readonly options: LambdaRuntimeOptions) {
    super();
  }

  /**
   * Changes a deployed function as UpdateFunctionCode / UpdateFunctionConfiguration do (serve --watch): invocations
   * running now finish in their environments, which are then retired; the next invocation cold-starts with the new
   * code and configuration. A function not deployed yet is created.
   */
  update(spec: FunctionSpec): "created" | "updated" | "unchanged" {
    const pool = this.pools.get(spec.name);
    if (!pool) {
      this.register(spec);
      return "created";
    }
    const { lastModified: _a, ...next } = spec;
    const { lastModified: _b, ...current } = pool.spec;
    // The same folder may hold new code (a FileArchive of a source folder); a bundle's folder is named by its content.
    const codeDigest = folderDigest(spec.codeDir);
    if (JSON.stringify(next) === JSON.stringify(current) && codeDigest === pool.codeDigest) return "unchanged";
    pool.spec = spec;
    pool.codeDigest = codeDigest;
    pool.codeDir = undefined;
    for (const env of [...pool.envs]) {
      if (env.busy) this.retired.add(env);
      else this.destroy(pool, env);
    }
    return "updated";
  }

  /** Environments to end once their invocation is over: their function's code or configuration changed. */
  private readonly retired = new WeakSet<Environment>();

  register(spec: FunctionSpec): void {
    const existing = this.pools.get(spec.name);
    if (existing) for (const env of [...existing.envs]) this.destroy(existing, env);
    this.pools.set(spec.name, { spec, envs: [], waiting: [], inFlight: 0, codeDigest: folderDigest(spec.codeDir) });
    this.options.principals.issue("lambda", spec.name, spec.roleArn);
  }

  registerAlias(spec: AliasSpec): void {
    this.aliases.set(`${spec.functionName}:${spec.name}`, spec);
  }

  /** The aliases of a function, by name. */
  aliasesOf(functionName: string): AliasSpec[] {
    return [...this.aliases.values()].filter((a) => a.functionName === functionName).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The execution environments a function has now (process id, whether busy or frozen): for tests and reports. */
  environmentsOf(functionName: string): Array<{ pid: number | undefined; busy: boolean; frozen: boolean; codeDir: string; initCpuMs: number | undefined }> {
    return (this.pools.get(functionName)?.envs ?? []).map((e) => ({ pid: e.process.pid, busy: e.busy, frozen: e.isFrozen, codeDir: e.spec.codeDir, initCpuMs: e.initCpuMs }));
  }

  functions(): FunctionSpec[] {
    return [...this.pools.values()].map((p) => p.spec);
  }

  /** Resolves a function name, ARN, or qualified ARN (`...:function:name:alias`) to the function and qualifier. */
  resolve(ref: string): { spec: FunctionSpec; qualifier?: string } | undefined {
    const m = ref.match(/^arn:[^:]+:lambda:[^:]+:\d+:function:([^:]+)(?::([^:]+))?$/) ?? ref.match(/^([^:]+)(?::([^:]+))?$/);
    if (!m) return undefined;
    const [, name, qualifier] = m;
    const pool = this.pools.get(name);
    if (!pool) return undefined;
    if (qualifier && qualifier !== "$LATEST" && qualifier !== pool.spec.version && !this.aliases.has(`${name}:${qualifier}`)) return undefined;
    return { spec: pool.spec, qualifier };
  }

  /** Starts `count` environments ahead of traffic (provisioned concurrency). */
  async prewarm(functionName: string, count: number): Promise<void> {
    const pool = this.pools.get(functionName);
    if (!pool) return;
    const started: Environment[] = [];
    while (pool.envs.length < Math.min(count, this.capacity(pool))) started.push(this.spawn(pool));
    await Promise.all(started.map((e) => e.ready));
  }

  /**
   * Invokes a function synchronously. `onStart` is called once an execution environment is assigned and started:
   * time spent waiting for one, or for its cold start, is this machine's, not the function's, and callers keep it out
   * of their timeouts.
   */
  async invoke(ref: string, event: unknown, options: { caller?: string; onStart?: () => void } = {}): Promise<InvokeResult> {
    const target = this.resolve(ref);
    if (!target) throw Object.assign(new Error(`Function not found: ${ref}`), { name: "ResourceNotFoundException" });
    const pool = this.pools.get(target.spec.name)!;
    const requestId = randomUUID();
    const startedAt = Date.now();
    const eventJson = JSON.stringify(event ?? null);
    const base = { requestId, functionName: pool.spec.name, qualifier: target.qualifier, startedAt, caller: options.caller };
    if (Buffer.byteLength(eventJson) > PAYLOAD_LIMIT) {
      return this.finish({ ...base, cold: false, durationMs: 0 }, "error", { errorType: "RequestTooLargeException", errorMessage: `Request must be smaller than ${PAYLOAD_LIMIT} bytes for the InvokeFunction operation` });
    }
    for (const hook of this.hooks) {
      if (hook.functionName !== pool.spec.name || hook.remaining === 0 || (hook.eventIncludes && !eventJson.includes(hook.eventIncludes))) continue;
      if (hook.remaining !== undefined) hook.remaining--;
      await hook.run(event);
    }
    const before = this.takeFault(pool.spec.name, "before", eventJson);
    if (before) {
      options.onStart?.();
      return this.finish({ ...base, cold: false, durationMs: 0, fault: before.error }, faultKind(before.error), faultError(before.error, requestId, pool.spec));
    }
    pool.inFlight++;
    try {
      const acquired = await this.acquire(pool);
      if (!acquired) {
        options.onStart?.();
        return this.finish({ ...base, cold: false, durationMs: 0 }, "throttled", { errorType: "TooManyRequestsException", errorMessage: "Rate Exceeded." });
      }
      const { env, cold } = acquired;
      const init = await env.ready;
      // Only now: a cold start's wall time is this machine's (its load, its disk), not the function's. On AWS the
      // Task's TimeoutSeconds leaves room for Lambda's init on top of the function's timeout (infra/config.ts).
      options.onStart?.();
      if (!init.ok) {
        this.destroy(pool, env);
        return this.finish({ ...base, cold, initMs: init.initMs, durationMs: 0 }, "error", init.error);
      }
      const spec = pool.spec;
      const invokeStart = performance.now();
      env.requestId = requestId;
      const outcome: InvocationOutcome = await env.invoke(requestId, eventJson, {
        functionName: spec.name,
        functionVersion: spec.version,
        invokedFunctionArn: target.qualifier ? `${spec.arn}:${target.qualifier}` : spec.arn,
        memoryLimitInMB: String(spec.memorySize),
        awsRequestId: requestId,
        logGroupName: spec.logGroup,
        logStreamName: env.spec.env.AWS_LAMBDA_LOG_STREAM_NAME,
      });
      const durationMs = performance.now() - invokeStart;
      if (env.dead) this.destroy(pool, env);
      else this.release(pool, env);
      const record = { ...base, cold, initMs: cold ? init.initMs : undefined, durationMs, cpuMs: outcome.cpuMs, projectedMs: outcome.projectedMs, maxRssMb: outcome.maxRssMb };
      if (outcome.kind === "success") {
        const after = this.takeFault(spec.name, "after", eventJson);
        if (after) return this.finish({ ...record, fault: after.error }, faultKind(after.error), faultError(after.error, requestId, spec));
        if (Buffer.byteLength(outcome.payload ?? "") > PAYLOAD_LIMIT) {
          return this.finish(record, "error", { errorType: "Function.ResponseSizeTooLarge", errorMessage: `Response payload size exceeded maximum allowed payload size (${PAYLOAD_LIMIT} bytes).` });
        }
        const full: InvocationRecord = { ...record, outcome: "success" };
        this.record(full);
        return { ok: true, payload: JSON.parse(outcome.payload ?? "null"), record: full };
      }
      return this.finish(record, outcome.kind, outcome.error!);
    } finally {
      pool.inFlight--;
    }
  }

  private takeFault(functionName: string, when: LambdaFault["when"], eventJson: string): LambdaFault | undefined {
    const fault = this.faults.find(
      (f) => f.functionName === functionName && f.when === when && (f.remaining === undefined || f.remaining > 0) && (!f.eventIncludes || eventJson.includes(f.eventIncludes)),
    );
    if (!fault) return undefined;
    if (fault.remaining !== undefined) fault.remaining--;
    fault.hits = (fault.hits ?? 0) + 1;
    return fault;
  }

  private finish(record: Omit<InvocationRecord, "outcome" | "errorType">, kind: Exclude<InvocationRecord["outcome"], "success">, error: LambdaError): InvokeResult {
    const full: InvocationRecord = { ...record, outcome: kind, errorType: error.errorType };
    this.record(full);
    return { ok: false, kind, error, record: full };
  }

  private record(r: InvocationRecord): void {
    this.invocations.push(r);
    this.emit("invocation", r);
  }

  private capacity(pool: Pool): number {
    const local = this.options.maxEnvironmentsPerFunction ?? 4;
    return pool.spec.reservedConcurrency && pool.spec.reservedConcurrency > 0 ? Math.min(pool.spec.reservedConcurrency, local) : local;
  }

  private async acquire(pool: Pool): Promise<{ env: Environment; cold: boolean } | undefined> {
    // More invocations at once than the reserved concurrency: Lambda throttles the rest, whatever this machine runs.
    if (pool.spec.reservedConcurrency && pool.inFlight > pool.spec.reservedConcurrency) return undefined;
    for (;;) {
      if (this.stopped) throw new Error("the local cloud is stopping");
      const idle = pool.envs.find((e) => !e.busy && !e.dead);
      if (idle) {
        idle.busy = true;
        const cold = !idle.invoked;
        idle.invoked = true;
        return { env: idle, cold };
      }
      if (pool.envs.length < this.capacity(pool)) {
        const env = this.spawn(pool);
        env.busy = true;
        env.invoked = true;
        return { env, cold: true };
      }
      await new Promise<void>((resolve) => pool.waiting.push(resolve));
    }
  }

  private release(pool: Pool, env: Environment): void {
    if (this.retired.has(env)) return this.destroy(pool, env);
    env.busy = false;
    env.requestId = undefined;
    pool.waiting.shift()?.();
  }

  private destroy(pool: Pool, env: Environment): void {
    const i = pool.envs.indexOf(env);
    if (i < 0) return;
    pool.envs.splice(i, 1);
    env.kill("replaced");
    pool.waiting.shift()?.();
  }

  private spawn(pool: Pool): Environment {
    const spec = pool.spec;
    const store = (this.store ??= this.options.codeStore ?? new CodeStore());
    pool.codeDir ??= store.materialize(spec.codeDir, "lambda");
    const principal = this.options.principals.issue("lambda", spec.name, spec.roleArn);
    const writable = writableDirFor(store, `${spec.name}-${randomUUID().slice(0, 8)}`);
    const env: Environment = new ExecutionEnvironment({
      functionName: spec.name,
      handler: spec.handler,
      runtime: spec.runtime,
      memorySize: spec.memorySize,
      timeoutSeconds: spec.timeoutSeconds,
      codeDir: pool.codeDir,
      writableDir: writable.dir,
      env: { ...this.environmentOf(spec, principal, pool.codeDir), ...(writable.tmpdirEnv ? { TMPDIR: writable.tmpdirEnv } : {}) },
      compileCacheDir: this.options.compileCacheDir,
      cpuProfileDir: this.options.cpuProfileDir,
    });
    env.process.once("exit", () => this.destroy(pool, env));
    this.pipeLogs(spec.name, env, env.process.stdout!, "stdout");
    this.pipeLogs(spec.name, env, env.process.stderr!, "stderr");
    pool.envs.push(env);
    return env;
  }

  private store?: CodeStore;

  private pipeLogs(source: string, env: Environment, stream: NodeJS.ReadableStream, kind: "stdout" | "stderr"): void {
    onLines(stream, (line) => keepLog(this.logs, this, { source, requestId: env.requestId, stream: kind, line, time: Date.now() }));
  }

  /** A new environment's log stream, named as Lambda names it: `YYYY/MM/DD/[version]` and 32 hex digits. */
  private logStreamOf(spec: FunctionSpec): string {
    return `${new Date().toISOString().slice(0, 10).replace(/-/g, "/")}/[${spec.version}]${randomUUID().replace(/-/g, "")}`;
  }

  /**
   * What Lambda sets in a function's environment (AWS Lambda docs, "Defined runtime environment variables"): the
   * function's own variables, then the reserved ones, which a function cannot set.
   */
  private environmentOf(spec: FunctionSpec, principal: Principal, taskRoot: string): Record<string, string> {
    const json = (spec.logFormat ?? "Text").toUpperCase() === "JSON";
    return {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      LANG: "en_US.UTF-8",
      ...spec.environment,
      // Reserved variables: AWS refuses to let a function set these, so they win over the function's own.
      ...this.options.baseEnv(),
      ...PrincipalRegistry.credentialsEnv(principal),
      TZ: ":UTC",
      AWS_LAMBDA_FUNCTION_NAME: spec.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
      AWS_LAMBDA_FUNCTION_VERSION: spec.version,
      AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroup,
      AWS_LAMBDA_LOG_STREAM_NAME: this.logStreamOf(spec),
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
      // With JSON logs Lambda tells the runtime and the function's logger the format and the level it will keep.
      ...(json ? { AWS_LAMBDA_LOG_FORMAT: "JSON", AWS_LAMBDA_LOG_LEVEL: (spec.applicationLogLevel ?? "INFO").toUpperCase() } : {}),
      LAMBDA_TASK_ROOT: taskRoot,
      _HANDLER: spec.handler,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const exits: Promise<unknown>[] = [];
    for (const pool of this.pools.values()) {
      for (const env of [...pool.envs]) {
        if (env.process.exitCode === null && env.process.signalCode === null) exits.push(new Promise((resolve) => env.process.once("exit", resolve)));
        env.kill("stopped");
      }
      pool.envs.length = 0;
      for (const w of pool.waiting.splice(0)) w();
    }
    await Promise.allSettled(exits);
  }
}
