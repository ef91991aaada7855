import { createHash } from "node:crypto";
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as path from "node:path";

/** The repository root: bundles and build output paths are resolved from here, whatever the working directory. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** Where `pulumi up`, `npm run plan` and the local cloud put function bundles (gitignored). */
export const BUILD_DIR = path.join(PROJECT_ROOT, ".build");

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
}

/**
 * ESM bundle for nodejs22.x with every dependency inside, AWS SDK v3 included. Bundling the SDK pins the version we
 * tested and lets esbuild drop the unused parts of each modular client; bench/bundles.ts measures this against
 * loading the runtime-provided SDK.
 */
export function esbuildOptions(entry: string, outfile: string, external: readonly string[] = []): esbuild.BuildOptions {
  return {
    entryPoints: [path.resolve(PROJECT_ROOT, entry)],
    outfile,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    minify: true,
    keepNames: true,
    legalComments: "none",
    logLevel: "silent",
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

/**
 * Bundles one handler; the Pulumi program passes the resulting folder to Lambda as a FileArchive.
 *
 * Output folders are content-addressed (`.build/lambda/<name>/<hash>/`): two program runs at once — a test suite
 * booting the local cloud while `npm run plan` runs — never delete or half-write each other's bundle.
 */
export async function bundleHandler(options: BundleOptions): Promise<Bundle> {
  const home = path.join(BUILD_DIR, "lambda", options.name);
  fs.mkdirSync(home, { recursive: true });
  const staging = fs.mkdtempSync(path.join(home, ".staging-"));
  try {
    const outfile = path.join(staging, "index.mjs");
    const result = await esbuild.build({ ...esbuildOptions(options.entry, outfile, options.external), plugins: [...(options.plugins ?? [])] });
    if (result.errors.length) {
      throw new Error(`bundling ${options.entry} failed: ${result.errors.map((e) => e.text).join("; ")}`);
    }
    const hash = createHash("sha256").update(fs.readFileSync(outfile));
    const dir = path.join(home, hash.digest("hex").slice(0, 16));
    if (!fs.existsSync(dir)) {
      try {
        fs.renameSync(staging, dir);
      } catch (err) {
        // Another run produced the same bundle first: same content, keep theirs.
        if (!fs.existsSync(dir)) throw err;
      }
    }
    pruneOldBundles(home, dir);
    return { dir, bytes: fs.statSync(path.join(dir, "index.mjs")).size };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Keeps the build folder small: other bundles of the same function older than a day go. */
function pruneOldBundles(home: string, keep: string): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const entry of fs.readdirSync(home)) {
    const dir = path.join(home, entry);
    if (dir !== keep && !entry.startsWith(".staging-") && fs.statSync(dir).mtimeMs < dayAgo) fs.rmSync(dir, { recursive: true, force: true });
  }
}
