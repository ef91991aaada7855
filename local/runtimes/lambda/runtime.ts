import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { keepLog, LogLine, onLines } from "../log-lines";
import { Principal, PrincipalRegistry } from "../../iam/principals";

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
  /** Concurrency reserved for the function; invocations beyond it are throttled as in AWS. */
  readonly reservedConcurrency?: number;
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

interface Environment {
  readonly worker: Worker;
  readonly ready: Promise<{ ok: true; initMs: number } | { ok: false; error: LambdaError; initMs: number }>;
  busy: boolean;
  invoked: boolean;
  requestId?: string;
  /** Settles the invocation in flight when the worker dies under it. */
  onDeath?: (kind: "out-of-memory" | "crashed", error: LambdaError) => void;
  dead: boolean;
}

interface Pool {
  readonly spec: FunctionSpec;
  readonly envs: Environment[];
  readonly waiting: Array<() => void>;
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

const BOOTSTRAP = path.join(__dirname, "bootstrap.mjs");
/** Synchronous invocation payload limit (request and response), as in AWS. */
const PAYLOAD_LIMIT = 6 * 1024 * 1024;

export interface LambdaRuntimeOptions {
  readonly principals: PrincipalRegistry;
  /** Region and endpoint variables every function gets. */
  readonly baseEnv: () => Record<string, string>;
  /**
   * Execution environments one function may have at once on this machine (AWS scales far wider). Invocations beyond
   * it wait for a free environment — without that wait counting against Task timeouts — and only a function's own
   * reserved concurrency throttles, as in AWS. @default 4: each environment is a thread with its own heap and cold
   * start, and on 2 cores more of them cost more CPU than they save waiting (see bench/local-orders.ts).
   */
  readonly maxEnvironmentsPerFunction?: number;
  /**
   * Folder for V8's compile cache (node:module enableCompileCache): bundles compiled once are loaded faster by later
   * cold starts — about 30 % less init for the PDF exporter. Lambda has no such cache, so init times then read
   * lower than Lambda's; the tests turn it on, the demo and benchmarks do not. @default none
   */
  readonly compileCacheDir?: string;
}

/**
 * Runs each function's deployed bundle in worker threads, one execution environment per worker: the function's own
 * environment variables and credentials, heap capped at its memory size, a hard stop at its timeout. Warm workers
 * are reused, one invocation at a time each.
 */
export class LambdaRuntime extends EventEmitter {
  private readonly pools = new Map<string, Pool>();
  private readonly aliases = new Map<string, string>();
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

  register(spec: FunctionSpec): void {
    const existing = this.pools.get(spec.name);
    if (existing) for (const env of existing.envs) this.destroy(existing, env);
    this.pools.set(spec.name, { spec, envs: [], waiting: [] });
    this.options.principals.issue("lambda", spec.name, spec.roleArn);
  }

  registerAlias(functionName: string, alias: string): void {
    this.aliases.set(`${functionName}:${alias}`, functionName);
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
   * Invokes a function synchronously. `onStart` is called once an execution environment is assigned: time spent
   * waiting for one is this machine's limit, not the function's, and callers keep it out of their timeouts.
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
    const acquired = await this.acquire(pool);
    if (!acquired) {
      options.onStart?.();
      return this.finish({ ...base, cold: false, durationMs: 0 }, "throttled", { errorType: "TooManyRequestsException", errorMessage: "Rate Exceeded." });
    }
    const { env, cold } = acquired;
    options.onStart?.();
    const init = await env.ready;
    if (!init.ok) {
      this.destroy(pool, env);
      return this.finish({ ...base, cold, initMs: init.initMs, durationMs: 0 }, "error", init.error);
    }
    const spec = pool.spec;
    const invokeStart = performance.now();
    const outcome = await new Promise<{ kind: InvocationRecord["outcome"]; payload?: string; error?: LambdaError }>((resolve) => {
      env.requestId = requestId;
      const timer = setTimeout(() => {
        env.onDeath = undefined;
        void env.worker.terminate();
        this.destroy(pool, env);
        resolve({ kind: "timeout", error: { errorType: "Sandbox.Timedout", errorMessage: `${requestId} Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds` } });
      }, spec.timeoutSeconds * 1000);
      env.onDeath = (kind, error) => {
        clearTimeout(timer);
        resolve({ kind, error });
      };
      const onMessage = (msg: { type: string; id?: string; ok?: boolean; payload?: string; error?: LambdaError }) => {
        if (msg.type !== "result" || msg.id !== requestId) return;
        env.worker.off("message", onMessage);
        clearTimeout(timer);
        env.onDeath = undefined;
        resolve(msg.ok ? { kind: "success", payload: msg.payload } : { kind: "error", error: msg.error });
      };
      env.worker.on("message", onMessage);
      env.worker.postMessage({
        type: "invoke",
        id: requestId,
        event: eventJson,
        deadline: Date.now() + spec.timeoutSeconds * 1000,
        context: {
          functionName: spec.name,
          functionVersion: spec.version,
          invokedFunctionArn: target.qualifier ? `${spec.arn}:${target.qualifier}` : spec.arn,
          memoryLimitInMB: String(spec.memorySize),
          awsRequestId: requestId,
          logGroupName: spec.logGroup,
          logStreamName: `local/[${spec.version}]${env.worker.threadId}`,
        },
      });
    });
    const durationMs = performance.now() - invokeStart;
    if (!env.dead) this.release(pool, env);
    const record = { ...base, cold, initMs: cold ? init.initMs : undefined, durationMs };
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
    return this.finish(record, outcome.kind as Exclude<InvocationRecord["outcome"], "success">, outcome.error!);
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
      if (pool.spec.reservedConcurrency && pool.spec.reservedConcurrency <= pool.envs.length) return undefined;
      await new Promise<void>((resolve) => pool.waiting.push(resolve));
    }
  }

  private release(pool: Pool, env: Environment): void {
    env.busy = false;
    env.requestId = undefined;
    pool.waiting.shift()?.();
  }

  private destroy(pool: Pool, env: Environment): void {
    if (env.dead) return;
    env.dead = true;
    const i = pool.envs.indexOf(env);
    if (i >= 0) pool.envs.splice(i, 1);
    void env.worker.terminate();
    pool.waiting.shift()?.();
  }

  private spawn(pool: Pool): Environment {
    const spec = pool.spec;
    const principal = this.options.principals.issue("lambda", spec.name, spec.roleArn);
    const worker = new Worker(BOOTSTRAP, {
      workerData: { codeDir: spec.codeDir, handler: spec.handler, compileCacheDir: this.options.compileCacheDir },
      env: this.environmentOf(spec, principal),
      // A Lambda runtime is plain Node.js: the TypeScript loader the local cloud itself runs under stays out.
      execArgv: [],
      // Lambda's memory setting bounds the whole process; here the JavaScript heap gets it.
      resourceLimits: { maxOldGenerationSizeMb: spec.memorySize },
      stdout: true,
      stderr: true,
    });
    const env: Environment = {
      worker,
      busy: false,
      invoked: false,
      dead: false,
      ready: new Promise((resolve) => {
        const onReady = (msg: { type: string; initMs: number; error?: LambdaError }) => {
          if (msg.type === "ready") resolve({ ok: true, initMs: msg.initMs });
          else if (msg.type === "init-error") resolve({ ok: false, initMs: msg.initMs, error: msg.error! });
          else return;
          worker.off("message", onReady);
        };
        worker.on("message", onReady);
        worker.once("exit", () => resolve({ ok: false, initMs: 0, error: { errorType: "Runtime.ExitError", errorMessage: "RequestId: init Error: Runtime exited during init" } }));
      }),
    };
    worker.on("error", (err: Error & { code?: string }) => {
      const oom = err.code === "ERR_WORKER_OUT_OF_MEMORY";
      env.onDeath?.(
        oom ? "out-of-memory" : "crashed",
        oom
          ? { errorType: "Runtime.OutOfMemory", errorMessage: `RequestId: ${env.requestId} Error: Runtime exited with error: signal: killed (heap limit ${spec.memorySize} MB reached)` }
          : { errorType: "Runtime.ExitError", errorMessage: `RequestId: ${env.requestId} Error: Runtime exited with error: ${err.message}` },
      );
      env.onDeath = undefined;
      this.destroy(pool, env);
    });
    worker.on("exit", (code) => {
      env.onDeath?.("crashed", { errorType: "Runtime.ExitError", errorMessage: `RequestId: ${env.requestId} Error: Runtime exited with error: exit status ${code}` });
      env.onDeath = undefined;
      this.destroy(pool, env);
    });
    this.pipeLogs(spec.name, env, worker.stdout, "stdout");
    this.pipeLogs(spec.name, env, worker.stderr, "stderr");
    pool.envs.push(env);
    return env;
  }

  private pipeLogs(source: string, env: Environment, stream: NodeJS.ReadableStream, kind: "stdout" | "stderr"): void {
    onLines(stream, (line) => keepLog(this.logs, this, { source, requestId: env.requestId, stream: kind, line, time: Date.now() }));
  }

  private environmentOf(spec: FunctionSpec, principal: Principal): Record<string, string> {
    return {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      LANG: "en_US.UTF-8",
      TZ: ":UTC",
      ...spec.environment,
      // Reserved variables: AWS refuses to let a function set these, so they win over the function's own.
      ...this.options.baseEnv(),
      ...PrincipalRegistry.credentialsEnv(principal),
      AWS_LAMBDA_FUNCTION_NAME: spec.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
      AWS_LAMBDA_FUNCTION_VERSION: spec.version,
      AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroup,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/[${spec.version}]`,
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
      LAMBDA_TASK_ROOT: spec.codeDir,
      _HANDLER: spec.handler,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all: Promise<number>[] = [];
    for (const pool of this.pools.values()) {
      for (const env of [...pool.envs]) {
        env.dead = true;
        all.push(env.worker.terminate());
      }
      pool.envs.length = 0;
      for (const w of pool.waiting.splice(0)) w();
    }
    await Promise.allSettled(all);
  }
}
