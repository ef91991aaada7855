import { createHash } from "node:crypto";
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import { isBuiltin } from "node:module";
import * as path from "node:path";
import { readOrClaim } from "./build-lock";
import { fileDigest } from "./content-hash";

/** The repository root: bundles and build output paths are resolved from here, whatever the working directory. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** Where `pulumi up`, `npm run plan` and the local cloud put function bundles (gitignored). */
export const BUILD_DIR = path.join(PROJECT_ROOT, ".build");

/**
 * Bumped when what a bundle contains changes for a reason its inputs do not show (this file's options, the cache
 * format): every cached bundle is then rebuilt once.
 */
const BUNDLE_CACHE_VERSION = 3;

export interface BundleOptions {
  /** Handler source, relative to the project root, e.g. `handlers/order-placement.ts`. */
  readonly entry: string;
  /** Output folder name under `.build/lambda/` (the function's physical name keeps stacks apart). */
  readonly name: string;
  /** Module ids left out of the bundle and loaded from the runtime instead. */
  readonly external?: readonly string[];
  /** esbuild plugins a handler's dependencies need (e.g. to bundle a library's lazily loaded data modules). */
  readonly plugins?: readonly esbuild.Plugin[];
}

export interface Bundle {
  /** Absolute folder holding `index.mjs`: what Lambda receives as its code archive. */
  readonly dir: string;
  /** Size of `index.mjs` in bytes. */
  readonly bytes: number;
  /** True when an earlier build with the same inputs was reused instead of running esbuild. */
  readonly cached: boolean;
  /** How many handlers the esbuild run that built it built (1: alone); absent when reused from the cache. */
  readonly builtAlongside?: number;
  /** Every file the bundle was built from (absolute paths): what a watcher rebuilds it for. */
  readonly inputs: readonly string[];
}

/**
 * A Node.js built-in that bundled code imports (`import { request } from "node:http"`, or `await import("node:http")`
 * as the AWS SDK's HTTP handler does at its first request) is loaded with `require` instead. An ES import of a
 * built-in makes Node build its ES module facade, which reads every export: for `node:http` that includes the
 * `WebSocket` getter, which loads undici (and `node:https` loads http2). Measured on Node 24 here: 45–54 ms of CPU to
 * import `node:http` as an ES module against 4–5 ms to require it, paid by every cold start of a function that calls
 * AWS, at init or in its first invocation. Lambda bills both. `require` calls are left as they are.
 */
const BUILTINS_VIA_REQUIRE: esbuild.Plugin = {
  name: "builtins-via-require",
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z][a-z0-9_/]*$/ }, (args) =>
      (args.kind === "import-statement" || args.kind === "dynamic-import") && isBuiltin(args.path) ? { path: args.path.startsWith("node:") ? args.path : `node:${args.path}`, namespace: "builtin-require" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "builtin-require" }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: "js" }));
  },
};

/** Every plugin a handler's build runs: the one esbuildOptions gives every bundle, then the handler's own. */
function pluginsOf(options: BundleOptions): esbuild.Plugin[] {
  return [BUILTINS_VIA_REQUIRE, ...(options.plugins ?? [])];
}

/**
 * ESM bundle for nodejs24.x with every dependency inside, AWS SDK v3 included. Bundling the SDK pins the version we
 * tested and lets esbuild drop the unused parts of each modular client; bench/bundles.ts measures this against
 * loading the runtime-provided SDK.
 *
 * `absWorkingDir` is the project root, so the bundle is the same bytes whichever folder the build runs from (paths
 * esbuild writes into the output are relative to it): a checkout on a laptop and one in CI deploy the same archive.
 */
export function esbuildOptions(entry: string, outfile: string, external: readonly string[] = []): esbuild.BuildOptions {
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [path.resolve(PROJECT_ROOT, entry)],
    outfile,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    minify: true,
    keepNames: true,
    legalComments: "none",
    logLevel: "silent",
    plugins: [BUILTINS_VIA_REQUIRE],
    mainFields: ["module", "main"],
    external: [...external],
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins and use __dirname.
    banner: {
      js: [
        'import { createRequire as __createRequire } from "node:module";',
        'import { fileURLToPath as __fileURLToPath } from "node:url";',
        'import { dirname as __pathDirname } from "node:path";',
        "const require = __createRequire(import.meta.url);",
        "const __filename = __fileURLToPath(import.meta.url);",
        "const __dirname = __pathDirname(__filename);",
      ].join("\n"),
    },
  };
}

/** What a cached bundle was built from: the digest of every input file when it was built. */
interface BundleManifest {
  /** Digest of index.mjs: the name of every folder holding this bundle. */
  readonly hash: string;
  /** A folder holding it (any function's: the content is the same). */
  readonly dir: string;
  readonly inputs: Record<string, string>;
}

/**
 * Bundles one handler; the Pulumi program passes the resulting folder to Lambda as a FileArchive.
 *
 * Output folders are content-addressed (`.build/lambda/<name>/<hash>/`): two program runs at once — a test suite
 * booting the local cloud while `npm run plan` runs — never delete or half-write each other's bundle.
 *
 * Builds are cached by content: a manifest per (entry, options, plugins) lists the digest of every file esbuild read
 * (from its metafile). When every one of those files still has the same content, the earlier bundle is reused
 * without running esbuild — also for another function name with the same handler (dev and prod, the tests' stacks),
 * whose folder gets a hard link to the same file. A plugin is identified by its name and the source of its `setup`, so a plugin whose
 * behaviour depends on module-level state it does not show there needs a new name when that state changes.
 */
export async function bundleHandler(options: BundleOptions): Promise<Bundle> {
  const key = cacheKey(options);
  const home = path.join(BUILD_DIR, "lambda", options.name);
  const manifestFile = path.join(BUILD_DIR, "cache", "bundles", `${key}.json`);
  // The same handler bundled under several names at once (one program's dev and prod, a test's stacks): one build.
  // Registered before anything is awaited, so a second call in the same turn waits on this promise, not on the lock
  // file's polling.
  const running = building.get(key);
  if (running) await running.catch(() => undefined);
  const attempt = reuseOrBuild({ options, home, manifestFile });
  building.set(key, attempt);
  try {
    return await attempt;
  } finally {
    if (building.get(key) === attempt) building.delete(key);
  }
}

const building = new Map<string, Promise<Bundle>>();

/** And in two processes at once (two program runs: a test suite's cloud and a CLI's, `npm run plan` beside serve). */
async function reuseOrBuild(request: BuildRequest): Promise<Bundle> {
  const { options, home, manifestFile } = request;
  const claim = await readOrClaim(`${manifestFile}.lock`, () => reusable(manifestFile, home), { label: `bundle of ${options.entry}` });
  if ("value" in claim) return claim.value;
  try {
    return await queueBuild(request);
  } finally {
    claim.release();
  }
}

interface BuildRequest {
  readonly options: BundleOptions;
  /** `.build/lambda/<name>`: the function's folder, holding one folder per bundle hash. */
  readonly home: string;
  readonly manifestFile: string;
}

type QueuedBuild = BuildRequest & { readonly settle: (bundle: Promise<Bundle>) => void };

/** Builds waiting for the next esbuild run, by what they must share to be built in one (externals and plugins). */
const queued = new Map<string, QueuedBuild[]>();

/**
 * Every handler the program asks for in one turn (with the same externals and plugins: they are options of the
 * whole run) is built by one esbuild run with many entry points: esbuild then
 * parses what they share (the AWS SDK, zod, Powertools) once instead of once per function — the program's 15
 * handlers took 1.2 s that way against 3.1–3.7 s as 15 builds at once (2 runs, 2 cores). Each entry's output is
 * the same bytes as building it alone, so a bundle's hash never depends on which others were built with it.
 */
function queueBuild(request: BuildRequest): Promise<Bundle> {
  const group = JSON.stringify([request.options.external ?? [], (request.options.plugins ?? []).map((p) => `${p.name}:${p.setup.toString()}`)]);
  return new Promise<Bundle>((resolve, reject) => {
    let batch = queued.get(group);
    if (!batch) {
      const created: QueuedBuild[] = [];
      queued.set(group, created);
      setImmediate(() => {
        queued.delete(group);
        // Whatever goes wrong before the run (no space for its folder), every handler waiting on it hears of it.
        buildBatch(created).catch((err: unknown) => created.forEach((request) => request.settle(Promise.reject(err))));
      });
      batch = created;
    }
    batch.push({ ...request, settle: (bundle) => bundle.then(resolve, reject) });
  });
}

async function buildBatch(batch: readonly QueuedBuild[]): Promise<void> {
  if (batch.length === 1) return batch[0]!.settle(buildBundle(batch[0]!));
  const { options } = batch[0]!;
  const lambdaDir = path.join(BUILD_DIR, "lambda");
  fs.mkdirSync(lambdaDir, { recursive: true });
  pruneAbandonedBatches(lambdaDir);
  const staging = fs.mkdtempSync(path.join(lambdaDir, ".batch-"));
  try {
    let metafile: esbuild.Metafile;
    try {
      const { outfile: _oneEntryOnly, ...shared } = esbuildOptions(options.entry, "index.mjs", options.external);
      const result = await esbuild.build({
        ...shared,
        entryPoints: batch.map((request, i) => ({ in: path.resolve(PROJECT_ROOT, request.options.entry), out: `${i}/index` })),
        outdir: staging,
        outExtension: { ".js": ".mjs" },
        metafile: true,
        plugins: pluginsOf(options),
      });
      metafile = result.metafile!;
      // A file besides each entry's index.mjs (an asset a loader emitted) would not reach its function's folder.
      const extra = Object.keys(metafile.outputs).filter((out) => !/(^|\/)\d+\/index\.mjs$/.test(out));
      if (extra.length) throw new Error(`the run emitted more than one file per handler: ${extra.join(", ")}`);
    } catch {
      // One handler that does not build fails the whole run: each is built on its own, so every function gets its
      // own bundle or its own error.
      for (const request of batch) request.settle(buildBundle(request));
      return;
    }
    batch.forEach((request, i) => {
      const outfile = path.join(staging, String(i), "index.mjs");
      const output = Object.entries(metafile.outputs).find(([out]) => out.endsWith(`${path.basename(staging)}/${i}/index.mjs`));
      try {
        if (!output?.[1].entryPoint) throw new Error(`esbuild's metafile names no entry for ${request.options.entry}`);
        request.settle(Promise.resolve(place(request, outfile, entryInputs(metafile, output[1].entryPoint), batch.length)));
      } catch {
        request.settle(buildBundle(request));
      }
    });
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Staging folders of batched runs whose process died mid-run (an hour is far longer than any run). */
function pruneAbandonedBatches(lambdaDir: string): void {
  const hourAgo = Date.now() - 3600 * 1000;
  for (const entry of fs.readdirSync(lambdaDir)) {
    if (!entry.startsWith(".batch-")) continue;
    const dir = path.join(lambdaDir, entry);
    if ((fs.statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) < hourAgo) fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function buildBundle(request: BuildRequest): Promise<Bundle> {
  const { options, home } = request;
  fs.mkdirSync(home, { recursive: true });
  const staging = fs.mkdtempSync(path.join(home, ".staging-"));
  try {
    const outfile = path.join(staging, "index.mjs");
    const result = await esbuild.build({ ...esbuildOptions(options.entry, outfile, options.external), metafile: true, plugins: pluginsOf(options) });
    if (result.errors.length) {
      throw new Error(`bundling ${options.entry} failed: ${result.errors.map((e) => e.text).join("; ")}`);
    }
    return place(request, outfile, Object.keys(result.metafile!.inputs), 1);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Moves a freshly built `index.mjs` (alone in its folder) to the function's folder named by its hash, and records
 * what it was built from. `inputs`: every file esbuild read for it, as the metafile names them.
 */
function place({ home, manifestFile }: BuildRequest, outfile: string, inputs: readonly string[], builtAlongside: number): Bundle {
  const hash = fileDigest(outfile).slice(0, 16);
  const dir = path.join(home, hash);
  fs.mkdirSync(home, { recursive: true });
  // The archive Lambda receives is the folder: fixed permissions, whatever the umask of the machine that built it.
  fs.chmodSync(outfile, 0o644);
  fs.chmodSync(path.dirname(outfile), 0o755);
  if (!fs.existsSync(dir)) {
    try {
      fs.renameSync(path.dirname(outfile), dir);
    } catch (err) {
      // Another run produced the same bundle first: same content, keep theirs.
      if (!fs.existsSync(dir)) throw err;
    }
  }
  pruneOldBundles(home, dir);
  const files = inputs.filter((input) => !input.includes(":")).map((input) => path.resolve(PROJECT_ROOT, input));
  writeManifest(manifestFile, { hash, dir, inputs: Object.fromEntries(files.map((file) => [file, fileDigest(file)])) });
  return { dir, bytes: fs.statSync(path.join(dir, "index.mjs")).size, cached: false, builtAlongside, inputs: files };
}

/**
 * The files one entry of a many-entry build read: everything its imports reach in the metafile's input graph, from
 * the entry as esbuild names it (the metafile's `entryPoint`, a symlink already resolved).
 */
function entryInputs(metafile: esbuild.Metafile, entryPoint: string): string[] {
  if (!metafile.inputs[entryPoint]) throw new Error(`esbuild's metafile does not name the entry ${entryPoint}`);
  const seen = new Set<string>([entryPoint]);
  const todo = [entryPoint];
  while (todo.length) {
    for (const imported of metafile.inputs[todo.pop()!]?.imports ?? []) {
      if (imported.external || seen.has(imported.path) || !metafile.inputs[imported.path]) continue;
      seen.add(imported.path);
      todo.push(imported.path);
    }
  }
  return [...seen];
}

function cacheKey(options: BundleOptions): string {
  // Every plugin's code, the built-in one's too: JSON leaves functions out, and a plugin changed is a bundle changed.
  const plugins = pluginsOf(options).map((p) => `${p.name}:${p.setup.toString()}`);
  return createHash("sha256")
    .update(JSON.stringify([BUNDLE_CACHE_VERSION, esbuild.version, options.entry, options.external ?? [], plugins, esbuildOptions(options.entry, "index.mjs", options.external)]))
    .digest("hex")
    .slice(0, 16);
}

/**
 * The bundle a manifest names, in this function's folder, if none of its inputs changed and a folder holding it is
 * still there.
 */
function reusable(manifestFile: string, home: string): Bundle | undefined {
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as BundleManifest;
  } catch {
    return undefined;
  }
  for (const [file, digest] of Object.entries(manifest.inputs)) {
    if (fileDigest(file, { missingOk: true }) !== digest) return undefined;
  }
  const dir = path.join(home, manifest.hash);
  const index = path.join(dir, "index.mjs");
  if (!fs.existsSync(index)) {
    const source = path.join(manifest.dir, "index.mjs");
    if (!fs.existsSync(source)) return undefined;
    fs.mkdirSync(home, { recursive: true });
    const staging = fs.mkdtempSync(path.join(home, ".staging-"));
    try {
      try {
        fs.linkSync(source, path.join(staging, "index.mjs"));
      } catch {
        fs.copyFileSync(source, path.join(staging, "index.mjs"));
      }
      fs.chmodSync(staging, 0o755);
      try {
        fs.renameSync(staging, dir);
      } catch (err) {
        if (!fs.existsSync(index)) throw err;
      }
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  // Keeps a reused bundle out of pruneOldBundles' reach (it deletes folders not touched for a day).
  const now = new Date();
  fs.utimesSync(dir, now, now);
  return { dir, bytes: fs.statSync(index).size, cached: true, inputs: Object.keys(manifest.inputs) };
}

function writeManifest(file: string, manifest: BundleManifest): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(manifest));
  fs.renameSync(tmp, file);
}

/** Keeps the build folder small: other bundles of the same function older than a day go. */
function pruneOldBundles(home: string, keep: string): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const entry of fs.readdirSync(home)) {
    const dir = path.join(home, entry);
    if (dir !== keep && !entry.startsWith(".staging-") && fs.statSync(dir).mtimeMs < dayAgo) fs.rmSync(dir, { recursive: true, force: true });
  }
}
