// The Lambda runtime interface inside one execution environment (a process of its own, see environment.ts): loads the
// function's deployed bundle from the working directory once (the cold start), then serves one invocation at a time
// over the IPC channel. Plain ESM with Node.js built-ins only, so nothing but the bundle can be resolved.
import { existsSync, readFileSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const handlerName = process.env._HANDLER ?? "index.handler";
const runtime = (process.env.AWS_EXECUTION_ENV ?? "").replace(/^AWS_Lambda_/, "");
/** nodejs24.x and later have no callback-style handlers (aws-lambda-nodejs-runtime-interface-client#137). */
const callbacksRemoved = /^nodejs(\d+)\.x$/.test(runtime) && Number(runtime.match(/^nodejs(\d+)/)[1]) >= 24;

function describeError(err) {
  if (err instanceof Error) {
    return { errorType: err.name || "Error", errorMessage: err.message, trace: String(err.stack ?? "").split("\n") };
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

async function loadHandler() {
  const dot = handlerName.lastIndexOf(".");
  if (dot <= 0) throw Object.assign(new Error(`Bad handler ${handlerName}: expected module.function`), { name: "Runtime.MalformedHandlerName" });
  const moduleName = handlerName.slice(0, dot);
  const exportName = handlerName.slice(dot + 1);
  const file = [".mjs", ".js", ".cjs"].map((ext) => join(process.cwd(), moduleName + ext)).find((f) => existsSync(f));
  if (!file) throw Object.assign(new Error(`Cannot find module '${moduleName}'`), { name: "Runtime.ImportModuleError" });
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    // A dependency the bundle left out: Lambda reports it as an import error of the handler's module.
    if (err?.code === "ERR_MODULE_NOT_FOUND" || err?.code === "MODULE_NOT_FOUND") {
      throw Object.assign(new Error(`Error: ${err.message}`), { name: "Runtime.ImportModuleError" });
    }
    throw err;
  }
  const fn = mod[exportName] ?? mod.default?.[exportName];
  if (typeof fn !== "function") throw Object.assign(new Error(`${moduleName}.${exportName} is undefined or not exported`), { name: "Runtime.HandlerNotFound" });
  if (callbacksRemoved && fn.length >= 3) {
    throw Object.assign(
      new Error(
        "AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.",
      ),
      { name: "Runtime.CallbackHandlerDeprecated" },
    );
  }
  return fn;
}

let current;
/** The pipe answers are written to (environment.ts reads it). */
const RESULTS_FD = 4;
/** The pipe the runtime writes one byte to when it thaws the environment for the next invocation. */
const THAW_FD = 5;

/**
 * The most resident memory this process has had, in kB: the kernel's VmHWM where there is /proc. Not
 * resourceUsage().maxRSS: Linux carries that over from the parent the process was forked from.
 */
function peakRssKb() {
  try {
    return Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync("/proc/self/status", "utf8"))[1]);
  } catch {
    return process.memoryUsage.rss() / 1024;
  }
}

// An error escaping the handler's promise chain fails the invocation in flight, as Lambda's runtime does.
process.on("unhandledRejection", (reason) => {
  if (!current) throw reason;
  const info = describeError(reason);
  current.finish({ ok: false, error: { ...info, errorType: info.errorType === "Error" ? "Runtime.UnhandledPromiseRejection" : info.errorType } });
});

/** Resolves once nothing but the IPC channel keeps the event loop busy (callbackWaitsForEmptyEventLoop). */
async function emptyEventLoop() {
  const busy = () => process.getActiveResourcesInfo().filter((r) => r !== "PipeWrap" && r !== "TTYWrap" && r !== "Immediate");
  while (busy().length > 0) await new Promise((resolve) => setImmediate(resolve));
}

/** CPU time of the whole process so far (all threads), ms: what the runtime's watchdog reads from /proc. */
function processCpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const started = performance.now();
let fn;
try {
  fn = await loadHandler();
  process.send({ type: "ready", initMs: performance.now() - started, processCpuMs: processCpuMs() });
} catch (err) {
  process.send({ type: "init-error", error: describeError(err), initMs: performance.now() - started });
}

process.on("message", async (msg) => {
  if (msg?.type !== "invoke" || !fn) return;
  const cpuAtStart = process.cpuUsage();
  let finished = false;
  const finish = (outcome) => {
    if (finished) return;
    finished = true;
    current = undefined;
    const now = process.cpuUsage();
    const cpuMs = (now.user - cpuAtStart.user + now.system - cpuAtStart.system) / 1000;
    // The answer goes out on its own pipe (fd 4), synchronously, and the environment freezes at once: the thread
    // blocks on the thaw pipe (fd 5), so nothing the handler left running — timers, callbacks of requests in flight,
    // unawaited promises — gets a turn before the next invocation, as Lambda freezes an environment that answered.
    writeSync(RESULTS_FD, `${JSON.stringify({ type: "result", id: msg.id, ...outcome, cpuMs, processCpuMs: (now.user + now.system) / 1000, maxRssKb: peakRssKb() })}\n`);
    readSync(THAW_FD, Buffer.alloc(1));
  };
  current = { finish };
  const context = {
    ...msg.context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, msg.deadline - Date.now()),
    done: (err, result) => (err ? finish({ ok: false, error: describeError(err) }) : finish({ ok: true, payload: JSON.stringify(result ?? null) })),
    succeed: (result) => finish({ ok: true, payload: JSON.stringify(result ?? null) }),
    fail: (err) => finish({ ok: false, error: describeError(err) }),
  };
  try {
    const event = JSON.parse(msg.event);
    let result;
    if (fn.length >= 3) {
      result = await new Promise((resolve, reject) => {
        const maybe = fn(event, context, (err, value) => (err ? reject(err) : resolve(value)));
        if (maybe && typeof maybe.then === "function") maybe.then(resolve, reject);
      });
      if (context.callbackWaitsForEmptyEventLoop) await emptyEventLoop();
    } else {
      result = await fn(event, context);
    }
    finish({ ok: true, payload: JSON.stringify(result ?? null) });
  } catch (err) {
    finish({ ok: false, error: describeError(err) });
  }
});
