import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { ExportPipeline, exportPipelineArgs } from "../../infra/export-pipeline";
import type { LambdaFunction } from "../../infra/lambda-function";
import { OrderPipeline, orderPipelineArgs } from "../../infra/order-pipeline";
import { ofType, promiseOf, settled, setupMocks } from "../mocks";
import { stackSettings } from "../stacks";

const ROOT = path.resolve(__dirname, "..", "..");
const PREFIX = "wiring-dev";
const ALARMS = "arn:aws:sns:eu-central-1:000000000000:alarms";
/** Every handler entry point: one file per function under handlers/. */
const ENTRY_POINTS = fs.readdirSync(path.join(ROOT, "handlers")).filter((f) => f.endsWith(".ts")).map((f) => path.join(ROOT, "handlers", f));

/**
 * The wiring the names promise: each function runs the handler file of its own name (what esbuild actually bundled,
 * from its metafile), deploys that bundle, and each Task state invokes the function that does what the state says.
 */
describe("function wiring (Pulumi mocks)", function () {
  this.timeout(120_000);
  let functions: Record<string, LambdaFunction>;
  let definitions: Record<string, { States: Record<string, any> }>;

  before(async () => {
    await setupMocks();
    // Names of their own: the mocks' registry is shared with the other infra tests of this process.
    const orders = new OrderPipeline("wiring-orders", orderPipelineArgs(stackSettings("dev"), { namePrefix: PREFIX, paymentGatewayKey: "k", alarmTopicArn: ALARMS }));
    const exports = new ExportPipeline("wiring-exports", exportPipelineArgs(stackSettings("dev"), { namePrefix: PREFIX, alarmTopicArn: ALARMS }));
    functions = { ...orders.functions, ...exports.functions } as Record<string, LambdaFunction>;
    definitions = {
      orders: JSON.parse(await promiseOf(orders.stateMachine.definition)),
      exports: JSON.parse(await promiseOf(exports.stateMachine.definition)),
    };
    await settled();
  });

  it("bundles, for each function, the handler file named like the function and no other handler", async () => {
    const checked: string[] = [];
    for (const fn of Object.values(functions)) {
      const name = await promiseOf(fn.function.name);
      const handler = path.join(ROOT, "handlers", `${name.slice(PREFIX.length + 1)}.ts`);
      const { inputs } = await promiseOf(fn.bundle);
      const resolved = inputs.map((input) => path.resolve(ROOT, input));
      expect(resolved, name).to.include(handler);
      expect(ENTRY_POINTS.filter((entry) => entry !== handler && resolved.includes(entry)), `${name}: other handlers`).to.deep.equal([]);
      checked.push(name);
    }
    expect(checked).to.have.length(15);
  });

  it("deploys exactly that bundle as each function's code", async () => {
    const registered = ofType("aws:lambda/function:Function", "wiring-");
    for (const fn of Object.values(functions)) {
      const name = await promiseOf(fn.function.name);
      const resource = registered.find((r) => r.inputs.name === name)!;
      expect(await archivePath(resource.inputs.code), name).to.equal((await promiseOf(fn.bundle)).dir);
    }
  });

  it("invokes from each Task state the function that does what the state says", () => {
    const expected: Record<string, string> = {
      OrderPlacement: "order-placement",
      PaymentProcessing: "payment-processing",
      // Voiding a charge whose outcome is unknown is a refund by orderId.
      VoidUncertainCharge: "refund-payment",
      HandlePaymentFailure: "handle-payment-failure",
      InventoryManagement: "inventory-management",
      Shipping: "shipping",
      ReleaseInventory: "release-inventory",
      RefundPayment: "refund-payment",
      CancelOrder: "cancel-order",
      Notification: "notification",
      RecordJobStarted: "export-job-status",
      EstimateExport: "export-estimate",
      ExportSvg: "export-svg",
      ExportPdf: "export-pdf",
      SplitExport: "export-split",
      ExportSvgPages: "export-svg",
      ExportPdfPages: "export-pdf",
      CombineExport: "export-combine",
      RecordJobSucceeded: "export-job-status",
      RecordJobFailed: "export-job-status",
    };
    const invoked: Record<string, string> = {};
    const walk = (states: Record<string, any>) => {
      for (const [name, state] of Object.entries(states)) {
        const fn = new RegExp(`^arn:aws:lambda:[^:]+:\\d+:function:${PREFIX}-([a-z-]+):live$`).exec(state.Resource ?? "")?.[1];
        if (fn !== undefined) invoked[name] = fn;
        for (const nested of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) if (nested) walk(nested.States);
      }
    };
    for (const definition of Object.values(definitions)) walk(definition.States);
    expect(invoked).to.deep.equal(expected);
  });
});

/** The folder a FileArchive (or an output of one) points at. */
async function archivePath(code: unknown): Promise<string> {
  const archive = (await code) as { path?: unknown };
  return (await archive.path) as string;
}
