/**
 * The local Lambda runtime's own cost per invocation, without a handler's work: the mini program's echo function
 * (it returns its event) invoked with a 1 KB event, one at a time and then as a burst over two environments.
 *
 *   npx tsx bench/lambda-runtime.ts [--invocations 2000] [--runs 3]
 *
 * Prints, per run and mode, the CPU per invocation on the main thread (the runtime: handing the event over, reading
 * the answer, the watchdog), in the main process, and in the environments' processes (the bootstrap: reading the
 * event, calling the handler, writing the answer). Set beside bench/local-orders.ts's CPU per invocation of the
 * order functions, it says how much of a function's cost is the runtime's and how much the handler's own work.
 */
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { startLocalCloud } from "../local/cloud";
import { sampleProcess } from "../local/runtimes/process-limits";

const MINI_PROGRAM = path.join(__dirname, "..", "test", "local", "fixtures", "mini");
const FUNCTION = "mini-echo";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { invocations: { type: "string", default: "2000" }, runs: { type: "string", default: "3" } } });
  const count = Number(values.invocations);
  const runs = Number(values.runs);
  if (!Number.isInteger(count) || count < 1) throw new Error("--invocations must be a positive integer");
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");

  const cloud = await startLocalCloud({ projectDir: MINI_PROGRAM, buildImages: false, maxEnvironmentsPerFunction: 2 });
  try {
    // Two warm environments before anything is measured.
    await Promise.all([cloud.lambda.invoke(FUNCTION, {}), cloud.lambda.invoke(FUNCTION, {})]);
    const environmentsCpuMs = () => cloud.lambda.environmentsOf(FUNCTION).reduce((s, env) => s + (sampleProcess(env.pid)?.cpuMs ?? 0), 0);
    const event = (i: number) => ({ i, pad: "x".repeat(1000) });
    const modes: Record<string, () => Promise<unknown>> = {
      "one at a time": async () => {
        for (let i = 0; i < count; i++) await cloud.lambda.invoke(FUNCTION, event(i));
      },
      "burst, 2 environments": () => Promise.all(Array.from({ length: count }, (_, i) => cloud.lambda.invoke(FUNCTION, event(i)))),
    };
    process.stdout.write(`${count} invocations of ${FUNCTION} per mode and run; CPU per invocation in ms\n`);
    for (let run = 1; run <= runs; run++) {
      for (const [mode, work] of Object.entries(modes)) {
        const environmentsBefore = environmentsCpuMs();
        const thread = process.threadCpuUsage();
        const own = process.cpuUsage();
        const started = performance.now();
        await work();
        const wallMs = performance.now() - started;
        const t = process.threadCpuUsage(thread);
        const p = process.cpuUsage(own);
        const per = (ms: number) => (ms / count).toFixed(3);
        process.stdout.write(
          `run ${run}, ${mode}: ${(count / (wallMs / 1000)).toFixed(0)}/s; main thread ${per((t.user + t.system) / 1000)}, main process ${per((p.user + p.system) / 1000)}, environments ${per(environmentsCpuMs() - environmentsBefore)}; load ${os.loadavg()[0]!.toFixed(1)}\n`,
        );
      }
    }
  } finally {
    await cloud.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
