/**
 * Bundle size and cold-start cost per function: for each bundle the program registers, the time a fresh Node.js
 * process takes to import it and serve a first call, beside an empty handler bundled the same way (ratio, target
 * ≤ 1.3×). Also measures the SDK choice: the same handler with AWS SDK v3 bundled vs loaded from node_modules as the
 * runtime-provided SDK would be.
 *
 * Run: npx tsx bench/bundles.ts [--runs N]
 * The first call uses an event the handler rejects at its input schema, so no network is involved: what is measured
 * is module load, start-up configuration and the first pass through the handler.
 */
import { execFileSync } from "node:child_process";
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { esbuildOptions } from "../infra/bundle";
import { programGraph } from "../scripts/program-graph";

const runsAt = process.argv.indexOf("--runs");
const RUNS = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 9;

/** Child script: time from process start to the end of the first call, and the import alone. */
const PROBE = `
const { performance } = require("node:perf_hooks");
const { pathToFileURL } = require("node:url");
(async () => {
  const t0 = performance.now();
  const mod = await import(pathToFileURL(process.argv[1]).href);
  const t1 = performance.now();
  try { await mod.handler({ formatVersion: 999 }, { functionName: "bench", getRemainingTimeInMillis: () => 10000 }); } catch {}
  const t2 = performance.now();
  process.stdout.write(JSON.stringify({ total: t2, importMs: t1 - t0, callMs: t2 - t1 }));
})();
`;

interface Sample {
  total: number;
  importMs: number;
  callMs: number;
}

function measure(bundle: string, env: Record<string, string>): Sample {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(process.execPath, ["-e", PROBE, bundle], { env: { ...process.env, ...env, AWS_REGION: "eu-central-1" }, encoding: "utf8" });
    samples.push(JSON.parse(out));
  }
  const median = (key: keyof Sample) => samples.map((s) => s[key]).sort((a, b) => a - b)[Math.floor(samples.length / 2)];
  return { total: median("total"), importMs: median("importMs"), callMs: median("callMs") };
}

async function build(entry: string, outDir: string, external: string[] = []): Promise<string> {
  fs.mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, "index.mjs");
  // Not buildSync: esbuild runs plugins (esbuildOptions has one) only in its asynchronous API.
  await esbuild.build(esbuildOptions(entry, outfile, external));
  return outfile;
}

async function main(): Promise<void> {
  const graph = await programGraph("dev");
  const functions = graph.resources.filter((r) => r.type === "aws:lambda/function:Function");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-bundles-"));
  const empty = await build("bench/fixtures/empty-handler.ts", path.join(tmp, "empty"));
  const baseline = measure(empty, {});
  console.log(`Node ${process.version}, ${os.cpus().length} cores, median of ${RUNS} fresh processes per bundle`);
  console.log(`empty handler: ${fs.statSync(empty).size} B, first call done ${baseline.total.toFixed(1)} ms after process start (import ${baseline.importMs.toFixed(1)} ms)`);
  const sdkFloor = await build("bench/fixtures/sdk-client-handler.ts", path.join(tmp, "sdk-floor"));
  const floor = measure(sdkFloor, {});
  console.log(
    `one SDK client and nothing else: ${(fs.statSync(sdkFloor).size / 1024).toFixed(0)} KiB, first call done ${floor.total.toFixed(1)} ms (import ${floor.importMs.toFixed(1)} ms) = ${(floor.total / baseline.total).toFixed(2)}× the empty handler: the floor for any function that calls AWS\n`,
  );
  console.log(`${"function".padEnd(40)} ${"bundle".padStart(9)} ${"import".padStart(8)} ${"1st call".padStart(9)} ${"total".padStart(8)}  ratio`);
  const ratios: number[] = [];
  for (const fn of functions) {
    const bundle = path.join(fn.inputs.code.path, "index.mjs");
    const env = fn.inputs.environment?.variables ?? {};
    const m = measure(bundle, env);
    const ratio = m.total / baseline.total;
    ratios.push(ratio);
    console.log(
      `${String(fn.state.name).padEnd(40)} ${`${(fs.statSync(bundle).size / 1024).toFixed(0)} KiB`.padStart(9)} ${m.importMs.toFixed(1).padStart(7)}ms ${m.callMs.toFixed(1).padStart(8)}ms ${m.total.toFixed(1).padStart(7)}ms  ${ratio.toFixed(2)}×`,
    );
  }
  console.log(`\nworst ratio ${Math.max(...ratios).toFixed(2)}× (target ≤ 1.3×): ${Math.max(...ratios) <= 1.3 ? "met" : "NOT met"}`);

  // The SDK decision, measured on the function with the most SDK clients.
  const sdkHeavy = "handlers/handle-payment-failure.ts";
  const bundled = await build(sdkHeavy, path.join(tmp, "bundled"));
  const externalDir = path.join(process.cwd(), ".build", "bench-external-sdk");
  const external = await build(sdkHeavy, externalDir, ["@aws-sdk/*", "@smithy/*"]);
  const env = functions.find((f) => String(f.inputs.code.path).endsWith("handle-payment-failure"))?.inputs.environment?.variables ?? {};
  const a = measure(bundled, env);
  const b = measure(external, env);
  console.log(`\nSDK choice (${sdkHeavy}):`);
  console.log(`  SDK bundled:                  ${(fs.statSync(bundled).size / 1024).toFixed(0)} KiB, import ${a.importMs.toFixed(1)} ms, total ${a.total.toFixed(1)} ms`);
  console.log(`  SDK from node_modules:        ${(fs.statSync(external).size / 1024).toFixed(0)} KiB, import ${b.importMs.toFixed(1)} ms, total ${b.total.toFixed(1)} ms`);
  console.log(`  bundled / external import:    ${(a.importMs / b.importMs).toFixed(2)}×`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(externalDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
