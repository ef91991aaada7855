/**
 * Orders per second through the local cloud (the dev stack's program, every order a full Step Functions execution
 * with real Lambda workers, DynamoDB, SNS and the sandbox gateway), and cold vs warm invocation latency per function.
 *
 *   npx tsx bench/local-orders.ts [--orders 1000] [--environments 2]
 *
 * Target: ≥ 100 orders/s on 2 cores. All orders are submitted at once, as a burst; each function may run
 * `--environments` workers at a time (the local cloud's per-function limit), later invocations queue. On 2 cores,
 * 2 environments per function were fastest (1: 91/s, 2: 107/s, 3: 102/s, 4: 93/s for 1,000 orders): every worker
 * thread competes for the same cores, and each one's cold start costs ~0.5 s of CPU.
 */
import { parseArgs } from "node:util";
import { startLocalCloud } from "../local/cloud";
import { invocationStats, median, percentile, table } from "../local/report";
import { Operator } from "../local/scenarios";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { orders: { type: "string", default: "1000" }, environments: { type: "string", default: "2" } } });
  const count = Number(values.orders);
  const environments = Number(values.environments);
  if (!Number.isInteger(count) || count < 1) throw new Error("--orders must be a positive integer");
  if (!Number.isInteger(environments) || environments < 1) throw new Error("--environments must be a positive integer");

  const bootStart = Date.now();
  const cloud = await startLocalCloud({ maxEnvironmentsPerFunction: environments, buildImages: false });
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

    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const runs = await operator.placeOrders(orders);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);

    const completed = runs.filter((r) => r.execution.status === "SUCCEEDED" && r.orderStatus === "COMPLETED").length;
    const latencies = runs.map((r) => (r.execution.stopDate ?? 0) - r.execution.startDate);
    process.stdout.write(
      [
        "",
        `${count} orders in ${seconds.toFixed(2)} s → ${(count / seconds).toFixed(0)} orders/s (${completed} COMPLETED, ${count - completed} other)`,
        `execution latency: median ${median(latencies).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`,
        `main-thread CPU: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s over ${seconds.toFixed(1)} s wall; front door requests: ${JSON.stringify(cloud.frontDoor.counts)}`,
        "",
        table(
          ["function", "cold", "warm", "cold ms (init+run, median)", "init ms (median)", "warm ms (median)", "warm p95 ms"],
          invocationStats(cloud.lambda.invocations).map((s) => {
            const warm = cloud.lambda.invocations.filter((r) => r.functionName === s.functionName && !r.cold).map((r) => r.durationMs);
            return [s.functionName, String(s.cold), String(s.warm), s.coldMedianMs.toFixed(0), s.initMedianMs.toFixed(0), s.warmMedianMs.toFixed(1), percentile(warm, 95).toFixed(1)];
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
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
