import { expect } from "chai";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalCloud, PROJECT_DIR } from "../../local/cloud";
import { ExportRun, Operator, OrderRun } from "../../local/scenarios";
import type { ExecutionRecord } from "../../local/runtimes/step-functions/runtime";
import { expectedDenials, faultMatrixSummary, sharedCloud } from "./support";

/**
 * The fault matrix: each failure the system is designed to survive, injected into the local cloud of the real
 * program — Lambda service faults (`cloud.lambda.faults`), front-door faults (`cloud.frontDoor.faults`), container
 * crashes and hangs (`cloud.ecs.faults`), a revoked IAM grant (`cloud.iam.revoke`) — and the END STATE asserted in the
 * stores: orders, inventory and shipments tables, gateway charges and refunds, SNS messages, the SQS queue, the jobs
 * table. No definition or handler is changed for a test; only stack config (support.ts) and injected faults.
 *
 * Orders, exports and documents run concurrently as one batch (ids `fm-*`, SKUs `FM-*`, so they keep apart from each
 * other and from the e2e file on the same cloud); the IAM-denial scenario runs alone afterwards because it takes a
 * grant away from a principal everyone shares.
 */
describe("fault matrix (local cloud from index.ts)", function () {
  this.timeout(90_000);
  let cloud: LocalCloud;
  let operator: Operator;
  let orderSm: string;
  let heartbeatSeconds: number;
  const orders = new Map<string, OrderRun>();
  const exportsRun = new Map<string, ExportRun>();
  const executions = new Map<string, ExecutionRecord>();

  const shipTo = (country = "DE") => ({ name: "Grace Hopper", line1: "2 Compiler Way", city: "Berlin", postalCode: "10115", country });
  const order = (orderId: string, token: string, items: Array<{ sku: string; quantity: number }>, country?: string): Record<string, any> => ({
    orderId,
    customerId: "cust-fm",
    email: "grace@example.com",
    items,
    payment: { token },
    shipTo: shipTo(country),
  });

  /** Malformed orders, field by field: how each is broken, and the field the error must name. */
  const MALFORMED: Array<{ id: string; field: string; breakIt(o: Record<string, any>): void }> = [
    { id: "fm-bad-missing-email", field: "email", breakIt: (o) => delete o.email },
    { id: "fm-bad-missing-customer", field: "customerId", breakIt: (o) => delete o.customerId },
    { id: "fm-bad-quantity-type", field: "items[0].quantity", breakIt: (o) => (o.items[0].quantity = "2") },
    { id: "fm-bad-quantity-negative", field: "items[0].quantity", breakIt: (o) => (o.items[0].quantity = -1) },
    { id: "fm-bad-quantity-zero", field: "items[0].quantity", breakIt: (o) => (o.items[0].quantity = 0) },
    { id: "fm-bad-email", field: "email", breakIt: (o) => (o.email = "not-an-e-mail") },
    { id: "fm-bad-empty-items", field: "items", breakIt: (o) => (o.items = []) },
    { id: "fm-bad-huge-name", field: "shipTo.name", breakIt: (o) => (o.shipTo.name = "x".repeat(20_000)) },
    { id: "fm-bad-token-type", field: "payment.token", breakIt: (o) => (o.payment.token = 42) },
    { id: "fm-bad-country", field: "shipTo.country", breakIt: (o) => (o.shipTo.country = "Germany") },
  ];

  const STOCK = { "FM-RETRY": 10, "FM-DECL": 5, "FM-TMO": 5, "FM-OOS": 2, "FM-SHIP": 5, "FM-NOTIFY": 5, "FM-DUP": 10, "FM-PARTIAL": 10, "FM-MAL": 10, "FM-LAST": 1, "FM-DENY": 5, "FM-KNOWN": 5 } as const;
  const PRICE = 1000;

  before(async function () {
    this.timeout(180_000);
    cloud = await sharedCloud("fault-matrix");
    heartbeatSeconds = Number(cloud.config.values["order-pipeline:fargateHeartbeatSeconds"]);
    operator = new Operator(cloud);
    orderSm = cloud.output("orderStateMachineArn");
    await operator.seedInventory(Object.entries(STOCK).map(([sku, stock]) => ({ sku, stock, price: PRICE })));
    const fn = (state: string) => cloud.functionOfState(orderSm, state);

    // 1. transient Lambda service errors and throttling, once on each step of one order.
    const steps = ["OrderPlacement", "PaymentProcessing", "InventoryManagement", "Shipping", "Notification"];
    steps.forEach((state, i) =>
      cloud.lambda.faults.push({ functionName: fn(state), when: "before", error: i % 2 ? "Lambda.TooManyRequestsException" : "Lambda.ServiceException", eventIncludes: "fm-transient", remaining: 1 }),
    );
    // 8. each writing step dies after its write, before it returns: Step Functions retries it.
    for (const state of ["OrderPlacement", "PaymentProcessing", "InventoryManagement", "Shipping"]) {
      cloud.lambda.faults.push({ functionName: fn(state), when: "after", error: "Lambda.ServiceException", eventIncludes: "fm-partial", remaining: 1 });
    }
    // 4. another client takes one of the two units between this order's placement (which saw enough) and its
    // reservation. 12. both racing orders pass placement before either reserves: they meet in InventoryManagement.
    const inventory = fn("InventoryManagement");
    cloud.lambda.hooks.push({ functionName: inventory, eventIncludes: "fm-oos", remaining: 1, run: () => operator.takeStock("FM-OOS", 1) });
    const racers = new Set<string>();
    let bothPlaced!: () => void;
    const barrier = new Promise<void>((resolve) => (bothPlaced = resolve));
    for (const id of ["fm-race-1", "fm-race-2"]) {
      cloud.lambda.hooks.push({
        functionName: inventory,
        eventIncludes: id,
        remaining: 1,
        run: async () => {
          racers.add(id);
          if (racers.size === 2) bothPlaced();
          await barrier;
        },
      });
    }
    // 5b. the shipments table refuses the booking (after payment and reservation).
    cloud.frontDoor.faults.push({ service: "dynamodb", principal: fn("Shipping"), bodyIncludes: "fm-noship", error: { code: "ValidationException", message: "injected: the shipments table refused the booking", status: 400 } });
    // 6. SNS refuses the shipped notification.
    cloud.frontDoor.faults.push({ service: "sns", principal: fn("Notification"), bodyIncludes: "fm-notify", error: { code: "KMSDisabled", message: "The topic's KMS key is disabled", status: 400 } });
    // 13. the Fargate worker crashes / hangs / stalls; 14. the SVG exporter times out. Faults strike at a point of
    // the worker's own progress, and the stall is time the cloud skips for that task (local/clock.ts): no outcome
    // here depends on how fast this machine is.
    const family = cloud.ecs.taskDefinitionsList()[0].family;
    cloud.ecs.faults.push(
      { family, kind: "crash", afterOutputIncludes: "export started", environmentIncludes: "fm-crash", remaining: 1 },
      { family, kind: "hang", afterOutputIncludes: "export started", hangMs: 5_000, environmentIncludes: "fm-hang", remaining: 1 },
      // Frozen right after its first progress for half of HeartbeatSeconds: longer than the worker's heartbeat
      // interval (a third), shorter than the window and than the worker's own stall watchdog.
      { family, kind: "stall", afterOutputIncludes: "pagesDone", stallSeconds: heartbeatSeconds / 2, environmentIncludes: "fm-stall", remaining: 1 },
    );
    // 13. the document is gone by the time the container reads it: the worker reports SendTaskFailure.
    cloud.frontDoor.faults.push({ service: "s3", principal: family, resource: `arn:aws:s3:::${cloud.output("documentsBucket")}/documents/fm-vanishing.json`, error: { code: "NoSuchKey", message: "The specified key does not exist.", status: 404 } });
    const svgExporter = cloud.lambda.functions().find((f) => f.name.endsWith("-export-svg"))!.name;
    cloud.lambda.faults.push({ functionName: svgExporter, when: "before", error: "Sandbox.Timedout", eventIncludes: "fm-lambda-timeout", remaining: 1 });

    const documents = path.join(PROJECT_DIR, "examples", "documents");
    const invoice = fs.readFileSync(path.join(documents, "invoice-1-page.json"), "utf8");
    await operator.uploadDocument("documents/fm-catalogue.json", fs.readFileSync(path.join(documents, "catalogue-40-pages.json")));
    await operator.uploadDocument("documents/fm-invoice.json", invoice);
    await operator.uploadDocument("documents/fm-vanishing.json", fs.readFileSync(path.join(documents, "catalogue-40-pages.json")));
    await operator.uploadDocument("documents/fm-invoice-v1.json", fs.readFileSync(path.join(documents, "invoice-1-page.v1.json")));
    await operator.uploadDocument("documents/fm-invoice-v3.json", JSON.stringify({ ...JSON.parse(invoice), formatVersion: 3 }));

    const batch = [
      order("fm-transient", "tok_visa", [{ sku: "FM-RETRY", quantity: 1 }]),
      order("fm-declined", "tok_chargeDeclined", [{ sku: "FM-DECL", quantity: 1 }]),
      order("fm-insufficient", "tok_insufficientFunds", [{ sku: "FM-DECL", quantity: 2 }]),
      order("fm-timeout", "tok_timeout", [{ sku: "FM-TMO", quantity: 1 }]),
      order("fm-charge-lost", "tok_chargeThenTimeout", [{ sku: "FM-TMO", quantity: 1 }]),
      order("fm-oos", "tok_visa", [{ sku: "FM-OOS", quantity: 2 }]),
      order("fm-noship", "tok_visa", [{ sku: "FM-SHIP", quantity: 2 }]),
      order("fm-nowhere", "tok_visa", [{ sku: "FM-KNOWN", quantity: 1 }], "JP"),
      { ...order("fm-wrong-currency", "tok_visa", [{ sku: "FM-KNOWN", quantity: 1 }]), currency: "USD" },
      order("fm-too-many", "tok_visa", [{ sku: "FM-KNOWN", quantity: 6 }]),
      order("fm-notify", "tok_visa", [{ sku: "FM-NOTIFY", quantity: 1 }]),
      order("fm-partial", "tok_visa", [{ sku: "FM-PARTIAL", quantity: 2 }]),
      order("fm-unknown-sku", "tok_visa", [{ sku: "FM-NOT-IN-CATALOGUE", quantity: 1 }]),
      order("fm-race-1", "tok_visa", [{ sku: "FM-LAST", quantity: 1 }]),
      order("fm-race-2", "tok_visa", [{ sku: "FM-LAST", quantity: 1 }]),
      ...MALFORMED.map((m) => {
        const o = order(m.id, "tok_visa", [{ sku: "FM-MAL", quantity: 1 }]);
        m.breakIt(o);
        return o;
      }),
    ];
    const missingOrderId = order("unused", "tok_visa", [{ sku: "FM-MAL", quantity: 1 }]);
    delete missingOrderId.orderId;
    // 7. the same order submitted twice at once (two executions, as two client retries would start).
    const dup = order("fm-dup-concurrent", "tok_visa", [{ sku: "FM-DUP", quantity: 1 }]);
    const [ordersDone, exportsDone, duplicates, noId] = await Promise.all([
      operator.placeOrders(batch),
      operator.runExports([
        { jobId: "fm-crash", documentKey: "documents/fm-catalogue.json", format: "pdf", parallel: false },
        { jobId: "fm-hang", documentKey: "documents/fm-catalogue.json", format: "pdf", parallel: false },
        { jobId: "fm-stall", documentKey: "documents/fm-catalogue.json", format: "pdf", parallel: false },
        { jobId: "fm-vanishing", documentKey: "documents/fm-vanishing.json", format: "pdf", parallel: false },
        { jobId: "fm-lambda-timeout", documentKey: "documents/fm-invoice.json", format: "svg" },
        { jobId: "fm-v3", documentKey: "documents/fm-invoice-v3.json", format: "svg" },
        { jobId: "fm-v1", documentKey: "documents/fm-invoice-v1.json", format: "pdf" },
      ]),
      Promise.all([cloud.run(orderSm, dup, "fm-dup-concurrent-a"), cloud.run(orderSm, dup, "fm-dup-concurrent-b")]),
      cloud.run(orderSm, missingOrderId, "fm-bad-missing-order-id"),
    ]);
    for (const run of ordersDone) orders.set(run.orderId!, run);
    for (const run of exportsDone) exportsRun.set(run.jobId!, run);
    duplicates.forEach((e) => executions.set(e.name, e));
    executions.set(noId.name, noId);
    // 7. ... and in sequence: the second submission after the first has finished.
    const again = order("fm-dup-sequence", "tok_visa", [{ sku: "FM-DUP", quantity: 2 }]);
    executions.set("fm-dup-sequence-a", await cloud.run(orderSm, again, "fm-dup-sequence-a"));
    executions.set("fm-dup-sequence-b", await cloud.run(orderSm, again, "fm-dup-sequence-b"));

    // 16. Shipping loses dynamodb:PutItem while the cloud runs (as if the grant were removed from the program).
    const shipping = cloud.principals.find("lambda", fn("Shipping"))!;
    expectedDenials.push({ principal: `lambda:${shipping.name}`, action: "dynamodb:PutItem" });
    const restore = cloud.iam.revoke(shipping, "dynamodb:PutItem");
    try {
      const [denied] = await operator.placeOrders([order("fm-denied", "tok_visa", [{ sku: "FM-DENY", quantity: 2 }])]);
      orders.set("fm-denied", denied);
    } finally {
      restore();
    }
    cloud.frontDoor.faults.length = 0;
  });

  after(() => operator?.close());

  const charges = (orderId: string) => cloud.gateway!.charges().filter((c) => c.orderId === orderId);
  const refunds = (orderId: string) => cloud.gateway!.refunds().filter((r) => r.orderId === orderId);
  const notifications = (orderId: string) =>
    cloud.sns
      .messages(cloud.output("notificationsTopicArn"))
      .map((m) => JSON.parse(m.message) as Record<string, unknown>)
      .filter((m) => m.orderId === orderId);
  const summary = (scenario: string, expected: string, got: string) => faultMatrixSummary.push({ scenario, expected, got });
  const outcome = (run: OrderRun) => `${run.orderStatus ?? "no order"} via ${run.execution.path.at(-1)} (${run.execution.status})`;

  it("1. retries transient Lambda errors and throttling on every order step with backoff, then completes", async () => {
    const run = orders.get("fm-transient")!;
    expect(run.execution.path).to.deep.equal([
      "OrderPlacement", "OrderPlacement", "PaymentProcessing", "PaymentProcessing", "InventoryManagement", "InventoryManagement",
      "Shipping", "Shipping", "Notification", "Notification", "OrderCompleted",
    ]);
    expect(run.execution.trace.filter((t) => t.kind === "failed").map((t) => t.detail!.split(":")[0])).to.deep.equal([
      "Lambda.ServiceException", "Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.TooManyRequestsException", "Lambda.ServiceException",
    ]);
    expect(run.execution.trace.filter((t) => t.kind === "retry")).to.have.length(5);
    expect(run.orderStatus).to.equal("COMPLETED");
    expect(charges("fm-transient").map((c) => c.status)).to.deep.equal(["succeeded"]);
    expect(await operator.stockOf("FM-RETRY")).to.equal(9);
    summary("transient Lambda errors / throttling on each step", "COMPLETED, each step retried once", `${outcome(run)}, ${run.execution.trace.filter((t) => t.kind === "retry").length} retries`);
  });

  it("2. records a declined card and insufficient funds as PAYMENT_FAILED, stock untouched, customer notified", async () => {
    for (const [id, code] of [["fm-declined", "card_declined"], ["fm-insufficient", "insufficient_funds"]]) {
      const run = orders.get(id)!;
      expect(run.execution.path, id).to.deep.equal(["OrderPlacement", "PaymentProcessing", "HandlePaymentFailure", "PaymentFailed"]);
      expect(run.orderStatus, id).to.equal("PAYMENT_FAILED");
      expect(charges(id).map((c) => [c.status, c.declineCode]), id).to.deep.equal([["declined", code]]);
      expect(notifications(id).map((m) => m.type), id).to.deep.equal(["PaymentFailed"]);
      summary(`payment ${code.replace("_", " ")}`, "PAYMENT_FAILED, stock untouched, notified", `${outcome(run)}, ${notifications(id).length} notification`);
    }
    expect(await operator.stockOf("FM-DECL")).to.equal(5);
  });

  it("3. bounds retries on a gateway that never answers, voids the uncertain charge and records PAYMENT_FAILED", async () => {
    const run = orders.get("fm-timeout")!;
    expect(run.execution.status).to.equal("SUCCEEDED");
    expect(run.execution.path).to.deep.equal(["OrderPlacement", "PaymentProcessing", "PaymentProcessing", "PaymentProcessing", "VoidUncertainCharge", "HandlePaymentFailure", "PaymentFailed"]);
    expect(run.orderStatus).to.equal("PAYMENT_FAILED");
    // The gateway never charged: there is nothing to void.
    expect(charges("fm-timeout")).to.deep.equal([]);
    expect(refunds("fm-timeout")).to.deep.equal([]);
    expect(await operator.stockOf("FM-TMO")).to.equal(5);
    summary("gateway never answers", "PAYMENT_FAILED via VoidUncertainCharge", `${outcome(run)}, ${run.execution.path.filter((s) => s === "PaymentProcessing").length} attempts, then ${run.execution.path[4]}`);
  });

  it("3b. refunds a charge whose answer was lost: one charge for three attempts, voided in full", async () => {
    const run = orders.get("fm-charge-lost")!;
    expect(run.execution.path).to.deep.equal(["OrderPlacement", "PaymentProcessing", "PaymentProcessing", "PaymentProcessing", "VoidUncertainCharge", "HandlePaymentFailure", "PaymentFailed"]);
    expect(run.orderStatus).to.equal("PAYMENT_FAILED");
    // The gateway charged on the first attempt and recognised the retries by their Idempotency-Key.
    const charged = charges("fm-charge-lost");
    expect(charged.map((c) => c.status)).to.deep.equal(["succeeded"]);
    expect(refunds("fm-charge-lost").map((r) => [r.chargeId, r.amount])).to.deep.equal([[charged[0]!.chargeId, charged[0]!.amount]]);
    expect(await operator.stockOf("FM-TMO")).to.equal(5);
    summary("gateway charges, answer lost", "PAYMENT_FAILED, the real charge refunded", `${outcome(run)}, ${charged.length} charge, ${refunds("fm-charge-lost").length} refund of ${charged[0]!.amount}`);
  });

  it("4. refunds and cancels an order whose stock another order took after placement, stock untouched", async () => {
    const run = orders.get("fm-oos")!;
    expect(run.execution.path).to.deep.equal(["OrderPlacement", "PaymentProcessing", "InventoryManagement", "RefundPayment", "CancelOrder", "OrderCancelled"]);
    expect(run.orderStatus).to.equal("CANCELLED");
    expect(refunds("fm-oos").map((r) => r.amount)).to.deep.equal([2 * PRICE]);
    // The other client's unit is gone; this order took nothing.
    expect(await operator.stockOf("FM-OOS")).to.equal(1);
    summary("stock taken between placement and reservation", "CANCELLED, refunded, stock untouched", `${outcome(run)}, refunds ${refunds("fm-oos").length}`);
  });

  it("5a. refuses at placement, before any charge, what it can know: destination, currency, stock", async () => {
    const reasons = {
      "fm-nowhere": "shipTo.country: we do not ship to JP; supported destinations: DE, FR, NL, GB, US",
      "fm-wrong-currency": "currency: the store sells in EUR only, got USD",
      "fm-too-many": 'items[0].quantity: 6 of "FM-KNOWN" requested, 5 in stock',
    };
    for (const [id, reason] of Object.entries(reasons)) {
      const run = orders.get(id)!;
      expect(run.execution.path, id).to.deep.equal(["OrderPlacement", "OrderRejected"]);
      expect(run.orderStatus, id).to.equal("REJECTED");
      expect((await operator.order(id))!.reason, id).to.equal(reason);
      expect(charges(id), id).to.deep.equal([]);
    }
    expect(await operator.stockOf("FM-KNOWN")).to.equal(5);
    summary("destination / currency / stock known not to work", "REJECTED at placement, no charge, stock untouched", Object.keys(reasons).map((id) => `${orders.get(id)!.orderStatus} (${charges(id).length} charges)`).join(" / "));
  });

  it("5b. releases stock, refunds and cancels when shipping fails after payment", async () => {
    const run = orders.get("fm-noship")!;
    expect(run.execution.path).to.deep.equal(["OrderPlacement", "PaymentProcessing", "InventoryManagement", "Shipping", "ReleaseInventory", "RefundPayment", "CancelOrder", "OrderCancelled"]);
    expect(run.orderStatus).to.equal("CANCELLED");
    expect(await operator.stockOf("FM-SHIP")).to.equal(5);
    expect(await operator.shipment("fm-noship")).to.equal(undefined);
    expect(refunds("fm-noship").map((r) => r.amount)).to.deep.equal([2 * PRICE]);
    summary("shipping failure", "CANCELLED, stock released, refunded", outcome(run));
  });

  it("6. keeps a failed notification on the failed-notifications queue; the order stays COMPLETED", async () => {
    const run = orders.get("fm-notify")!;
    expect(run.execution.path.slice(-3)).to.deep.equal(["Notification", "KeepFailedNotification", "OrderCompleted"]);
    expect(run.orderStatus).to.equal("COMPLETED");
    const parked = cloud.sqs.messages(cloud.output("failedNotificationsQueueUrl")).map((m) => JSON.parse(m.body)).filter((m) => m.orderId === "fm-notify");
    expect(parked).to.have.length(1);
    expect(parked[0]).to.include({ type: "OrderCompleted" });
    expect(notifications("fm-notify")).to.deep.equal([]);
    summary("notification failure", "COMPLETED, message parked on SQS", `${outcome(run)}, ${parked.length} parked`);
  });

  it("7. makes one order and one charge of the same orderId submitted twice, concurrently and in sequence", async () => {
    for (const id of ["fm-dup-concurrent", "fm-dup-sequence"]) {
      const runs = [executions.get(`${id}-a`)!, executions.get(`${id}-b`)!];
      expect(runs.map((e) => e.status), id).to.deep.equal(["SUCCEEDED", "SUCCEEDED"]);
      expect(runs.map((e) => e.path.at(-1)), id).to.deep.equal(["OrderCompleted", "OrderCompleted"]);
      expect((await operator.order(id))?.status, id).to.equal("COMPLETED");
      expect(charges(id).filter((c) => c.status === "succeeded"), id).to.have.length(1);
      expect(refunds(id), id).to.deep.equal([]);
      expect(await operator.shipment(id), id).to.include({ orderId: id });
      summary(`same orderId twice, ${id.endsWith("concurrent") ? "concurrently" : "in sequence"}`, "one order, one charge", `${(await operator.order(id))?.status}, ${charges(id).length} charge(s), ${refunds(id).length} refunds`);
    }
    expect(await operator.stockOf("FM-DUP")).to.equal(10 - 1 - 2);
  });

  it("8. has no double effect when a step dies after its write and is retried", async () => {
    const run = orders.get("fm-partial")!;
    expect(run.orderStatus).to.equal("COMPLETED");
    for (const state of ["OrderPlacement", "PaymentProcessing", "InventoryManagement", "Shipping"]) {
      expect(run.execution.path.filter((s) => s === state), state).to.have.length(2);
    }
    expect(charges("fm-partial").map((c) => c.status)).to.deep.equal(["succeeded"]);
    expect(await operator.stockOf("FM-PARTIAL")).to.equal(8);
    expect(await operator.shipment("fm-partial")).to.include({ orderId: "fm-partial" });
    expect(cloud.lambda.invocations.filter((r) => r.fault === "Lambda.ServiceException" && r.outcome === "service-error" && r.durationMs > 0).length).to.be.at.least(4);
    summary("step dies after its write (retried)", "COMPLETED, one charge, stock once, one shipment", `${outcome(run)}, ${charges("fm-partial").length} charge, stock ${await operator.stockOf("FM-PARTIAL")}`);
  });

  it("9. rejects malformed orders field by field, naming the field, writing nothing else", async () => {
    for (const m of MALFORMED) {
      const run = orders.get(m.id)!;
      expect(run.execution.path, m.id).to.deep.equal(["OrderPlacement", "OrderRejected"]);
      expect(run.orderStatus, m.id).to.equal("REJECTED");
      const cause = JSON.parse((run.execution.output as { error: { Cause: string } }).error.Cause);
      expect(cause.errorMessage, m.id).to.match(new RegExp(`(^|; )${m.field.replace(/[.[\]]/g, "\\$&")}: `));
      expect((await operator.order(m.id))!.reason, m.id).to.contain(`${m.field}: `);
      expect(charges(m.id), m.id).to.deep.equal([]);
      expect(await operator.shipment(m.id), m.id).to.equal(undefined);
    }
    const noId = executions.get("fm-bad-missing-order-id")!;
    expect(noId.path).to.deep.equal(["OrderPlacement", "OrderRejected"]);
    expect(JSON.parse((noId.output as { error: { Cause: string } }).error.Cause).errorMessage).to.match(/(^|; )orderId: /);
    expect(await operator.stockOf("FM-MAL")).to.equal(10);
    summary(`malformed orders (${MALFORMED.length + 1} fields)`, "REJECTED naming the field, nothing written", `${MALFORMED.filter((m) => orders.get(m.id)!.orderStatus === "REJECTED").length + 1} rejected`);
  });

  it("10. refuses an input over the 256 KB state payload limit at StartExecution, writing nothing", async () => {
    const huge = { ...order("fm-huge", "tok_visa", [{ sku: "FM-MAL", quantity: 1 }]), padding: "x".repeat(256 * 1024) };
    const executionsBefore = cloud.sfn.executions.size;
    expect(() => cloud.startExecution(orderSm, huge, "fm-huge")).to.throw(/Member must have length less than or equal to 262144/);
    const sfn = new SFNClient(cloud.clientConfig());
    try {
      const err = await sfn.send(new StartExecutionCommand({ stateMachineArn: orderSm, name: "fm-huge", input: JSON.stringify(huge) })).catch((e: Error) => e);
      expect((err as Error).name).to.equal("ValidationException");
    } finally {
      sfn.destroy();
    }
    expect(cloud.sfn.executions.size).to.equal(executionsBefore);
    expect(await operator.order("fm-huge")).to.equal(undefined);
    summary("input over 256 KB", "ValidationException at StartExecution, nothing written", "ValidationException, no execution, no order");
  });

  it("11. rejects an unknown SKU before any charge", async () => {
    const run = orders.get("fm-unknown-sku")!;
    expect(run.execution.path).to.deep.equal(["OrderPlacement", "OrderRejected"]);
    expect(run.orderStatus).to.equal("REJECTED");
    expect((await operator.order("fm-unknown-sku"))!.reason).to.contain("items[0].sku: ");
    expect(charges("fm-unknown-sku")).to.deep.equal([]);
    summary("unknown SKU", "REJECTED, no charge", outcome(run));
  });

  it("12. completes exactly one of two orders racing for the last unit and refunds the other", async () => {
    const runs = [orders.get("fm-race-1")!, orders.get("fm-race-2")!];
    expect(runs.map((r) => r.orderStatus).sort()).to.deep.equal(["CANCELLED", "COMPLETED"]);
    const loser = runs.find((r) => r.orderStatus === "CANCELLED")!;
    expect(refunds(loser.orderId!).map((r) => r.amount)).to.deep.equal([PRICE]);
    expect(await operator.stockOf("FM-LAST")).to.equal(0);
    summary("two orders race for the last unit", "one COMPLETED, one CANCELLED + refund", runs.map(outcome).join(" / "));
  });

  it("13a. records a crashed and a hung Fargate export as FAILED by the heartbeat timeout, as Step Functions sees them", async () => {
    // Step Functions learns nothing from a container's exit: both surface as a missed heartbeat, States.Timeout.
    // The exit code stays in the local trace.
    for (const [id, exit] of [["fm-crash", /exit 137/], ["fm-hang", /skipped: the container hangs/]] as const) {
      const run = exportsRun.get(id)!;
      expect(run.execution.path.slice(-3), id).to.deep.equal(["ExportOnFargate", "RecordJobFailed", "ExportFailed"]);
      const job = (await operator.exportJob(id))!;
      expect(job.status, id).to.equal("FAILED");
      expect(job.error, id).to.deep.include({ Error: "States.Timeout" });
      expect(run.execution.trace.map((t) => t.detail ?? "").join("\n"), id).to.match(exit).and.match(/no heartbeat for \d+ s \(HeartbeatSeconds\)/);
      summary(`Fargate container ${id === "fm-crash" ? "crashes (exit 137)" : "hangs (no heartbeat)"}`, "job FAILED: States.Timeout (heartbeat)", `${job.status}: ${(job.error as { Error: string }).Error}`);
    }
  });

  it("13b. keeps a Fargate export that stalls for half its heartbeat window, and fails one whose document vanished", async () => {
    // What a heartbeat does to the window (restarts it) is proven in runtime.test.ts: here the container's own
    // heartbeats run on its real clock, which does not see the skipped stall, so only its first one falls in this run.
    const stall = exportsRun.get("fm-stall")!;
    expect(stall.execution.trace.map((t) => t.detail ?? "").join("\n")).to.include(`the container stalls for ${heartbeatSeconds / 2} s`);
    expect(stall.execution.status).to.equal("SUCCEEDED");
    expect(stall.runtime).to.equal("fargate");
    expect(cloud.sfn.tokensOf(stall.execution.executionArn).map((t) => [t.status, t.heartbeats > 0])).to.deep.equal([["succeeded", true]]);
    const vanished = exportsRun.get("fm-vanishing")!;
    expect(vanished.execution.path.slice(-3)).to.deep.equal(["ExportOnFargate", "RecordJobFailed", "ExportFailed"]);
    expect(cloud.sfn.tokensOf(vanished.execution.executionArn).map((t) => t.status)).to.deep.equal(["failed"]);
    const job = (await operator.exportJob("fm-vanishing"))!;
    expect(job.status).to.equal("FAILED");
    expect(JSON.stringify(job)).to.contain("fm-vanishing.json");
    summary(`Fargate container stalls ${heartbeatSeconds / 2} s (< HeartbeatSeconds)`, "SUCCEEDED: the window covers the stall", `${stall.execution.status}, ${cloud.sfn.tokensOf(stall.execution.executionArn)[0].heartbeats} heartbeat(s)`);
    summary("document gone when the container reads it", "job FAILED via SendTaskFailure", `${job.status}: ${vanished.execution.error?.error}`);
  });

  it("14. falls back to the Fargate task when the Lambda exporter times out", async () => {
    const run = exportsRun.get("fm-lambda-timeout")!;
    expect(run.execution.path.slice(-4)).to.deep.equal(["ExportSvg", "ExportOnFargate", "RecordJobSucceeded", "ExportSucceeded"]);
    expect(run.execution.trace.find((t) => t.kind === "failed" && t.state === "ExportSvg")?.detail).to.match(/^Sandbox\.Timedout/);
    expect(run.runtime).to.equal("fargate");
    expect(await operator.exportJob("fm-lambda-timeout")).to.include({ status: "SUCCEEDED", runtime: "fargate" });
    summary("Lambda exporter timeout", "SUCCEEDED on Fargate", `${run.execution.status}, runtime ${run.runtime}`);
  });

  it("15. fails an unknown document formatVersion clearly and upgrades a v1 document on read", async () => {
    const v3 = exportsRun.get("fm-v3")!;
    expect(v3.execution.error!.error).to.equal("UnsupportedFormatVersion");
    expect(v3.execution.error!.cause).to.contain("formatVersion 3 is not supported");
    expect(await operator.exportJob("fm-v3")).to.include({ status: "FAILED" });
    const v1 = exportsRun.get("fm-v1")!;
    expect(v1.execution.status).to.equal("SUCCEEDED");
    expect((await operator.exportedObject((v1.execution.output as { outputKey: string }).outputKey)).body.subarray(0, 5).toString()).to.equal("%PDF-");
    summary("document formatVersion 3 / 1", "FAILED UnsupportedFormatVersion / SUCCEEDED", `${v3.execution.error!.error} / ${v1.execution.status}`);
  });

  it("16. surfaces a call the handler's role does not allow as AccessDenied, compensated to a recorded terminal state", async () => {
    const run = orders.get("fm-denied")!;
    expect(run.execution.trace.filter((t) => t.kind === "failed" && t.state === "Shipping").map((t) => t.detail!.split(":")[0])).to.deep.equal(["AccessDeniedException"]);
    const error = (run.execution.output as { error: { Error: string; Cause: string } }).error;
    expect(error.Error).to.equal("AccessDeniedException");
    expect(JSON.parse(error.Cause).errorMessage).to.match(/assumed-role\/[^/]+-shipping-role\/.* is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:[^ ]+:table\//);
    expect(run.execution.path.slice(-4)).to.deep.equal(["ReleaseInventory", "RefundPayment", "CancelOrder", "OrderCancelled"]);
    expect(run.orderStatus).to.equal("CANCELLED");
    expect(await operator.stockOf("FM-DENY")).to.equal(5);
    expect(refunds("fm-denied").map((r) => r.amount)).to.deep.equal([2 * PRICE]);
    const denials = cloud.principals.accessLog.filter((e) => !e.allowed);
    expect(denials.map((d) => `${d.principal} ${d.action}`)).to.include(`lambda:${cloud.functionOfState(orderSm, "Shipping")} dynamodb:PutItem`);
    summary("a grant removed (Shipping: dynamodb:PutItem)", "AccessDenied in the cause, CANCELLED + refund", `${error.Error} at Shipping, ${outcome(run)}`);
  });

  it("leaves every order terminal, no charge without its order, no cancelled paid order unrefunded, no stock below zero, nothing RUNNING", async () => {
    const { Items: allOrders = [] } = await operator.db.send(new ScanCommand({ TableName: cloud.output("ordersTable"), ConsistentRead: true }));
    const { Items: stock = [] } = await operator.db.send(new ScanCommand({ TableName: cloud.output("inventoryTable"), ConsistentRead: true }));
    const byId = new Map(allOrders.map((o) => [o.orderId as string, o]));
    const running = [...cloud.sfn.executions.values()].filter((e) => e.status === "RUNNING");
    expect(running.map((e) => e.name)).to.deep.equal([]);
    // PLACED is not terminal; it is allowed only where the execution failed in OrderPipelineFailed (the alarm fires).
    const pipelineFailed = new Set([...cloud.sfn.executions.values()].filter((e) => e.path.at(-1) === "OrderPipelineFailed").map((e) => (e.input as { orderId?: string }).orderId));
    expect(allOrders.filter((o) => !["COMPLETED", "REJECTED", "PAYMENT_FAILED", "CANCELLED"].includes(o.status) && !pipelineFailed.has(o.orderId)).map((o) => `${o.orderId} ${o.status}`)).to.deep.equal([]);
    const paid = cloud.gateway!.charges().filter((c) => c.status === "succeeded");
    expect(paid.filter((c) => !byId.has(c.orderId)).map((c) => c.orderId), "charges without an order").to.deep.equal([]);
    const perOrder = new Map<string, number>();
    for (const c of paid) perOrder.set(c.orderId, (perOrder.get(c.orderId) ?? 0) + 1);
    expect([...perOrder].filter(([, n]) => n > 1), "double charges").to.deep.equal([]);
    const unrefunded = paid.filter((c) => ["CANCELLED", "PAYMENT_FAILED"].includes(byId.get(c.orderId)?.status) && refunds(c.orderId).reduce((n, r) => n + r.amount, 0) !== c.amount);
    expect(unrefunded.map((c) => c.orderId), "cancelled paid orders without a full refund").to.deep.equal([]);
    expect(stock.filter((i) => (i.stock as number) < 0).map((i) => i.sku)).to.deep.equal([]);
    expect(allOrders.filter((o) => o.status === "COMPLETED" && !o.orderId.startsWith("e2e-")).length).to.be.greaterThan(0);
    summary("invariants over the stores", "0 lost, 0 double charges, 0 unrefunded, 0 negative stock, 0 RUNNING", `${allOrders.length} orders, ${paid.length} paid, ${running.length} running`);
  });
});
