/**
 * The wall time of `npm test` beside the number of tests it ran, over several runs one after another (never in
 * parallel: they would share the two cores they measure).
 *
 *   npx tsx bench/test-suite.ts [--runs 3] [--cold] [--compare DIR]
 *
 * `--compare DIR` runs the suite of another checkout (e.g. a clone at an older commit, with its own `npm ci`) in
 * turns with this one — this, that, this, that — so both see the same machine, and prints both medians and their
 * ratio.
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
import { mochaCounts } from "../scripts/test";

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
  const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, cold: { type: "boolean", default: false }, compare: { type: "string" } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");
  const checkouts = [ROOT, ...(values.compare ? [path.resolve(values.compare)] : [])];
  for (const dir of checkouts) if (!fs.existsSync(path.join(dir, "node_modules"))) throw new Error(`${dir} has no node_modules: run npm ci there first`);
  const results = new Map<string, Run[]>(checkouts.map((dir) => [dir, []]));
  for (let i = 0; i < runs; i++) {
    for (const dir of checkouts) {
      if (values.cold) for (const cache of [".build", ".local"]) fs.rmSync(path.join(dir, cache), { recursive: true, force: true });
      const r = runSuite(dir);
      results.get(dir)!.push(r);
      process.stdout.write(`${label(dir)} run ${i + 1}: ${r.wallS.toFixed(1)} s wall, ${r.cpuS.toFixed(1)} s CPU, ${r.passes} passing, ${r.failures} failing, ${r.pending} pending (load before: ${r.loadBefore.toFixed(2)})\n`);
    }
  }
  const medians = new Map<string, number>();
  for (const [dir, runsOf] of results) {
    medians.set(dir, median(runsOf.map((r) => r.wallS)));
    process.stdout.write(
      `\n${label(dir)}\n${table(
        ["run", "wall s", "CPU s", "tests", "failing", "load average before"],
        runsOf.map((r, i) => [String(i + 1), r.wallS.toFixed(1), r.cpuS.toFixed(1), String(r.passes + r.failures + r.pending), String(r.failures), r.loadBefore.toFixed(2)]),
      )}\n\nnpm test${values.cold ? " (cold caches)" : ""}: median ${medians.get(dir)!.toFixed(1)} s wall over ${runs} run(s) on ${os.cpus().length} cores, ${runsOf[0]!.passes + runsOf[0]!.failures + runsOf[0]!.pending} tests\n`,
    );
  }
  if (values.compare) {
    const [self, other] = checkouts.map((dir) => medians.get(dir)!);
    process.stdout.write(`\nthis checkout's median is ${(self! / other!).toFixed(2)} × ${label(checkouts[1]!)}'s (${other!.toFixed(1)} s → ${self!.toFixed(1)} s)\n`);
  }
  if ([...results.values()].flat().some((r) => r.failures > 0)) process.exitCode = 1;
}

function label(dir: string): string {
  const head = spawnSync("git", ["log", "-1", "--format=%h"], { cwd: dir, encoding: "utf8" }).stdout.trim();
  return `${dir} (${head || "no git"})`;
}

/**
 * One `npm test` as a user runs it; the counts are mocha's summary lines, summed over the mocha runs it made
 * (scripts/test.ts makes two; round 1's npm test made one). CPU from the kernel's account of this process's
 * waited-for children.
 */
function runSuite(dir: string): Run {
  const loadBefore = os.loadavg()[0]!;
  const cpuBefore = childrenCpuS();
  const started = performance.now();
  const child = spawnSync("npm", ["test"], { cwd: dir, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const wallS = (performance.now() - started) / 1000;
  if (child.error) throw child.error;
  const counts = mochaCounts(child.stdout);
  const run = { wallS, cpuS: childrenCpuS() - cpuBefore, passes: counts.passing, failures: counts.failing, pending: counts.pending, loadBefore };
  if (run.passes + run.failures === 0) throw new Error(`npm test in ${dir} printed no mocha summary (exit ${child.status}):\n${child.stdout.slice(-2000)}`);
  if (child.status !== 0 && run.failures === 0) return { ...run, failures: 1 };
  return run;
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
