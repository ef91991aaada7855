import { expect } from "chai";
import type { ResolvedStatement } from "../../infra/policy";
import { exportWorkflow } from "../../infra/export-workflow";
import type { AslDefinition } from "../../infra/workflow";
import { allStates, expectGolden, expectValidAsl, withStates } from "./asl";
import { EXPORT_FUNCTIONS, EXPORT_PROPS, EXPORT_WORKER } from "./golden/sources";

const functions = EXPORT_FUNCTIONS;
const worker = EXPORT_WORKER;

describe("export workflow", () => {
  let definition: AslDefinition;
  let statements: ResolvedStatement[];
  let states: Record<string, any>;
  beforeEach(() => ({ definition, statements, states } = withStates(exportWorkflow(EXPORT_PROPS))));

  it("renders as the golden definition and passes asl-validator", () => {
    expectValidAsl(definition);
    expectGolden("export-workflow", definition);
  });

  it("runs the route the estimate chose: the format's Lambda, the Map, Fargate, or none — refused with its reason", () => {
    expect(states.ChooseRuntime.Choices).to.deep.equal([
      { And: [{ Variable: "$.estimate.route", StringEquals: "lambda" }, { Variable: "$.format", StringEquals: "svg" }], Next: "ExportSvg" },
      { And: [{ Variable: "$.estimate.route", StringEquals: "lambda" }, { Variable: "$.format", StringEquals: "pdf" }], Next: "ExportPdf" },
      { Variable: "$.estimate.route", StringEquals: "map", Next: "SplitExport" },
      { Variable: "$.estimate.route", StringEquals: "fargate", Next: "ExportOnFargate" },
    ]);
    expect(states.ChooseRuntime.Default).to.equal("RefuseExport");
    expect(states.RefuseExport).to.deep.include({ Type: "Pass", Parameters: { Error: "ExportNotPossible", "Cause.$": "$.estimate.reason" }, ResultPath: "$.error", Next: "RecordJobFailed" });
  });

  it("replaces the chunk list with the parts on the Map, so the state never carries both", () => {
    expect(states.ExportPages).to.deep.include({ ItemsPath: "$.split.chunks", ResultPath: "$.split" });
    expect(states.CombineExport.Parameters["parts.$"]).to.equal("$.split");
  });

  it("falls back to Fargate when a Lambda exporter runs out of time or memory, and records any other failure", () => {
    for (const name of ["ExportSvg", "ExportPdf"]) {
      expect(states[name].Catch, name).to.deep.equal([
        { ErrorEquals: ["States.Timeout", "Sandbox.Timedout", "Runtime.OutOfMemory", "Lambda.Unknown", "Runtime.ExitError"], Next: "ExportOnFargate", ResultPath: "$.lambdaError" },
        { ErrorEquals: ["States.ALL"], Next: "RecordJobFailed", ResultPath: "$.error" },
      ]);
      expect(states[name].TimeoutSeconds, name).to.equal(780);
    }
  });

  it("splits into a Map of page ranges with the configured concurrency, then combines", () => {
    expect(states.SplitExport.Next).to.equal("ExportPages");
    expect(states.ExportPages.Type).to.equal("Map");
    expect(states.ExportPages.MaxConcurrency).to.equal(7);
    expect(states.ExportPages.ItemsPath).to.equal("$.split.chunks");
    expect(Object.keys(states.ExportPages.ItemProcessor.States)).to.deep.equal(["ChooseChunkFormat", "ExportSvgPages", "ExportPdfPages"]);
    expect(states.ExportPages.Next).to.equal("CombineExport");
  });

  it("runs the Fargate task with a task token, a heartbeat and a timeout, passing the job and token as environment", () => {
    const fargate = states.ExportOnFargate;
    expect(fargate.Resource).to.equal("arn:aws:states:::ecs:runTask.waitForTaskToken");
    expect([fargate.HeartbeatSeconds, fargate.TimeoutSeconds]).to.deep.equal([120, 10_800]);
    expect(fargate.Parameters.Overrides.ContainerOverrides).to.deep.equal([
      {
        Name: "export-worker",
        Environment: [
          { Name: "TASK_TOKEN", "Value.$": "$$.Task.Token" },
          { Name: "EXPORT_JOB", "Value.$": "States.JsonToString($.job)" },
        ],
      },
    ]);
    expect(fargate.Catch).to.deep.equal([{ ErrorEquals: ["States.ALL"], Next: "RecordJobFailed", ResultPath: "$.error" }]);
  });

  it("gives every Task a timeout", () => {
    for (const [name, state] of allStates(definition)) {
      if (state.Type === "Task") expect(state.TimeoutSeconds, name).to.be.a("number");
    }
  });

  it("lets the role invoke its six aliases, run only its task definition's revisions in its cluster and pass only the task's two roles", () => {
    expect(statements).to.deep.equal([
      { sid: "InvokeFunctions", actions: ["lambda:InvokeFunction"], resources: Object.values(functions).sort() },
      {
        sid: "RunExportTask",
        actions: ["ecs:RunTask"],
        resources: ["arn:aws:ecs:eu-central-1:000000000000:task-definition/shop-dev-export-worker:*"],
        condition: { ArnEquals: { "ecs:cluster": worker.clusterArn } },
      },
      {
        sid: "PassExportTaskRoles",
        actions: ["iam:PassRole"],
        resources: [worker.taskRoleArn, worker.executionRoleArn],
        condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      },
    ]);
  });
});
