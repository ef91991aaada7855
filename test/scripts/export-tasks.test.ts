import { DescribeTasksCommand, ECSClient, ListTasksCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { listExportTasks, stopExportTask } from "../../scripts/export-tasks";
import { parseArgs } from "../../scripts/start-export";

describe("ops commands", () => {
  // Mocked for these tests only: mockClient replaces ECSClient's send for every client of the process until restored,
  // and other files talk to the local cloud's ECS API with real clients.
  let ecs: ReturnType<typeof mockClient>;
  before(() => (ecs = mockClient(ECSClient)));
  afterEach(() => ecs.reset());
  after(() => ecs.restore());

  it("lists running export tasks across pages with the job each one runs", async () => {
    ecs.on(ListTasksCommand).resolvesOnce({ taskArns: ["t1"], nextToken: "n" }).resolvesOnce({ taskArns: ["t2"] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: "t1", lastStatus: "RUNNING", cpu: "1024", memory: "4096", overrides: { containerOverrides: [{ environment: [{ name: "EXPORT_JOB", value: '{"jobId":"job-1"}' }] }] } },
        { taskArn: "t2", lastStatus: "RUNNING", overrides: { containerOverrides: [{ environment: [{ name: "EXPORT_JOB", value: "not json" }] }] } },
      ],
    });
    const tasks = await listExportTasks(new ECSClient({}), "cluster");
    expect(tasks.map((t) => [t.taskArn, t.jobId])).to.deep.equal([["t1", "job-1"], ["t2", null]]);
    expect(ecs.commandCalls(DescribeTasksCommand)[0].args[0].input).to.deep.equal({ cluster: "cluster", tasks: ["t1", "t2"] });
  });

  it("stops one task with the operator's reason", async () => {
    ecs.on(StopTaskCommand).resolves({ task: { lastStatus: "STOPPING" } });
    expect(await stopExportTask(new ECSClient({}), "c", "t1", "hung")).to.equal("STOPPING");
    expect(ecs.commandCalls(StopTaskCommand)[0].args[0].input).to.deep.equal({ cluster: "c", task: "t1", reason: "hung" });
  });

  it("builds the export request and names each bad flag", () => {
    const arn = "arn:aws:states:eu-central-1:1:stateMachine:x";
    expect(parseArgs(["--state-machine", arn, "--document", "documents/a.json", "--format", "pdf", "--one-worker", "--job-id", "j1"])).to.deep.equal({
      stateMachineArn: arn,
      request: { jobId: "j1", documentKey: "documents/a.json", format: "pdf", parallel: false },
      pollSeconds: 5,
    });
    expect(() => parseArgs(["--document", "d", "--format", "pdf"])).to.throw("--state-machine");
    expect(() => parseArgs(["--state-machine", arn, "--format", "pdf"])).to.throw("--document");
    expect(() => parseArgs(["--state-machine", arn, "--document", "d", "--format", "png"])).to.throw('--format must be "svg" or "pdf"');
  });
});
