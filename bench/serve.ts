/**
 * `npm run local -- serve` as a user meets it: how long a boot takes, cold and warm, and how long a request through
 * the front door takes once it is up.
 *
 *   npx tsx bench/serve.ts [--requests 1000] [--warm-boots 3]
 *
 * - **Cold boot**: serve in a fresh linked checkout of this repository (bench/checkout.ts: no .build, no .local), so
 *   the program runs, every handler is bundled and the worker image built; the time until the environment lines are
 *   printed, as a user waits for them. serve's own report of where the time went follows.
 * - **Warm boots**: serve again in that checkout, nothing changed (the graph replayed, bundles reused).
 * - **Front-door latency**: from this process, with the SDK v3 clients configured only from the lines serve printed,
 *   one request at a time: `--requests` DynamoDB GetItem on the orders table, then as many StartExecution of the
 *   order workflow (an order for an unknown SKU: OrderPlacement refuses it, so each execution costs one Lambda
 *   invocation, which runs while the next requests are timed). 20 requests of each kind first, not counted.
 *
 * Every figure is one run's; run it several times and report the runs. The machine's load average is printed with
 * them: on shared cores it moves the figures more than any change does.
 */
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { BUILD_DIR, PROJECT_ROOT } from "../infra/bundle";
import { median, percentile } from "../local/report";
import { linkedCheckout } from "./checkout";

interface Served {
  readonly child: ChildProcess;
  readonly env: Record<string, string>;
  readonly outputs: Record<string, string>;
  readonly bootMs: number;
  readonly report: string;
}

/** Starts serve in `checkout` and resolves once it has printed the client's environment and the outputs. */
function serve(checkout: string, serveDir: string): Promise<Served> {
  const started = performance.now();
  const child = spawn(path.join(checkout, "node_modules", ".bin", "tsx"), [path.join(checkout, "local", "cli.ts"), "serve", "--port", "0"], {
    cwd: checkout,
    env: { ...process.env, LOCAL_SERVE_DIR: serveDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk;
      if (!/^Current stack outputs[\s\S]*\n\n/m.test(stdout)) return;
      const bootMs = performance.now() - started;
      const env = Object.fromEntries([...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
      const outputs = Object.fromEntries([...stdout.matchAll(/^ {4}(\w+) +(\S+)$/gm)].filter((m) => m[1] !== "OUTPUT").map((m) => [m[1], m[2]]));
      resolve({ child, env, outputs, bootMs, report: stderr.split("\n\nServing")[0].trim() });
    });
    child.once("exit", (code) => reject(new Error(`serve exited with ${code} before it was ready:\n${stderr}`)));
  });
}

async function stop(served: Served): Promise<void> {
  const exited = new Promise((resolve) => served.child.once("exit", resolve));
  served.child.kill("SIGTERM");
  await exited;
}

/** Milliseconds of each of `count` sequential calls, after `warmUp` calls not counted. */
async function timed(count: number, warmUp: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmUp; i++) await call(-1 - i);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await call(i);
    times.push(performance.now() - t);
  }
  return times;
}

const figures = (times: number[]) => `median ${median(times).toFixed(2)} ms, p95 ${percentile(times, 95).toFixed(2)} ms (n = ${times.length})`;
const load = () => `load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} cores`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: "string", default: "1000" }, "warm-boots": { type: "string", default: "3" } } });
  const requests = Number(values.requests);
  const warmBoots = Number(values["warm-boots"]);
  if (!Number.isInteger(requests) || requests < 1) throw new Error("--requests must be a positive integer");
  if (!Number.isInteger(warmBoots) || warmBoots < 1) throw new Error("--warm-boots must be a positive integer");
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(BUILD_DIR, "bench-serve-"));
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const checkout = linkedCheckout(PROJECT_ROOT, path.join(scratch, "checkout"));
    const serveDir = path.join(scratch, "serve");
    out(`${load()}`);
    const cold = await serve(checkout, serveDir);
    await stop(cold);
    out(`boot cold: ${cold.bootMs.toFixed(0)} ms until the environment was printed; serve's report:\n${cold.report.replace(/^/gm, "    ")}`);
    const warm: number[] = [];
    let served: Served | undefined;
    for (let i = 0; i < warmBoots; i++) {
      if (served) await stop(served);
      served = await serve(checkout, serveDir);
      warm.push(served.bootMs);
    }
    out(`boot warm: ${warm.map((ms) => `${ms.toFixed(0)} ms`).join(", ")} (${load()})`);

    const config = {
      endpoint: served!.env.AWS_ENDPOINT_URL,
      region: served!.env.AWS_REGION,
      credentials: { accessKeyId: served!.env.AWS_ACCESS_KEY_ID, secretAccessKey: served!.env.AWS_SECRET_ACCESS_KEY },
    };
    const dynamodb = new DynamoDBClient(config);
    const sfn = new SFNClient(config);
    try {
      const table = served!.outputs.ordersTable;
      const getItem = await timed(requests, 20, () => dynamodb.send(new GetItemCommand({ TableName: table, Key: { orderId: { S: "bench-missing" } } })));
      out(`GetItem through the front door: ${figures(getItem)} (${load()})`);
      const stateMachineArn = served!.outputs.orderStateMachineArn;
      const order = (i: number) => ({
        orderId: `bench-serve-${i < 0 ? `w${-i}` : i}`,
        customerId: "c-bench",
        email: "bench@example.com",
        items: [{ sku: "BENCH-UNKNOWN", quantity: 1 }],
        payment: { token: "tok_visa" },
        shipTo: { name: "Bench", line1: "1 Load St", city: "Berlin", postalCode: "10115", country: "DE" },
      });
      const start = await timed(requests, 20, (i) => sfn.send(new StartExecutionCommand({ stateMachineArn, name: order(i).orderId, input: JSON.stringify(order(i)) })));
      out(`StartExecution through the front door: ${figures(start)} (${load()})`);
    } finally {
      dynamodb.destroy();
      sfn.destroy();
      await stop(served!);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
