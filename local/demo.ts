import * as fs from "node:fs";
import * as path from "node:path";
import { LocalCloud, PROJECT_DIR, startLocalCloud } from "./cloud";
import { writeIamLog } from "./iam/enforcement";
import { bold, dim, formatBoot, formatCoverage, formatExecution, green, invocationStats, red, table } from "./report";
import { ExportRun, Operator, OrderRun } from "./scenarios";
import { watchExportProgress } from "./progress";

/**
 * The demo: the dev stack's local cloud runs the designed outcomes of both workflows — three orders (happy,
 * declined card, more than the stock holds) and four exports (small SVG, PDF, a long export split on the Map path by
 * default, a long export asking for one worker on Fargate) — and checks that each ended as designed.
 */

const CATALOGUE = [
  { sku: "SKU-RED-MUG", name: "Red mug", stock: 25, price: 1250 },
  { sku: "SKU-TEAPOT", name: "Cast-iron teapot", stock: 1, price: 4900 },
];

const SHIP_TO = { name: "Ada Lovelace", line1: "1 Analytical St", city: "Berlin", postalCode: "10115", country: "DE" };

function order(orderId: string, token: string, items: Array<{ sku: string; quantity: number }>) {
  return { orderId, customerId: "cust-42", email: "ada@example.com", items, payment: { token }, shipTo: SHIP_TO };
}

interface Scenario {
  readonly title: string;
  readonly expected: string;
  got(): string;
  ok(): boolean;
}

export async function runDemo(options: { stack?: string; json?: boolean; verbose?: boolean; cloud?: LocalCloud; iamLogFile?: string; write?: (text: string) => void } = {}): Promise<number> {
  const started = Date.now();
  const cloud = options.cloud ?? (await startLocalCloud({ stack: options.stack, verbose: options.verbose }));
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const log = (s: string) => write(`${s}\n`);
  // A cloud that outlives the demo (serve) keeps earlier runs' orders and executions, whose names cannot be reused:
  // each run there gets ids of its own.
  const run = options.cloud ? `-${Date.now().toString(36)}` : "";
  const id = (base: string) => `${base}${run}`;
  log(formatBoot(cloud));
  const operator = new Operator(cloud);
  const stopProgress = watchExportProgress(cloud, (l) => log(dim(l)));
  try {
    await operator.seedInventory(CATALOGUE);
    log(dim(`  seeded ${CATALOGUE.length} catalogue items: ${CATALOGUE.map((c) => `${c.sku} ×${c.stock}`).join(", ")}`));

    const documents = path.join(PROJECT_DIR, "examples", "documents");
    await operator.uploadDocument("documents/invoice-1-page.json", fs.readFileSync(path.join(documents, "invoice-1-page.json")));
    await operator.uploadDocument("documents/catalogue-40-pages.json", fs.readFileSync(path.join(documents, "catalogue-40-pages.json")));

    log(bold("\nOrders"));
    const [happy, declined, outOfStock] = await operator.placeOrders([
      order(id("demo-happy"), "tok_visa", [{ sku: "SKU-RED-MUG", quantity: 2 }]),
      order(id("demo-declined"), "tok_chargeDeclined", [{ sku: "SKU-RED-MUG", quantity: 1 }]),
      order(id("demo-out-of-stock"), "tok_visa", [{ sku: "SKU-TEAPOT", quantity: 3 }]),
    ]);
    for (const [title, run] of [["happy order", happy], ["declined card", declined], ["more than the stock holds (refused before any charge)", outOfStock]] as const) {
      log(formatExecution(`${title} (${run.orderId})`, run.execution, { orderStatus: run.orderStatus }));
    }

    log(bold("\nExports"));
    const secondsPerPage = Number(cloud.config.values[`${cloud.config.project}:exportSecondsPerPagePdf`] ?? 30);
    log(dim(`  the estimate uses ${secondsPerPage} s per PDF page (stack config), so 40 pages exceed the Lambda budget`));
    const [svg, pdf, map, fargate] = await operator.runExports([
      { jobId: id("demo-svg"), documentKey: "documents/invoice-1-page.json", format: "svg" },
      { jobId: id("demo-pdf"), documentKey: "documents/invoice-1-page.json", format: "pdf" },
      { jobId: id("demo-map"), documentKey: "documents/catalogue-40-pages.json", format: "pdf" },
      { jobId: id("demo-fargate"), documentKey: "documents/catalogue-40-pages.json", format: "pdf", parallel: false },
    ]);
    for (const [title, run] of [["small SVG export", svg], ["PDF export", pdf], ["long export, split by default", map], ["long export, one worker asked for (parallel: false)", fargate]] as const) {
      log(formatExecution(`${title} (${run.jobId})`, run.execution, { runtime: run.runtime }));
    }

    const exported = async (run: ExportRun) => {
      const key = (run.execution.output as { outputKey?: string } | undefined)?.outputKey;
      if (!key) return undefined;
      return operator.exportedObject(key).catch(() => undefined);
    };
    const objects = await Promise.all([svg, pdf, map, fargate].map(exported));
    const charges = cloud.gateway?.charges() ?? [];
    const refunds = cloud.gateway?.refunds() ?? [];
    const stockAfter = await operator.stockOf("SKU-RED-MUG");

    const orderScenario = (title: string, run: OrderRun, status: string, lastState: string, extra: () => boolean = () => true): Scenario => ({
      title,
      expected: `${status} via ${lastState}`,
      got: () => `${run.orderStatus ?? "no order"} via ${run.execution.path.at(-1)} (${run.execution.status})`,
      ok: () => run.execution.status === "SUCCEEDED" && run.orderStatus === status && run.execution.path.at(-1) === lastState && extra(),
    });
    const exportScenario = (title: string, run: ExportRun, runtime: string, index: number, contentType: string): Scenario => ({
      title,
      expected: `${runtime}, ${contentType}`,
      got: () => `${run.runtime ?? "none"}, ${objects[index]?.contentType ?? "no object"} ${objects[index] ? `${objects[index]!.body.length} bytes` : ""} (${run.execution.status})`,
      ok: () => run.execution.status === "SUCCEEDED" && run.runtime === runtime && objects[index]?.contentType === contentType && objects[index]!.body.length > 0,
    });
    const scenarios: Scenario[] = [
      orderScenario("happy order", happy, "COMPLETED", "OrderCompleted", () => charges.some((c) => c.orderId === id("demo-happy") && c.status === "succeeded") && stockAfter === 23),
      orderScenario("declined card", declined, "PAYMENT_FAILED", "PaymentFailed", () => charges.some((c) => c.orderId === id("demo-declined") && c.status === "declined")),
      orderScenario("more than the stock holds", outOfStock, "REJECTED", "OrderRejected", () => !charges.some((c) => c.orderId === id("demo-out-of-stock"))),
      exportScenario("small SVG export", svg, "lambda", 0, "image/svg+xml"),
      exportScenario("PDF export", pdf, "lambda", 1, "application/pdf"),
      exportScenario("long export, split by default", map, "map", 2, "application/pdf"),
      exportScenario("long export, parallel: false", fargate, "fargate", 3, "application/pdf"),
    ];

    log(bold("\nSummary"));
    log(table(["scenario", "expected", "got", ""], scenarios.map((s) => [s.title, s.expected, s.got(), s.ok() ? green("✔") : red("✘")])));
    log(`\n${bold("State coverage")}\n${formatCoverage(cloud.stateCoverage())}`);
    const stats = invocationStats(cloud.lambda.invocations);
    log(`\n${bold("Lambda invocations")}`);
    log(table(["function", "cold", "warm", "cold ms (median)", "warm ms (median)"], stats.map((s) => [s.functionName, String(s.cold), String(s.warm), fmt(s.coldMedianMs), fmt(s.warmMedianMs)])));
    log(dim(`\ngateway: ${charges.length} charges, ${refunds.length} refunds · SNS: ${[...cloud.sns.topics.values()].reduce((n, t) => n + t.messages.length, 0)} messages · ECS tasks: ${cloud.ecs.tasks.length} · requests at the front door: ${JSON.stringify(cloud.frontDoor.counts)}`));
    const decided = cloud.principals.accessLog.filter((e) => e.principal !== "operator:operator");
    log(dim(`IAM: ${decided.length} requests of functions, tasks and state machines decided against their roles' policies, ${decided.filter((e) => !e.allowed).length} denied${options.iamLogFile ? " · npm run local -- iam-report" : ""}`));
    const failed = scenarios.filter((s) => !s.ok());
    log(failed.length ? red(`\n${failed.length} of ${scenarios.length} scenarios did not end as designed: ${failed.map((s) => s.title).join(", ")}`) : green(`\nall ${scenarios.length} scenarios ended as designed in ${((Date.now() - started) / 1000).toFixed(1)} s`));
    // Every demo scenario is a designed path: a request IAM denied means a grant is missing from the program.
    const denied = decided.filter((e) => !e.allowed);
    if (denied.length) log(red(`${denied.length} requests were denied by IAM: ${[...new Set(denied.map((e) => `${e.principal} ${e.action}`))].join(", ")}`));
    return failed.length || denied.length ? 1 : 0;
  } finally {
    stopProgress();
    operator.close();
    if (options.iamLogFile) writeIamLog(options.iamLogFile, cloud.iamLog("demo"));
    if (!options.cloud) await cloud.stop();
  }
}

function fmt(ms: number): string {
  return Number.isNaN(ms) ? "–" : `${ms.toFixed(0)}`;
}
