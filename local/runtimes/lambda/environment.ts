import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { onLines } from "../log-lines";
import { ProcessSampler } from "../process-limits";

/**
 * One Lambda execution environment: a Node.js process of its own, as on Lambda, so its whole memory is measured and
 * limited — not only the JavaScript heap — and it is frozen between invocations.
 *
 * - **Memory.** V8's limits as Lambda's Node.js bootstrap sets them from the function's memory size (a tenth for the
 *   young generation, half of that per semi-space, the rest for the old generation), and a watchdog on the process's
 *   resident memory: above `memorySize` MB the process is killed and the invocation fails with
 *   `Runtime.OutOfMemory`, as Lambda kills it. Buffers and ArrayBuffers count, as they do on Lambda.
 * - **CPU.** Lambda gives a function a share of a vCPU in proportion to its memory (one vCPU at 1,769 MB, up to six
 *   at 10,240 MB). The watchdog projects the invocation's CPU time — not its wall time, which a busy machine would
 *   stretch — to that share; an invocation whose projection passes the timeout is stopped with `Sandbox.Timedout`,
 *   so an exporter too slow for its memory size fails here as it would there. The wall-clock timeout applies too.
 * - **Files.** The process runs in a read-only copy of the bundle (code-store.ts) as its working directory, outside
 *   the repository, so nothing outside the bundle resolves ("Cannot find module"); Node's permission model lets it
 *   write only under its writable folder (`/tmp`, as on Lambda).
 * - **Freezing.** Once it has answered, the process blocks (right after writing the answer, in the same turn) until
 *   the next invocation thaws it: its timers, open requests and unawaited promises do nothing in between and resume
 *   with the next invocation, as on Lambda. A write a handler forgot to await does not happen "after" the result the
 *   way a free-running process would let it.
 */

/** Memory at which a function has one full vCPU; above it more vCPUs, up to six at 10,240 MB (AWS Lambda docs). */
export const MB_PER_VCPU = 1769;
const MAX_VCPUS = 6;

/** The share of CPU time per second of wall time a function of this memory size gets on Lambda. */
export function cpuShare(memoryMb: number): number {
  return Math.min(memoryMb / MB_PER_VCPU, MAX_VCPUS);
}

/** V8 flags of Lambda's Node.js bootstrap for a memory size (its `/var/runtime/bootstrap`). */
export function lambdaHeapFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`];
}

const BOOTSTRAP = path.join(__dirname, "bootstrap.mjs");
/** How often the watchdog samples a busy environment's memory and CPU time. */
const SAMPLE_MS = 20;

export interface EnvironmentSpec {
  readonly functionName: string;
  readonly handler: string;
  readonly runtime: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /** The read-only copy of the bundle: the working directory. */
  readonly codeDir: string;
  /** The one folder the function may write to. */
  readonly writableDir: string;
  readonly env: Record<string, string>;
  /** V8 compile cache folder (tests), or none. */
  readonly compileCacheDir?: string;
  /**
   * Write a V8 CPU profile of the process to this folder when it ends (bench/local-orders.ts --profile-functions).
   * Node's permission model refuses the profile's write whatever folder it is allowed, so a profiled environment
   * runs without it: a benchmark's mode, never the tests'. @default none
   */
  readonly cpuProfileDir?: string;
  /**
   * How often the watchdog samples the busy process's memory and CPU time. Tests lengthen it to prove the checks made
   * on the answer alone (a peak or a burst between two samples). @default 20
   */
  readonly sampleMs?: number;
}

export interface FunctionError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: string[];
}

export type InitOutcome = { readonly ok: true; readonly initMs: number } | { readonly ok: false; readonly initMs: number; readonly error: FunctionError };

export interface InvocationOutcome {
  readonly kind: "success" | "error" | "timeout" | "out-of-memory" | "crashed";
  readonly payload?: string;
  readonly error?: FunctionError;
  /** CPU time the invocation used (the process's, GC threads included). */
  readonly cpuMs: number;
  /** `cpuMs` at the function's CPU share: how long it would have taken on Lambda. */
  readonly projectedMs: number;
  /** Largest resident memory the process had, in MB. */
  readonly maxRssMb: number;
}

export interface InvokeContext {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
}

type ChildMessage =
  | { type: "ready"; initMs: number; processCpuMs: number }
  | { type: "init-error"; initMs: number; error: FunctionError }
  | { type: "result"; id: string; ok: boolean; payload?: string; error?: FunctionError; cpuMs: number; processCpuMs: number; maxRssKb: number; exiting?: boolean };

export class ExecutionEnvironment {
  readonly process: ChildProcess;
  readonly ready: Promise<InitOutcome>;
  busy = false;
  invoked = false;
  dead = false;
  /** Why the environment ended, once it has. */
  endReason?: string;
  private settle?: (outcome: InvocationOutcome) => void;
  private frozen = false;
  private readonly stderrTail: string[] = [];
  /** The process's CPU time when it last froze (it uses none while frozen): where the next invocation's starts. */
  private processCpuMs?: number;
  /** CPU time the process used to start and load the function (the cold start), once it is ready. */
  initCpuMs?: number;

  constructor(readonly spec: EnvironmentSpec) {
    const writable = [spec.writableDir, ...(spec.compileCacheDir ? [spec.compileCacheDir] : [])];
    this.process = spawn(
      process.execPath,
      [
        ...lambdaHeapFlags(spec.memorySize),
        ...(spec.cpuProfileDir
          ? ["--cpu-prof", `--cpu-prof-dir=${spec.cpuProfileDir}`]
          : ["--permission", "--allow-fs-read=*", ...writable.map((dir) => `--allow-fs-write=${dir}`)]),
        // Child processes, worker threads, native addons and WASI stay refused (Lambda allows them): each could
        // write where the permission model forbids it, and no function of this program uses them.
        "--disable-warning=ExperimentalWarning",
        BOOTSTRAP,
      ],
      {
        cwd: spec.codeDir,
        env: { ...spec.env, ...(spec.compileCacheDir ? { NODE_COMPILE_CACHE: spec.compileCacheDir } : {}) },
        // fd 3: invocations, fd 4: reports (ready, init error, results); bootstrap.mjs reads and writes both
        // synchronously, and blocking on fd 3 is what freezes it between invocations.
        stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      },
    );
    this.process.stderr?.on("data", (chunk: Buffer) => {
      this.stderrTail.push(chunk.toString("utf8"));
      if (this.stderrTail.length > 20) this.stderrTail.shift();
    });
    let started: (outcome: InitOutcome) => void;
    this.ready = new Promise<InitOutcome>((resolve) => {
      started = resolve;
      this.process.once("exit", (code, signal) =>
        resolve({ ok: false, initMs: 0, error: { errorType: "Runtime.ExitError", errorMessage: `RequestId: init Error: Runtime exited ${signal ? `with signal ${signal}` : `with code ${code}`} during init${this.stderrHint()}` } }),
      );
    });
    onLines(this.process.stdio[4] as NodeJS.ReadableStream, (line) => {
      const msg = JSON.parse(line) as ChildMessage;
      if (msg.type === "ready") {
        // Blocked reading its first invocation: frozen until then.
        this.frozen = true;
        this.processCpuMs = msg.processCpuMs;
        this.initCpuMs = msg.processCpuMs;
        started({ ok: true, initMs: msg.initMs });
        return;
      }
      if (msg.type === "init-error") {
        started({ ok: false, initMs: msg.initMs, error: msg.error });
        return;
      }
      if (msg.exiting) {
        // An uncaught error: the process ends right after this answer, as Lambda's runtime ends it. It takes no more
        // invocations; the next one gets a new environment.
        this.dead = true;
        this.endReason = "uncaught error";
      }
      // Otherwise the process blocked itself after writing this (bootstrap.mjs): frozen until the next invocation.
      this.frozen = true;
      this.processCpuMs = msg.processCpuMs;
      const settle = this.settle;
      this.settle = undefined;
      settle?.({
        kind: msg.ok ? "success" : "error",
        payload: msg.payload,
        error: msg.error,
        cpuMs: msg.cpuMs,
        projectedMs: msg.cpuMs / cpuShare(this.spec.memorySize),
        maxRssMb: msg.maxRssKb / 1024,
      });
    });
    // The pipe closes when the process dies; a write in flight then fails with EPIPE, and the exit reports it.
    (this.process.stdio[3] as NodeJS.WritableStream).on("error", () => undefined);
    this.process.once("exit", (code, signal) => {
      this.dead = true;
      const settle = this.settle;
      this.settle = undefined;
      if (!settle) return;
      const heap = /heap out of memory|Allocation failed/i.test(this.stderrTail.join(""));
      settle(
        heap
          ? this.outOfMemory(`the JavaScript heap reached its limit (${lambdaHeapFlags(this.spec.memorySize).join(" ")})`)
          : { kind: "crashed", error: { errorType: "Runtime.ExitError", errorMessage: `Runtime exited ${signal ? `with signal ${signal}` : `with error: exit status ${code}`}${this.stderrHint()}` }, cpuMs: 0, projectedMs: 0, maxRssMb: 0 },
      );
    });
  }

  /**
   * Runs one invocation: thaws the process, hands it the event, and watches it until it answers, runs out of time
   * (wall clock, or CPU time projected to the function's share) or memory. Frozen again afterwards.
   */
  invoke(requestId: string, eventJson: string, context: InvokeContext): Promise<InvocationOutcome> {
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    const share = cpuShare(this.spec.memorySize);
    const deadline = Date.now() + timeoutMs;
    return new Promise<InvocationOutcome>((resolve) => {
      let sampler: ProcessSampler | undefined;
      const wall = setTimeout(() => stop(this.timedOut(requestId, `Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`)), timeoutMs);
      const stop = (outcome: InvocationOutcome) => {
        if (!this.settle) return;
        this.settle = undefined;
        finish(outcome);
        this.kill(outcome.kind);
      };
      const finish = (outcome: InvocationOutcome) => {
        clearTimeout(wall);
        sampler?.stop();
        resolve(outcome);
      };
      this.settle = (outcome) => {
        if (outcome.kind !== "success" && outcome.kind !== "error") return finish(outcome);
        // The answer came in time on the wall clock. Its CPU time may still not have fit the function's share, or
        // its peak memory the function's size (between two samples): Lambda would have stopped it, and reset the
        // environment.
        if (outcome.projectedMs > timeoutMs) {
          finish({ ...this.timedOut(requestId, `Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds (${Math.round(outcome.cpuMs)} ms of CPU at ${this.spec.memorySize} MB's ${share.toFixed(3)} vCPU)`), cpuMs: outcome.cpuMs, projectedMs: outcome.projectedMs, maxRssMb: outcome.maxRssMb });
          this.kill("timeout");
        } else if (outcome.maxRssMb > this.spec.memorySize) {
          finish({ ...this.outOfMemory(`resident memory reached ${Math.round(outcome.maxRssMb)} MB`), cpuMs: outcome.cpuMs, projectedMs: outcome.projectedMs, maxRssMb: outcome.maxRssMb });
          this.kill("out-of-memory");
        } else {
          finish(outcome);
        }
      };
      const startCpu = this.processCpuMs;
      sampler = ProcessSampler.start(this.process.pid, this.spec.sampleMs ?? SAMPLE_MS, (sample) => {
        if (sample.rssMb > this.spec.memorySize) return stop(this.outOfMemory(`resident memory reached ${Math.round(sample.rssMb)} MB`));
        if (startCpu !== undefined && (sample.cpuMs - startCpu) / share > timeoutMs) {
          return stop(this.timedOut(requestId, `Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds (CPU time at ${this.spec.memorySize} MB's ${share.toFixed(3)} vCPU)`));
        }
        return undefined;
      });
      // One write hands over the invocation and thaws the environment (it was blocked reading this pipe). The event
      // is embedded as the JSON text it already is, so it is parsed once, in the environment.
      const body = `{"id":${JSON.stringify(requestId)},"deadline":${deadline},"context":${JSON.stringify(context)},"event":${eventJson}}`;
      this.frozen = false;
      (this.process.stdio[3] as NodeJS.WritableStream).write(`${Buffer.byteLength(body)}\n${body}`);
    });
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  kill(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.endReason = reason;
    if (reason === "stopped" && this.spec.cpuProfileDir) {
      // V8 writes the profile only on a normal exit: closing the invocations pipe is one (bootstrap.mjs exits 0 at
      // its end). An environment stopped mid-invocation does not read it; its profile is lost after 5 s.
      (this.process.stdio[3] as NodeJS.WritableStream).end();
      setTimeout(() => this.process.kill("SIGKILL"), 5000).unref();
      return;
    }
    this.process.kill("SIGKILL");
  }

  private timedOut(requestId: string, message: string): InvocationOutcome {
    return { kind: "timeout", error: { errorType: "Sandbox.Timedout", errorMessage: `RequestId: ${requestId} Error: ${message}` }, cpuMs: 0, projectedMs: 0, maxRssMb: 0 };
  }

  private outOfMemory(detail: string): InvocationOutcome {
    return {
      kind: "out-of-memory",
      error: { errorType: "Runtime.OutOfMemory", errorMessage: `Error: Runtime exited with error: signal: killed (${detail}; memory size ${this.spec.memorySize} MB)` },
      cpuMs: 0,
      projectedMs: 0,
      maxRssMb: 0,
    };
  }

  private stderrHint(): string {
    const text = this.stderrTail.join("").trim();
    return text ? `: ${text.split("\n").slice(-3).join(" | ").slice(0, 500)}` : "";
  }
}
