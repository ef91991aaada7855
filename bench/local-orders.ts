/**
 * Orders per second through the local cloud (the dev stack's program, every order a full Step Functions execution
 * with real Lambda workers, DynamoDB, SNS and the sandbox gateway), and cold vs warm invocation latency per function.
 *
 *   npx tsx bench/local-orders.ts [--orders 1000] [--environments 2] [--no-profile] [--profile-functions]
 *
 * Target: ≥ 100 orders/s on 2 cores, i.e. ≤ 20 ms of CPU per order in all. All orders are submitted at once, as a
 * burst; each function may run `--environments` environments (processes) at a time, later invocations queue.
 *
 * Prints what the next regression needs to be visible: CPU per order on the main thread (the front door, IAM, the
 * state machine interpreter, dynalite, s3rver, the gateway) and in all (main process plus every function
 * environment's process), each function's CPU per invocation, and the top five consumers of the main thread's CPU
 * from a V8 profile of the run (`--no-profile` to leave the profiler out; it costs a few per cent).
 *
 * `--profile-functions` adds the top ten consumers inside the function environments, where two thirds of an
 * order's CPU goes, from a `--cpu-prof` of every environment's process. Such environments run without Node's
 * permission model (it refuses the profile's write), and profiling costs them CPU: read that run's shares, not its
 * CPU per order.
 *
 * V8 samples on the wall clock: a consumer's self time is time on this thread's stack, whether the thread ran or
 * waited for a core, so on a busy machine the shares add up to more than the thread's CPU. The largest, `native
 * writeUtf8String`, is the writes that wake another process (an invocation handed to a function, an HTTP answer);
 * it is mostly real CPU: measured around the invocation writes alone, 5,000 writes took 0.87 s of this thread's
 * CPU and 1.32 s of wall time (one run, 2 cores, 2026-12-02).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { startLocalCloud } from "../local/cloud";
import { invocationStats, median, percentile, table } from "../local/report";
import { sampleProcess } from "../local/runtimes/process-limits";
import { Operator } from "../local/scenarios";
import { bundleSourceMaps } from "./bundle-source-maps";
import { environmentConsumers, profileMainThread, type Consumer, type Profile } from "./cpu-profile";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      orders: { type: "string", default: "1000" },
      environments: { type: "string", default: "2" },
      "no-profile": { type: "boolean", default: false },
      "profile-functions": { type: "boolean", default: false },
    },
  });
  const count = Number(values.orders);
  const environments = Number(values.environments);
  if (!Number.isInteger(count) || count < 1) throw new Error("--orders must be a positive integer");
  if (!Number.isInteger(environments) || environments < 1) throw new Error("--environments must be a positive integer");

  const bootStart = Date.now();
  const functionProfiles = values["profile-functions"] ? fs.mkdtempSync(path.join(os.tmpdir(), "local-orders-profiles-")) : undefined;
  const cloud = await startLocalCloud({ maxEnvironmentsPerFunction: environments, buildImages: false, functionCpuProfileDir: functionProfiles });
  const operator = new Operator(cloud);
  try {
    process.stdout.write(`booted in ${Date.now() - bootStart} ms (program ${cloud.deployMs} ms)\n`);
    const skus = Array.from({ length: 20 }, (_, i) => `BENCH-${i}`);
    await operator.seedInventory(skus.map((sku) => ({ sku, stock: count, price: 500 })));
    const orders = Array.from({ length: count }, (_, i) => ({
      orderId: `bench-${i}`,
      customerId: `c-${i % 50}`,
      email: "bench@example.com",
      items: [{ sku: skus[i % skus.length], quantity: 1 }],
      payment: { token: "tok_visa" },
      shipTo: { name: "Bench", line1: "1 Load St", city: "Berlin", postalCode: "10115", country: "DE" },
    }));

    const liveEnvironments = () => cloud.lambda.functions().flatMap((fn) => cloud.lambda.environmentsOf(fn.name));
    const environmentsCpuMs = () => liveEnvironments().reduce((s, env) => s + (sampleProcess(env.pid)?.cpuMs ?? 0), 0);
    const before = new Set(liveEnvironments().map((env) => env.pid));
    const childrenBefore = environmentsCpuMs();
    const processBefore = process.cpuUsage();
    const threadBefore = process.threadCpuUsage();
    const started = performance.now();
    // Only the executions are measured: the orders' records are read once every execution has ended, so the
    // benchmark's own checking is not counted as the cloud's work.
    const arn = cloud.output("orderStateMachineArn");
    const place = () => Promise.all(orders.map((o) => cloud.startExecution(arn, o, o.orderId).done));
    let executions: Awaited<ReturnType<typeof place>>;
    let consumers: Consumer[] = [];
    if (values["no-profile"]) executions = await place();
    else ({ result: executions, consumers } = await profileMainThread(place));
    const seconds = (performance.now() - started) / 1000;
    const thread = process.threadCpuUsage(threadBefore);
    const processCpu = process.cpuUsage(processBefore);
    // Environments started during the run count from zero; none is stopped before this reading.
    const childrenMs = environmentsCpuMs() - childrenBefore;
    const coldStartsMs = liveEnvironments().reduce((s, env) => s + (before.has(env.pid) ? 0 : (env.initCpuMs ?? 0)), 0);
    const mainMs = (thread.user + thread.system) / 1000;
    const processMs = (processCpu.user + processCpu.system) / 1000;
    const totalMs = processMs + childrenMs;

    const statuses = await Promise.all(orders.map(async (o) => (await operator.order(o.orderId))?.status));
    const completed = executions.filter((e, i) => e.status === "SUCCEEDED" && statuses[i] === "COMPLETED").length;
    const latencies = executions.map((e) => (e.stopDate ?? 0) - e.startDate);
    const perOrder = (ms: number) => `${(ms / count).toFixed(1)} ms`;
    process.stdout.write(
      [
        "",
        `${count} orders in ${seconds.toFixed(2)} s → ${(count / seconds).toFixed(0)} orders/s (${completed} COMPLETED, ${count - completed} other)`,
        `execution latency: median ${median(latencies).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`,
        `CPU per order: main thread ${perOrder(mainMs)}, main process ${perOrder(processMs)} (other threads: GC, libuv pool), function environments ${perOrder(childrenMs)} (${perOrder(coldStartsMs)} of it their ${liveEnvironments().length - before.size} cold starts), total ${perOrder(totalMs)}`,
        `CPU over ${seconds.toFixed(1)} s wall: main thread ${(mainMs / 1000).toFixed(1)} s, in all ${(totalMs / 1000).toFixed(1)} s (${(totalMs / 1000 / seconds).toFixed(2)} cores busy)`,
        `front door requests: ${JSON.stringify(cloud.frontDoor.counts)}`,
        "",
        ...(consumers.length === 0
          ? []
          : [
              "main thread's top five consumers (self time in the V8 profile, sampled on the wall clock, so more than its CPU on a busy machine):",
              table(
                ["consumer", "ms", "share", "ms per order"],
                consumers.slice(0, 5).map((c) => [c.name, c.selfMs.toFixed(0), `${(c.share * 100).toFixed(1)} %`, (c.selfMs / count).toFixed(2)]),
              ),
              "",
            ]),
        table(
          ["function", "cold", "warm", "cold ms (init+run, median)", "init ms (median)", "warm ms (median)", "warm p95 ms", "CPU ms per invocation (median)"],
          invocationStats(cloud.lambda.invocations).map((s) => {
            const mine = cloud.lambda.invocations.filter((r) => r.functionName === s.functionName);
            const warm = mine.filter((r) => !r.cold).map((r) => r.durationMs);
            const cpu = mine.map((r) => r.cpuMs ?? 0);
            return [s.functionName, String(s.cold), String(s.warm), s.coldMedianMs.toFixed(0), s.initMedianMs.toFixed(0), s.warmMedianMs.toFixed(1), percentile(warm, 95).toFixed(1), median(cpu).toFixed(1)];
          }),
        ),
        "",
      ].join("\n"),
    );
    if (completed !== count) process.exitCode = 1;
  } finally {
    operator.close();
    await cloud.stop();
  }
  if (functionProfiles) {
    // Written by each environment as it ends, so only after the stop; boot-time environments (provisioned
    // concurrency) and the seeding's count too, a small part of a 1,000-order run.
    const files = fs.readdirSync(functionProfiles).filter((f) => f.endsWith(".cpuprofile"));
    const profiles = files.map((f) => JSON.parse(fs.readFileSync(path.join(functionProfiles, f), "utf8")) as Profile);
    const bundles = profiles.flatMap((p) => p.nodes.map((n) => n.callFrame.url)).filter((url) => url.startsWith("file://") && url.endsWith("/index.mjs"));
    const { consumers, busyMs } = environmentConsumers(profiles, await bundleSourceMaps([...new Set(bundles)].map((url) => new URL(url).pathname)));
    fs.rmSync(functionProfiles, { recursive: true, force: true });
    process.stdout.write(
      [
        `function environments' top ten consumers (${files.length} profiles, ${(busyMs / count).toFixed(1)} ms per order busy; self time sampled on the wall clock, frozen time left out):`,
        table(
          ["consumer", "ms", "share", "ms per order"],
          consumers.slice(0, 10).map((c) => [c.name, c.selfMs.toFixed(0), `${(c.share * 100).toFixed(1)} %`, (c.selfMs / count).toFixed(2)]),
        ),
        "",
      ].join("\n"),
    );
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
