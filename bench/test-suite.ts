/**
 * The wall time of `npm test` beside the number of tests it ran, over several runs one after another (never in
 * parallel: they would share the two cores they measure).
 *
 *   npx tsx bench/test-suite.ts [--runs 3] [--cold]
 *
 * `--cold` deletes the caches (.build: bundles; .local: the program graph, compile cache, images) before each run, as
 * on a fresh clone after `npm ci`. Prints every run, then the median: a figure without its runs hides how noisy
 * this machine is.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { median, table } from "../local/report";

const ROOT = path.resolve(__dirname, "..");

interface Run {
  readonly wallS: number;
  readonly cpuS: number;
  readonly passes: number;
  readonly failures: number;
  readonly pending: number;
  readonly loadBefore: number;
}

function main(): void {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, cold: { type: "boolean", default: false } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");
  const results: Run[] = [];
  for (let i = 0; i < runs; i++) {
    if (values.cold) for (const dir of [".build", ".local"]) fs.rmSync(path.join(ROOT, dir), { recursive: true, force: true });
    results.push(runSuite());
    const r = results.at(-1)!;
    process.stdout.write(`run ${i + 1}: ${r.wallS.toFixed(1)} s wall, ${r.cpuS.toFixed(1)} s CPU, ${r.passes} passing, ${r.failures} failing, ${r.pending} pending (load before: ${r.loadBefore.toFixed(2)})\n`);
  }
  process.stdout.write(
    `\n${table(
      ["run", "wall s", "CPU s", "tests", "failing", "load average before"],
      results.map((r, i) => [String(i + 1), r.wallS.toFixed(1), r.cpuS.toFixed(1), String(r.passes + r.failures + r.pending), String(r.failures), r.loadBefore.toFixed(2)]),
    )}\n\nnpm test${values.cold ? " (cold caches)" : ""}: median ${median(results.map((r) => r.wallS)).toFixed(1)} s wall over ${runs} run(s) on ${os.cpus().length} cores, ${results[0]!.passes + results[0]!.failures + results[0]!.pending} tests\n`,
  );
  if (results.some((r) => r.failures > 0)) process.exitCode = 1;
}

/** One `npm test` with mocha's JSON reporter; CPU from the kernel's account of this process's waited-for children. */
function runSuite(): Run {
  const report = path.join(os.tmpdir(), `test-suite-${process.pid}.json`);
  const loadBefore = os.loadavg()[0]!;
  const cpuBefore = childrenCpuS();
  const started = performance.now();
  const child = spawnSync("npm", ["test", "--", "--reporter", "json", "--reporter-option", `output=${report}`], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  const wallS = (performance.now() - started) / 1000;
  if (child.error) throw child.error;
  const stats = (JSON.parse(fs.readFileSync(report, "utf8")) as { stats: { passes: number; failures: number; pending: number } }).stats;
  fs.rmSync(report, { force: true });
  return { wallS, cpuS: childrenCpuS() - cpuBefore, passes: stats.passes, failures: stats.failures, pending: stats.pending, loadBefore };
}

/** User + system CPU of every child this process has waited for (`cutime` + `cstime` in /proc/self/stat), seconds. */
function childrenCpuS(): number {
  if (process.platform !== "linux") return Number.NaN;
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // In USER_HZ ticks, 100 per second on Linux whatever the kernel's own tick rate.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

main();
