// The Lambda runtime interface inside one worker thread (one execution environment): loads the function's deployed
// bundle once (the cold start), then serves one invocation at a time. Plain ESM so the worker starts without a
// TypeScript loader, as the Node.js runtime in Lambda would.
import module from "node:module";
import { parentPort, workerData } from "node:worker_threads";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const { codeDir, handler, compileCacheDir } = workerData;
if (compileCacheDir) module.enableCompileCache(compileCacheDir);

function describeError(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || "Error",
      errorMessage: err.message,
      trace: String(err.stack ?? "").split("\n"),
    };
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

async function loadHandler() {
  const dot = handler.lastIndexOf(".");
  if (dot <= 0) throw Object.assign(new Error(`Bad handler ${handler}: expected module.function`), { name: "Runtime.MalformedHandlerName" });
  const moduleName = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  const file = [".mjs", ".js", ".cjs"].map((ext) => join(codeDir, moduleName + ext)).find((f) => existsSync(f));
  if (!file) throw Object.assign(new Error(`Cannot find module '${moduleName}' in ${codeDir}`), { name: "Runtime.ImportModuleError" });
  const mod = await import(pathToFileURL(file).href);
  const fn = mod[exportName] ?? mod.default?.[exportName];
  if (typeof fn !== "function") throw Object.assign(new Error(`${moduleName}.${exportName} is undefined or not exported`), { name: "Runtime.HandlerNotFound" });
  return fn;
}

let current;

// An error escaping the handler's promise chain fails the invocation in flight, as Lambda's runtime does.
process.on("unhandledRejection", (reason) => {
  if (!current) throw reason;
  const info = describeError(reason);
  current.finish({ ok: false, error: { ...info, errorType: info.errorType === "Error" ? "Runtime.UnhandledPromiseRejection" : info.errorType } });
});

const started = performance.now();
let fn;
try {
  fn = await loadHandler();
  parentPort.postMessage({ type: "ready", initMs: performance.now() - started });
} catch (err) {
  parentPort.postMessage({ type: "init-error", error: describeError(err), initMs: performance.now() - started });
}

parentPort.on("message", async (msg) => {
  if (msg.type !== "invoke") return;
  const deadline = msg.deadline;
  let finished = false;
  const finish = (outcome) => {
    if (finished) return;
    finished = true;
    current = undefined;
    parentPort.postMessage({ type: "result", id: msg.id, ...outcome });
  };
  current = { finish };
  const context = {
    ...msg.context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: (err, result) => (err ? finish({ ok: false, error: describeError(err) }) : finish({ ok: true, payload: JSON.stringify(result ?? null) })),
    succeed: (result) => finish({ ok: true, payload: JSON.stringify(result ?? null) }),
    fail: (err) => finish({ ok: false, error: describeError(err) }),
  };
  try {
    const event = JSON.parse(msg.event);
    const result =
      fn.length >= 3
        ? await new Promise((resolve, reject) => {
            const maybe = fn(event, context, (err, value) => (err ? reject(err) : resolve(value)));
            if (maybe && typeof maybe.then === "function") maybe.then(resolve, reject);
          })
        : await fn(event, context);
    finish({ ok: true, payload: JSON.stringify(result ?? null) });
  } catch (err) {
    finish({ ok: false, error: describeError(err) });
  }
});
