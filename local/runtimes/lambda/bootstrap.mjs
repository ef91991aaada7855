// The Lambda runtime interface inside one execution environment (a process of its own, see environment.ts): loads the
// function's deployed bundle from the working directory once (the cold start), then serves one invocation at a time.
// Plain ESM with Node.js built-ins only, so nothing but the bundle can be resolved.
//
// Two pipes, both used synchronously: invocations come in on fd 3, each as `<byte length>\n<JSON>`; everything this
// process reports (ready, init error, each result) goes out on fd 4 as one JSON line. Between invocations the process
// is blocked reading fd 3, which is what freezes it; an invocation costs the runtime one write and the environment
// one read (a few more for an event over 64 KB). End of file on fd 3 (the runtime went away) ends the process.
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
/** The pipe invocations arrive on; reading it is how the environment waits, frozen, for the next one. */
const INVOCATIONS_FD = 3;
/** The pipe reports go out on (environment.ts reads it). */
const REPORTS_FD = 4;

function report(message) {
  writeSync(REPORTS_FD, `${JSON.stringify(message)}\n`);
}

/** One read of a whole invocation when it is small (most are), and of the header otherwise. */
const scratch = Buffer.allocUnsafe(64 * 1024);
/** Bytes read past the end of the last invocation (the runtime never sends the next one before the answer). */
let leftover = Buffer.alloc(0);

/** Fills `into` from `from` to its end; false at end of file. Blocks the whole thread meanwhile. */
function readFully(into, from) {
  for (let at = from; at < into.length; ) {
    const read = readSync(INVOCATIONS_FD, into, at, into.length - at, null);
    if (read === 0) return false;
    at += read;
  }
  return true;
}

/**
 * The next invocation's JSON text, read synchronously: until it arrives nothing else in this process runs. The body
 * goes into one buffer of its exact size, so a 6 MB event costs this process 6 MB (the function's memory counts it),
 * not the copies a growing buffer would make. End of file — the runtime went away — ends the process.
 */
function nextInvocation() {
  let head = leftover;
  leftover = Buffer.alloc(0);
  let newline;
  while ((newline = head.indexOf(10)) < 0) {
    if (head.length > 20) throw new Error(`bad invocation frame header: ${head.toString("latin1", 0, 40)}`);
    const read = readSync(INVOCATIONS_FD, scratch, 0, scratch.length, null);
    if (read === 0) process.exit(0);
    head = Buffer.concat([head, scratch.subarray(0, read)]);
  }
  const bytes = Number(head.toString("latin1", 0, newline));
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`bad invocation frame header: ${head.toString("latin1", 0, Math.min(newline, 40))}`);
  const body = Buffer.allocUnsafe(bytes);
  const have = Math.min(head.length - newline - 1, bytes);
  head.copy(body, 0, newline + 1, newline + 1 + have);
  if (newline + 1 + have < head.length) leftover = Buffer.from(head.subarray(newline + 1 + have));
  if (!readFully(body, have)) process.exit(0);
  return body.toString("utf8");
}

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

// A handler whose promise never settles, once nothing else is left to run: Lambda's runtime answers null (its
// beforeExit listener) rather than waiting for the timeout.
process.on("beforeExit", () => current?.finish({ ok: true, payload: "null" }));

// An error escaping the handler — a rejection nobody handled, an exception thrown in a callback — fails the invocation
// in flight and ends the process, as Lambda's runtime does (it exits 128 and 129): the next invocation starts a new
// environment, and nothing the broken one held survives.
process.on("unhandledRejection", (reason) => {
  if (!current) throw reason;
  // Lambda's runtime reports any rejection reason under one type, with the reason's toString() as the message
  // ("Error: yikes").
  const message = String(reason);
  const stack = reason instanceof Error ? String(reason.stack ?? "").split("\n").slice(1) : [];
  current.finish({ ok: false, error: { errorType: "Runtime.UnhandledPromiseRejection", errorMessage: message, trace: [`Runtime.UnhandledPromiseRejection: ${message}`, ...stack] } }, 128);
});
process.on("uncaughtException", (error) => {
  if (!current) {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(129);
  }
  current.finish({ ok: false, error: describeError(error) }, 129);
});

/** Resolves once nothing but stdout and stderr keeps the event loop busy (callbackWaitsForEmptyEventLoop). */
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
} catch (err) {
  report({ type: "init-error", error: describeError(err), initMs: performance.now() - started });
  // Lambda ends an environment whose init failed; the runtime stops this process.
  readSync(INVOCATIONS_FD, Buffer.alloc(1));
  process.exit(1);
}
report({ type: "ready", initMs: performance.now() - started, processCpuMs: processCpuMs() });
// Frozen from here until the first invocation; each later one is read as the previous one's answer is written.
invoke(nextInvocation());

async function invoke(text) {
  const cpuAtStart = process.cpuUsage();
  // Parsed here, so the event's parse counts in the invocation's CPU time as it does on Lambda.
  const msg = JSON.parse(text);
  let finished = false;
  /** Reports the outcome, then waits frozen for the next invocation — or ends the process with `exitCode`. */
  const finish = (outcome, exitCode) => {
    if (finished) return;
    finished = true;
    current = undefined;
    const now = process.cpuUsage();
    const cpuMs = (now.user - cpuAtStart.user + now.system - cpuAtStart.system) / 1000;
    // The answer goes out synchronously and the environment freezes at once: the thread blocks reading the next
    // invocation, so nothing the handler left running — timers, callbacks of requests in flight, unawaited
    // promises — gets a turn before it, as Lambda freezes an environment that answered.
    let next;
    try {
      report({ type: "result", id: msg.id, ...outcome, cpuMs, processCpuMs: (now.user + now.system) / 1000, maxRssKb: peakRssKb(), ...(exitCode === undefined ? {} : { exiting: true }) });
      if (exitCode !== undefined) process.exit(exitCode);
      next = nextInvocation();
    } catch {
      // The runtime is gone (EPIPE) or sent what cannot be read: nothing can reach this environment any more, and
      // what the handler left running must not go on unfrozen.
      process.exit(1);
    }
    setImmediate(invoke, next);
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
    const event = msg.event;
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
}
