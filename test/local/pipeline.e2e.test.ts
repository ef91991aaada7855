import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalCloud, PROJECT_DIR } from "../../local/cloud";
import { ExportRun, Operator, OrderRun } from "../../local/scenarios";
import { catalogueDocument, stringifyDocument } from "../../scripts/generate-documents";
import { sharedCloud } from "./support";

/**
 * End to end through the local cloud derived from the real program (index.ts, dev stack): both workflows' designed
 * outcomes, asserted on what the stores hold afterwards. The orders and the exports run as two concurrent batches, at
 * the same time (as two clients would send them); each `it` checks one of them.
 *
 * The cloud is the one shared with the fault matrix (support.ts: `sharedCloud`, with its stack config overrides);
 * this file's orders, SKUs and jobs are its own (`e2e-*`), and IAM is enforced on every request.
 */
describe("order and export pipelines, end to end (local cloud from index.ts)", function () {
  this.timeout(60_000);
  let cloud: LocalCloud;
  let operator: Operator;
  const orders = new Map<string, OrderRun>();
  const exportsRun = new Map<string, ExportRun>();
  let orderSm: string;

  const shipTo = (country = "DE") => ({ name: "Ada Lovelace", line1: "1 Analytical St", city: "Berlin", postalCode: "10115", country });
  const order = (orderId: string, token: string, items: Array<{ sku: string; quantity: number }>, country?: string) => ({
    orderId,
    customerId: "cust-e2e",
    email: "ada@example.com",
    items,
    payment: { token },
    shipTo: shipTo(country),
  });

  before(async function () {
    this.timeout(120_000);
    cloud = await sharedCloud("pipeline.e2e");
    operator = new Operator(cloud);
    orderSm = cloud.output("orderStateMachineArn");
    await operator.seedInventory([
      { sku: "MUG", stock: 10, price: 1250 },
      { sku: "TEAPOT", stock: 3, price: 4900 },
      { sku: "LADLE", stock: 2, price: 1500 },
      { sku: "KETTLE", stock: 5, price: 3000 },
      { sku: "SPOON", stock: 50, price: 200 },
      { sku: "PLATE", stock: 20, price: 900 },
    ]);

    // Failures the order batch needs: the shipments table refuses one booking; SNS refuses the notification of one
    // order; DynamoDB refuses one cancellation.
    cloud.frontDoor.faults.push(
      { service: "dynamodb", principal: cloud.functionOfState(orderSm, "Shipping"), bodyIncludes: "e2e-cannot-ship", error: { code: "ValidationException", message: "injected: the shipments table refused the booking", status: 400 } },
      { service: "sns", principal: cloud.functionOfState(orderSm, "Notification"), bodyIncludes: "e2e-notify-fails", error: { code: "KMSDisabled", message: "The topic's KMS key is disabled", status: 400 } },
      { service: "dynamodb", principal: cloud.functionOfState(orderSm, "CancelOrder"), bodyIncludes: "e2e-cancel-fails", error: { code: "ValidationException", message: "injected: the orders table refused the update", status: 400 } },
    );
    // Another client takes a unit between placement (which saw enough stock) and reservation: out of stock after
    // payment, for the order that is then cancelled and for the one whose cancellation fails.
    const inventory = cloud.functionOfState(orderSm, "InventoryManagement");
    cloud.lambda.hooks.push(
      { functionName: inventory, eventIncludes: "e2e-out-of-stock", remaining: 1, run: () => operator.takeStock("TEAPOT", 1) },
      { functionName: inventory, eventIncludes: "e2e-cancel-fails", remaining: 1, run: () => operator.takeStock("LADLE", 1) },
    );
    const batch = [
      order("e2e-happy", "tok_visa", [{ sku: "MUG", quantity: 2 }]),
      order("e2e-declined", "tok_chargeDeclined", [{ sku: "SPOON", quantity: 1 }]),
      order("e2e-out-of-stock", "tok_visa", [{ sku: "TEAPOT", quantity: 3 }]),
      order("e2e-rejected", "tok_visa", [{ sku: "NOT-IN-CATALOGUE", quantity: 1 }]),
      order("e2e-gateway-hangs", "tok_timeout", [{ sku: "SPOON", quantity: 1 }]),
      order("e2e-cannot-ship", "tok_visa", [{ sku: "KETTLE", quantity: 2 }]),
      order("e2e-no-destination", "tok_visa", [{ sku: "KETTLE", quantity: 1 }], "JP"),
      order("e2e-notify-fails", "tok_visa", [{ sku: "PLATE", quantity: 1 }]),
      order("e2e-cancel-fails", "tok_visa", [{ sku: "LADLE", quantity: 2 }]),
    ];
    const documents = path.join(PROJECT_DIR, "examples", "documents");
    await operator.uploadDocument("documents/e2e-invoice.json", fs.readFileSync(path.join(documents, "invoice-1-page.json")));
    await operator.uploadDocument("documents/e2e-catalogue.json", fs.readFileSync(path.join(documents, "catalogue-40-pages.json")));
    await operator.uploadDocument("documents/e2e-broken.json", JSON.stringify({ formatVersion: 2, title: "broken", pages: "not a list" }));
    await operator.uploadDocument("documents/e2e-catalogue-100.json", stringifyDocument(catalogueDocument(100)));
    const requests = [
      { jobId: "e2e-svg", documentKey: "documents/e2e-invoice.json", format: "svg" },
      { jobId: "e2e-pdf", documentKey: "documents/e2e-invoice.json", format: "pdf" },
      { jobId: "e2e-svg-map", documentKey: "documents/e2e-catalogue.json", format: "svg", parallel: true },
      { jobId: "e2e-pdf-map", documentKey: "documents/e2e-catalogue.json", format: "pdf", parallel: true },
      { jobId: "e2e-fargate", documentKey: "documents/e2e-catalogue.json", format: "pdf", parallel: false },
      { jobId: "e2e-broken", documentKey: "documents/e2e-broken.json", format: "pdf" },
      // One worker asked for, 100 pages at 30 s: longer than the worker's deadline (support.ts) even at Fargate's speed.
      { jobId: "e2e-too-long", documentKey: "documents/e2e-catalogue-100.json", format: "pdf", parallel: false },
    ];
    // Orders and exports at once, as two clients would send them.
    const [orderRuns, exportRuns] = await Promise.all([operator.placeOrders(batch), operator.runExports(requests)]);
    cloud.frontDoor.faults.length = 0;
    for (const run of orderRuns) orders.set(run.orderId!, run);
    for (const run of exportRuns) exportsRun.set(run.jobId!, run);
  });

  after(() => operator?.close());

  const notifications = (orderId: string) =>
    cloud.sns
      .messages(cloud.output("notificationsTopicArn"))
      .map((m) => ({ ...m, body: JSON.parse(m.message) as Record<string, unknown> }))
      .filter((m) => m.body.orderId === orderId);

  describe("orders", () => {
    it("completes a paid, in-stock order: stock reserved, shipment booked, card charged, customer notified", async () => {
      const run = orders.get("e2e-happy")!;
      expect(run.execution.status).to.equal("SUCCEEDED");
      expect(run.execution.path).to.deep.equal(["OrderPlacement", "PaymentProcessing", "InventoryManagement", "Shipping", "Notification", "OrderCompleted"]);
      expect(run.orderStatus).to.equal("COMPLETED");
      expect(await operator.stockOf("MUG")).to.equal(8);
      expect(await operator.shipment("e2e-happy")).to.include({ orderId: "e2e-happy" });
      expect(cloud.gateway!.charges().filter((c) => c.orderId === "e2e-happy").map((c) => [c.status, c.amount])).to.deep.equal([["succeeded", 2500]]);
      const [message] = notifications("e2e-happy");
      expect(message.body).to.include({ formatVersion: 1, type: "OrderCompleted" });
      expect(message.attributes.formatVersion).to.deep.equal({ DataType: "Number", StringValue: "1" });
    });

    it("records a declined card as PAYMENT_FAILED without touching stock", async () => {
      const run = orders.get("e2e-declined")!;
      expect(run.execution.path).to.deep.equal(["OrderPlacement", "PaymentProcessing", "HandlePaymentFailure", "PaymentFailed"]);
      expect(run.orderStatus).to.equal("PAYMENT_FAILED");
      expect(cloud.gateway!.charges().filter((c) => c.orderId === "e2e-declined").map((c) => c.declineCode)).to.deep.equal(["card_declined"]);
      expect(notifications("e2e-declined").map((m) => m.body.type)).to.deep.equal(["PaymentFailed"]);
    });

    it("cancels and refunds an order whose stock ran out after placement, leaving the stock as it was", async () => {
      const run = orders.get("e2e-out-of-stock")!;
      expect(run.execution.path).to.deep.equal(["OrderPlacement", "PaymentProcessing", "InventoryManagement", "RefundPayment", "CancelOrder", "OrderCancelled"]);
      expect(run.orderStatus).to.equal("CANCELLED");
      expect(cloud.gateway!.refunds().filter((r) => r.orderId === "e2e-out-of-stock").map((r) => r.amount)).to.deep.equal([14_700]);
      expect(notifications("e2e-out-of-stock").map((m) => m.body.type)).to.deep.equal(["OrderCancelled"]);
      // Three in stock, one taken by the other client, none by this order.
      expect(await operator.stockOf("TEAPOT")).to.equal(2);
    });

    it("rejects an order naming an unknown SKU before any charge", async () => {
      const run = orders.get("e2e-rejected")!;
      expect(run.execution.path).to.deep.equal(["OrderPlacement", "OrderRejected"]);
      expect(run.orderStatus).to.equal("REJECTED");
      expect(cloud.gateway!.charges().filter((c) => c.orderId === "e2e-rejected")).to.deep.equal([]);
    });

    it("retries a gateway that does not answer, then voids the uncertain charge and fails the payment", async () => {
      const run = orders.get("e2e-gateway-hangs")!;
      expect(run.execution.path).to.deep.equal([
        "OrderPlacement",
        "PaymentProcessing",
        "PaymentProcessing",
        "PaymentProcessing",
        "VoidUncertainCharge",
        "HandlePaymentFailure",
        "PaymentFailed",
      ]);
      expect(run.orderStatus).to.equal("PAYMENT_FAILED");
      expect(run.execution.trace.filter((t) => t.kind === "failed" && t.state === "PaymentProcessing").map((t) => t.detail?.split(":")[0])).to.deep.equal([
        "PaymentGatewayUnavailable",
        "PaymentGatewayUnavailable",
        "PaymentGatewayUnavailable",
      ]);
    });

    it("gives back reserved stock and refunds when the shipment cannot be booked", async () => {
      const run = orders.get("e2e-cannot-ship")!;
      expect(run.execution.path).to.deep.equal(["OrderPlacement", "PaymentProcessing", "InventoryManagement", "Shipping", "ReleaseInventory", "RefundPayment", "CancelOrder", "OrderCancelled"]);
      expect(run.orderStatus).to.equal("CANCELLED");
      expect(await operator.stockOf("KETTLE")).to.equal(5);
      expect(await operator.shipment("e2e-cannot-ship")).to.equal(undefined);
      expect(cloud.gateway!.refunds().filter((r) => r.orderId === "e2e-cannot-ship").map((r) => r.amount)).to.deep.equal([6000]);
    });

    it("rejects an order to a destination we do not ship to before any charge, stock untouched", async () => {
      const run = orders.get("e2e-no-destination")!;
      expect(run.execution.path).to.deep.equal(["OrderPlacement", "OrderRejected"]);
      expect(run.orderStatus).to.equal("REJECTED");
      expect((await operator.order("e2e-no-destination"))!.reason).to.equal("shipTo.country: we do not ship to JP; supported destinations: DE, FR, NL, GB, US");
      expect(cloud.gateway!.charges().filter((c) => c.orderId === "e2e-no-destination")).to.deep.equal([]);
    });

    it("keeps a notification SNS refused on the failed-notifications queue; the order stays COMPLETED", async () => {
      const run = orders.get("e2e-notify-fails")!;
      expect(run.execution.path).to.deep.equal(["OrderPlacement", "PaymentProcessing", "InventoryManagement", "Shipping", "Notification", "KeepFailedNotification", "OrderCompleted"]);
      expect(run.orderStatus).to.equal("COMPLETED");
      const parked = cloud.sqs
        .messages(cloud.output("failedNotificationsQueueUrl"))
        .map((m) => JSON.parse(m.body) as Record<string, unknown>)
        .filter((m) => m.orderId === "e2e-notify-fails");
      expect(parked).to.have.length(1);
      expect(JSON.stringify(parked[0])).to.contain("e2e-notify-fails");
      expect(notifications("e2e-notify-fails")).to.deep.equal([]);
    });

    it("fails the execution in OrderPipelineFailed when a compensation cannot finish", async () => {
      const run = orders.get("e2e-cancel-fails")!;
      expect(run.execution.status).to.equal("FAILED");
      expect(run.execution.path.slice(-3)).to.deep.equal(["RefundPayment", "CancelOrder", "OrderPipelineFailed"]);
      expect(run.execution.error!.error).to.equal("ValidationException");
      expect(run.execution.error!.cause).to.contain("injected: the orders table refused the update");
      expect(run.orderStatus).to.equal("PLACED");
    });
  });

  describe("exports", () => {
    const exported = (jobId: string) => {
      const output = exportsRun.get(jobId)!.execution.output as { outputKey: string };
      return operator.exportedObject(output.outputKey);
    };

    it("exports a one-page document to SVG on Lambda, with the export's metadata", async () => {
      const run = exportsRun.get("e2e-svg")!;
      expect(run.execution.path).to.deep.equal(["PrepareJob", "RecordJobStarted", "EstimateExport", "ChooseRuntime", "ExportSvg", "RecordJobSucceeded", "ExportSucceeded"]);
      expect(run.runtime).to.equal("lambda");
      const object = await exported("e2e-svg");
      expect(object.contentType).to.equal("image/svg+xml");
      expect(object.body.toString("utf8")).to.match(/^<\?xml|^<svg/);
      expect(object.metadata).to.deep.equal({ "format-version": "1", "job-id": "e2e-svg", pages: "1", runtime: "lambda" });
      expect(await operator.exportJob("e2e-svg")).to.include({ status: "SUCCEEDED", runtime: "lambda" });
    });

    it("exports a one-page document to PDF on Lambda", async () => {
      const run = exportsRun.get("e2e-pdf")!;
      expect(run.execution.error).to.equal(null);
      expect(run.execution.path).to.include("ExportPdf");
      const object = await exported("e2e-pdf");
      expect(object.contentType).to.equal("application/pdf");
      expect(object.body.subarray(0, 5).toString()).to.equal("%PDF-");
    });

    it("splits a long parallel SVG export into page ranges on the Map and combines them", async () => {
      const run = exportsRun.get("e2e-svg-map")!;
      expect(run.execution.error).to.equal(null);
      expect(run.runtime).to.equal("map");
      expect(run.execution.path).to.include.members(["SplitExport", "ExportPages", "ChooseChunkFormat", "ExportSvgPages", "CombineExport"]);
      expect((await exported("e2e-svg-map")).metadata).to.include({ pages: "40", runtime: "map" });
      expect(await cloud.s3.listKeys(cloud.output("documentsBucket"), "parts/")).to.deep.equal([]);
    });

    it("splits a long parallel PDF export the same way", async () => {
      const run = exportsRun.get("e2e-pdf-map")!;
      expect(run.execution.error).to.equal(null);
      expect(run.execution.path.filter((s) => s === "ExportPdfPages").length).to.be.greaterThan(1);
      expect((await exported("e2e-pdf-map")).metadata).to.include({ pages: "40", runtime: "map" });
    });

    it("runs a long export that may not be split on the Fargate task, which reports with its task token", async () => {
      const run = exportsRun.get("e2e-fargate")!;
      expect(run.execution.path).to.deep.equal(["PrepareJob", "RecordJobStarted", "EstimateExport", "ChooseRuntime", "ExportOnFargate", "RecordJobSucceeded", "ExportSucceeded"]);
      expect(run.runtime).to.equal("fargate");
      const object = await exported("e2e-fargate");
      expect(object.metadata).to.include({ pages: "40", runtime: "fargate" });
      expect(object.body.subarray(0, 5).toString()).to.equal("%PDF-");
      const task = cloud.ecs.tasks.find((t) => t.startedBy === "AWS Step Functions" && t.startedAt >= run.execution.startDate && t.startedAt <= run.execution.stopDate!)!;
      await task.stopped;
      expect(task.exitCode).to.equal(0);
      expect(cloud.sfn.tokensOf(run.execution.executionArn).map((t) => t.status)).to.deep.equal(["succeeded"]);
    });

    it("records a document that fails validation as a FAILED job and fails the execution with its error", async () => {
      const run = exportsRun.get("e2e-broken")!;
      expect(run.execution.status).to.equal("FAILED");
      expect(run.execution.path.slice(-2)).to.deep.equal(["RecordJobFailed", "ExportFailed"]);
      expect(run.execution.error!.error).to.equal("InvalidDocument");
      expect(await operator.exportJob("e2e-broken")).to.include({ status: "FAILED" });
    });
  });

  describe("exports no runtime can finish", () => {
    it("refuses one before anything runs, and records the job FAILED with every runtime's figures", async () => {
      const run = exportsRun.get("e2e-too-long")!;
      expect(run.execution.path).to.deep.equal(["PrepareJob", "RecordJobStarted", "EstimateExport", "ChooseRuntime", "RefuseExport", "RecordJobFailed", "ExportFailed"]);
      expect(run.execution.error!.error).to.equal("ExportNotPossible");
      const job = (await operator.exportJob("e2e-too-long"))!;
      expect(job.status).to.equal("FAILED");
      expect(job.error.Error).to.equal("ExportNotPossible");
      expect(job.error.Cause).to.match(/^estimated 3,000 s for 100 pages at 30 s each, over the Lambda budget of 720 s; not split: one worker was asked for \(parallel: false\); on Fargate about \d[\d,]* s \([\d.]+× the Lambda's speed\), more than the worker's 480 s$/);
      // Nothing that renders ran: only the job's bookkeeping and the estimate were invoked, no task was started.
      expect(run.execution.trace.filter((t) => t.kind === "ecs")).to.deep.equal([]);
      const invoked = run.execution.trace.filter((t) => t.kind === "lambda").map((t) => t.detail!.split(" ")[0].replace(/^.*-dev-/, "").replace(/:live$/, ""));
      expect(invoked).to.deep.equal(["export-job-status", "export-estimate", "export-job-status"]);
    });
  });

  describe("the whole system", () => {
    it("ran every function of the program and the Fargate task", () => {
      const invoked = new Set(cloud.lambda.invocations.map((r) => r.functionName));
      const functions = cloud.lambda.functions().map((f) => f.name);
      expect(functions).to.have.length.greaterThan(0);
      expect(functions.filter((f) => !invoked.has(f))).to.deep.equal([]);
      expect(cloud.ecs.tasks.filter((t) => t.exitCode === 0)).to.have.length.greaterThan(0);
    });

    it("entered every state of both state machines", () => {
      const coverage = cloud.stateCoverage();
      expect(coverage.map((c) => c.stateMachine)).to.have.members([path.basename(orderSm.split(":").pop()!), cloud.output("exportStateMachineArn").split(":").pop()]);
      expect(coverage.flatMap((c) => c.missing.map((s) => `${c.stateMachine}.${s}`))).to.deep.equal([]);
    });

    it("attributed every request to the principal that made it", () => {
      const principals = new Set(cloud.principals.accessLog.map((a) => a.principal.split(":")[0]));
      expect([...principals]).to.include.members(["lambda", "state-machine", "ecs-task", "operator"]);
      const shipping = cloud.functionOfState(orderSm, "Shipping");
      const byShipping = cloud.principals.usage().filter((u) => u.principal === `lambda:${shipping}`);
      expect(byShipping.map((u) => u.resource).every((r) => r.includes(":table/"))).to.equal(true);
    });
  });
});
