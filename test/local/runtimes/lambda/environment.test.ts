import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ExecutionEnvironment } from "../../../../local/runtimes/lambda/environment";

const HANDLERS = {
  "echo.mjs": "export const handler = async (event) => ({ got: event, pid: process.pid });\n",
  // Awaits a promise nothing will settle, with nothing else left to run.
  "never.mjs": "export const handler = () => new Promise(() => {});\n",
  // Answers after 100 ms and leaves a timer running: a process nobody froze would keep going.
  // An exception thrown in a callback, where no promise of the handler's can catch it.
  "throws-later.mjs": "export const handler = () => new Promise(() => setTimeout(() => { throw new TypeError('late'); }, 10));\n",
  "rejects.mjs": "export const handler = async () => { Promise.reject(new RangeError('unawaited')); await new Promise((r) => setTimeout(r, 50)); return 'done'; };\n",
  // Spins for 50 ms of its own CPU: a sampling profiler (1 ms interval) sees it however busy the machine is.
  "busy.mjs": "export const handler = async () => { const t = process.cpuUsage(); while (process.cpuUsage(t).user + process.cpuUsage(t).system < 50_000); return 'spun'; };\n",
  // A peak of 160 MB of Buffers, let go before the answer.
  "bloat.mjs": "export const handler = async () => { let b = Buffer.alloc(160 * 1024 * 1024, 1); const n = b.length; b = undefined; return n; };\n",
  // Spins for the CPU time its event names.
  "spin.mjs": "export const handler = async ({ ms }) => { const t = process.cpuUsage(); while ((process.cpuUsage(t).user + process.cpuUsage(t).system) / 1000 < ms); return 'spun'; };\n",
  "lingering.mjs": "export const handler = () => { setInterval(() => {}, 10); return new Promise((resolve) => setTimeout(() => resolve('late'), 100)); };\n",
};

/**
 * One execution environment on its own, without a local cloud: how the runtime and the process talk (one pipe in, one
 * out, both read and written synchronously by bootstrap.mjs).
 */
describe("ExecutionEnvironment (one function process)", function () {
  this.timeout(30_000);
  let dir: string;
  let env: ExecutionEnvironment | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "environment-"));
    fs.mkdirSync(path.join(dir, "code"));
    fs.mkdirSync(path.join(dir, "tmp"));
    for (const [file, code] of Object.entries(HANDLERS)) fs.writeFileSync(path.join(dir, "code", file), code);
  });
  afterEach(() => {
    env?.kill("test over");
    env = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = (handler: string, more: { cpuProfileDir?: string; sampleMs?: number; timeoutSeconds?: number } = {}) =>
    (env = new ExecutionEnvironment({
      functionName: "environment-test",
      handler,
      runtime: "nodejs24.x",
      memorySize: 128,
      timeoutSeconds: 3,
      codeDir: path.join(dir, "code"),
      writableDir: path.join(dir, "tmp"),
      // The runtime names the handler to the bootstrap through _HANDLER, as Lambda does.
      env: { PATH: process.env.PATH ?? "", _HANDLER: handler },
      ...more,
    }));
  const context = { functionName: "environment-test", functionVersion: "$LATEST", invokedFunctionArn: "arn:aws:lambda:eu-central-1:000000000000:function:environment-test", memoryLimitInMB: "128", awsRequestId: "r-1", logGroupName: "/aws/lambda/environment-test", logStreamName: "s" };
  const exitOf = (e: ExecutionEnvironment) => new Promise<[number | null, NodeJS.Signals | null]>((resolve) => e.process.once("exit", (code, signal) => resolve([code, signal])));

  it("is frozen once ready and after each answer, and runs invocations one after another in the same process", async () => {
    const e = start("echo.handler");
    expect(await e.ready).to.include({ ok: true });
    expect(e.isFrozen).to.equal(true);
    const first = await e.invoke("r-1", JSON.stringify({ n: 1 }), context);
    const second = await e.invoke("r-2", JSON.stringify({ n: 2, text: "zürich\nline" }), { ...context, awsRequestId: "r-2" });
    expect([first.kind, second.kind]).to.deep.equal(["success", "success"]);
    expect(JSON.parse(first.payload!)).to.deep.equal({ got: { n: 1 }, pid: e.process.pid });
    expect(JSON.parse(second.payload!)).to.deep.equal({ got: { n: 2, text: "zürich\nline" }, pid: e.process.pid });
    expect(e.isFrozen).to.equal(true);
  });

  it("answers null for a handler whose promise never settles once nothing else is left to run, as Lambda's runtime does", async () => {
    const e = start("never.handler");
    expect(await e.ready).to.include({ ok: true });
    const outcome = await e.invoke("r-1", "{}", context);
    expect([outcome.kind, outcome.payload]).to.deep.equal(["success", "null"]);
    // The environment is still there for the next invocation.
    expect([(await e.invoke("r-2", "{}", { ...context, awsRequestId: "r-2" })).kind, e.dead]).to.deep.equal(["success", false]);
  });

  it("fails the invocation with an exception thrown in a callback, then ends the process as Lambda's runtime does (exit 129)", async () => {
    const e = start("throws-later.handler");
    expect(await e.ready).to.include({ ok: true });
    const exited = exitOf(e);
    const outcome = await e.invoke("r-1", "{}", context);
    expect([outcome.kind, outcome.error?.errorType, outcome.error?.errorMessage, e.dead]).to.deep.equal(["error", "TypeError", "late", true]);
    expect(await exited).to.deep.equal([129, null]);
  });

  it("fails the invocation with a rejection nobody handled, then ends the process (exit 128)", async () => {
    const e = start("rejects.handler");
    expect(await e.ready).to.include({ ok: true });
    const exited = exitOf(e);
    const outcome = await e.invoke("r-1", "{}", context);
    expect([outcome.kind, outcome.error?.errorType, outcome.error?.errorMessage, e.dead]).to.deep.equal(["error", "Runtime.UnhandledPromiseRejection", "RangeError: unawaited", true]);
    expect(outcome.error?.trace?.[0]).to.equal("Runtime.UnhandledPromiseRejection: RangeError: unawaited");
    expect(await exited).to.deep.equal([128, null]);
  });

  it("ends its process when the runtime that started it goes away (its invocation pipe closes): none is left behind", async () => {
    const e = start("echo.handler");
    expect(await e.ready).to.include({ ok: true });
    const exited = exitOf(e);
    (e.process.stdio[3] as NodeJS.WritableStream).end();
    expect(await exited).to.deep.equal([0, null]);
  });

  it("writes a CPU profile of its process, naming the handler's file, when stopped with a profile folder (bench/local-orders.ts)", async () => {
    const profiles = path.join(dir, "profiles");
    fs.mkdirSync(profiles);
    const e = start("busy.handler", { cpuProfileDir: profiles });
    expect(await e.ready).to.include({ ok: true });
    expect((await e.invoke("r-1", "{}", context)).kind).to.equal("success");
    const exited = exitOf(e);
    e.kill("stopped");
    // A normal exit, not SIGKILL: V8 writes the profile only then.
    expect(await exited).to.deep.equal([0, null]);
    const files = fs.readdirSync(profiles);
    expect(files).to.have.length(1);
    const profile = JSON.parse(fs.readFileSync(path.join(profiles, files[0]!), "utf8")) as { nodes: Array<{ callFrame: { url: string } }> };
    expect(profile.nodes.map((n) => n.callFrame.url)).to.include(`file://${path.join(dir, "code", "busy.mjs")}`);
  });

  describe("Lambda's limits, checked while it runs and again on its answer", () => {
    // An hour between samples: only the answer's own figures can stop these.
    const unsampled = { sampleMs: 3_600_000 };

    it("fails an answer whose peak memory passed the memory size between two samples with Runtime.OutOfMemory, and ends the process", async () => {
      const e = start("bloat.handler", unsampled);
      expect(await e.ready).to.include({ ok: true });
      const exited = exitOf(e);
      const outcome = await e.invoke("r-1", "{}", context);
      expect([outcome.kind, outcome.error?.errorType]).to.deep.equal(["out-of-memory", "Runtime.OutOfMemory"]);
      expect(outcome.error?.errorMessage).to.match(/^Error: Runtime exited with error: signal: killed \(resident memory reached \d+ MB; memory size 128 MB\)$/);
      expect(await exited).to.deep.equal([null, "SIGKILL"]);
    });

    it("times out an answer whose CPU time, at the memory size's share of a vCPU, passed the timeout between two samples", async () => {
      // 500 ms of CPU at 128 MB's 0.072 vCPU is 6.9 s of Lambda's time, over the 5 s timeout; on the wall clock it
      // answers long before that.
      const e = start("spin.handler", { ...unsampled, timeoutSeconds: 5 });
      expect(await e.ready).to.include({ ok: true });
      const outcome = await e.invoke("r-1", JSON.stringify({ ms: 500 }), context);
      expect([outcome.kind, outcome.error?.errorType]).to.deep.equal(["timeout", "Sandbox.Timedout"]);
      expect(outcome.error?.errorMessage).to.match(/^RequestId: r-1 Error: Task timed out after 5\.00 seconds \(\d+ ms of CPU at 128 MB's 0\.072 vCPU\)$/);
    });

    it("stops a run whose CPU time passes the timeout at the memory size's share while it runs, before it answers", async () => {
      // 10 s at 0.072 vCPU is 724 ms of CPU; the function would spin 5 s of it.
      const e = start("spin.handler", { timeoutSeconds: 10 });
      expect(await e.ready).to.include({ ok: true });
      const outcome = await e.invoke("r-1", JSON.stringify({ ms: 5_000 }), context);
      expect([outcome.kind, outcome.error?.errorMessage]).to.deep.equal(["timeout", "RequestId: r-1 Error: Task timed out after 10.00 seconds (CPU time at 128 MB's 0.072 vCPU)"]);
    });
  });

  it("ends its process when the runtime goes away during an invocation, instead of running on unfrozen", async () => {
    const e = start("lingering.handler");
    expect(await e.ready).to.include({ ok: true });
    const exited = exitOf(e);
    void e.invoke("r-1", "{}", context);
    // Both pipes close, as when the runtime's process dies: the answer, 100 ms later, has nowhere to go.
    (e.process.stdio[4] as NodeJS.ReadableStream & { destroy(): void }).destroy();
    (e.process.stdio[3] as NodeJS.WritableStream).end();
    const [code] = await exited;
    expect(code).to.be.oneOf([0, 1]);
  });
});
