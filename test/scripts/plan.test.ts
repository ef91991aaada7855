import { expect } from "chai";
import { planOf, renderPlan } from "../../scripts/plan";
import { programGraph } from "../../scripts/program-graph";

describe("npm run plan", function () {
  this.timeout(120_000);

  it("lists every function with the memory, timeout, runtime, bundle size and role actions the stack deploys", async () => {
    const plan = planOf(await programGraph("prod"));
    expect(plan.functions).to.have.length(15);
    const pdf = plan.functions.find((f) => f.name === "order-pipeline-prod-export-pdf")!;
    expect(pdf).to.deep.include({ component: "exports", memoryMb: 384, timeoutSeconds: 780, runtime: "nodejs24.x", reservedConcurrency: 50 });
    expect(pdf.bundleBytes).to.be.greaterThan(100_000);
    expect(pdf.actions).to.deep.equal(["logs:CreateLogStream", "logs:PutLogEvents", "s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]);
  });

  it("lists each state machine's states, Map iterations indented, and the Fargate task", async () => {
    const plan = planOf(await programGraph("dev"));
    const exportsMachine = plan.stateMachines.find((s) => s.name === "order-pipeline-dev-exports")!;
    expect(exportsMachine.states).to.include.members(["ExportPages", "  ExportPdfPages", "ExportOnFargate"]);
    expect(exportsMachine.actions).to.include.members(["ecs:RunTask", "iam:PassRole", "lambda:InvokeFunction"]);
    expect(plan.taskDefinitions).to.deep.equal([
      {
        name: "order-pipeline-dev-export-worker",
        cpu: "1024",
        memory: "2048",
        actions: ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject", "states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"],
      },
    ]);
    const text = renderPlan(plan);
    expect(text).to.match(/^Plan for stack "dev": \d+ resources/);
    expect(text).to.include("order-pipeline-dev-orders");
  });
});
