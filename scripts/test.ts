/**
 * `npm test`: the suite as two mocha runs side by side, one per core.
 *
 * - **cloud** — `test/local/`: the local cloud's end-to-end, fault-matrix, runtime and fidelity files. They stay in
 *   one process because they share one booted cloud, and the least-privilege check (test/local/hooks.ts) reads the
 *   access log of every scenario of the run.
 * - **units** — everything else: builders, Pulumi-mocks components, handlers, the export worker, rules, scripts. They
 *   share nothing with the cloud files but the caches on disk, which are content-addressed and safe to fill from two
 *   processes at once (infra/bundle.ts, local/program/graph-cache.ts).
 *
 * Alone, the suite keeps one core busy on average: the cloud files wait on their functions' processes, the unit files
 * on nothing but themselves. Side by side they fill both (`bench/test-suite.ts` measures it). With one core the two
 * runs go one after the other. Only the cloud run starts a slow boot ahead (its shared cloud): the units run's program
 * graphs, for the rule pack late in it, are left until asked for. Started early, on a fresh clone, they ran the
 * program twice more while the cloud's boot needed the CPU: 54 s cold against 46 s without (bench/test-suite.ts
 * --cold), the same 29 s warm. The cloud run's output streams as it comes; the units' is held and printed whole
 * after it, so neither interleaves. Arguments after `--` go to both runs (`npm test -- --grep "refund"`); to run
 * one file, use mocha directly (`npx mocha test/infra/policy.test.ts`).
 */
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const MOCHA = require.resolve("mocha/bin/mocha.js");

interface Group {
  readonly name: string;
  /** mocha's arguments, before the ones given to `npm test`. */
  readonly args: readonly string[];
}

const GROUPS: readonly Group[] = [
  // .mocharc.json applies: its root hooks stop the shared clouds and check least privilege.
  { name: "cloud", args: ["--require", "tsx/cjs", "--require", "test/local/warm-up.ts", "test/local/**/*.test.ts"] },
  // Not .mocharc.json: its root hooks belong to the cloud files. Its timeout is repeated here.
  {
    name: "units",
    args: ["--no-config", "--require", "tsx/cjs", "--timeout", "60000", "--ignore", "test/local/**", "test/**/*.test.ts"],
  },
];

interface Outcome {
  readonly group: Group;
  readonly code: number;
  readonly seconds: number;
  readonly output: string;
}

function run(group: Group, extra: readonly string[], stream: boolean): Promise<Outcome> {
  const started = performance.now();
  const child = spawn(process.execPath, [MOCHA, ...group.args, ...extra], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    // mocha prints colours only to a terminal; the held output keeps them when ours is one.
    env: { ...process.env, ...(process.stdout.isTTY && !process.env.NO_COLOR ? { FORCE_COLOR: "1" } : {}) },
  });
  const chunks: Buffer[] = [];
  for (const stream_ of [child.stdout!, child.stderr!]) {
    stream_.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (stream) process.stdout.write(chunk);
    });
  }
  running.add(child);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      running.delete(child);
      resolve({ group, code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1), seconds: (performance.now() - started) / 1000, output: Buffer.concat(chunks).toString("utf8") });
    });
  });
}

const running = new Set<ReturnType<typeof spawn>>();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    for (const child of running) child.kill(signal);
  });
}

export interface MochaCounts {
  readonly passing: number;
  readonly failing: number;
  readonly pending: number;
}

/**
 * "974 passing" and its kin from mocha's summary lines, summed over every mocha run whose output `output` holds (a
 * reporter that prints no summary gives zeros). bench/test-suite.ts reads `npm test` with it.
 */
export function mochaCounts(output: string): MochaCounts {
  const sum = (word: string) => [...output.matchAll(new RegExp(`^\\s+(\\d+) ${word}\\b`, "gm"))].reduce((n, m) => n + Number(m[1]), 0);
  return { passing: sum("passing"), failing: sum("failing"), pending: sum("pending") };
}

async function main(): Promise<void> {
  const extra = process.argv.slice(2);
  const started = performance.now();
  const sideBySide = os.availableParallelism() >= 2;
  const [cloud, units] = GROUPS;
  let outcomes: Outcome[];
  if (sideBySide) {
    process.stdout.write(`npm test: ${GROUPS.map((g) => g.name).join(" and ")} side by side (${os.availableParallelism()} cores); the units' output follows the cloud's\n`);
    const held = run(units!, extra, false);
    const streamed = await run(cloud!, extra, true);
    outcomes = [streamed, await held];
    process.stdout.write(`\n── ${units!.name} ──\n${outcomes[1]!.output}`);
  } else {
    process.stdout.write(`npm test: one core, so ${GROUPS.map((g) => g.name).join(" then ")}\n`);
    outcomes = [await run(cloud!, extra, true), await run(units!, extra, true)];
  }
  const failed = outcomes.filter((o) => o.code !== 0);
  const counts = mochaCounts(outcomes.map((o) => o.output).join("\n"));
  process.stdout.write(
    `\nnpm test: ${outcomes.map((o) => `${o.group.name} ${o.code === 0 ? "passed" : `FAILED (exit ${o.code})`} in ${o.seconds.toFixed(1)} s`).join(", ")}; ${Object.entries(counts).map(([word, n]) => `${n} ${word}`).join(", ")}; ${((performance.now() - started) / 1000).toFixed(1)} s in all\n`,
  );
  process.exitCode = failed.length ? failed[0]!.code : 0;
}

// Imported by bench/test-suite.ts for mochaCounts: run only as the script.
if (require.main === module) void main();
