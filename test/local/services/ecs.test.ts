import { DescribeTasksCommand, ECSClient, ListTasksCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { expect } from "chai";
import type { LocalCloud } from "../../../local/cloud";
import type { ExecutionRecord } from "../../../local/runtimes/step-functions/runtime";
import { listExportTasks, stopExportTask } from "../../../scripts/export-tasks";
import { nextHeartbeat, sharedMini } from "../support";

/**
 * The ECS API scripts/export-tasks.ts calls (ListTasks, DescribeTasks, StopTask), with the AWS SDK v3 client against
 * the front door `serve` publishes (the shared mini cloud's), on a Fargate task a state machine started. Shapes per
 * the ECS API Reference (API_DescribeTasks: unknown tasks under `failures` with reason MISSING; API_StopTask: the
 * container gets SIGTERM, then SIGKILL after its stopTimeout; stopCode UserInitiated).
 */
describe("ECS API (SDK v3 against the front door)", function () {
  this.timeout(60_000);
  let cloud: LocalCloud;
  let ecs: ECSClient;
  let cluster: string;
  before(async () => {
    cloud = await sharedMini();
    ecs = new ECSClient(cloud.clientConfig());
    cluster = cloud.output("clusterArn");
  });
  after(() => ecs?.destroy());

  /** Starts the mini flow's Fargate task in "wait" mode (heartbeats until stopped); resolves once it heartbeats. */
  const startWorker = async (name: string): Promise<ExecutionRecord> => {
    const record = cloud.sfn.startExecution(cloud.output("stateMachineArn"), { scenario: "ecs", mode: "wait", job: { id: name } }, name);
    await nextHeartbeat(cloud, record.executionArn);
    return record;
  };

  it("lists a running task and stops it as scripts/export-tasks.ts does; the state then ends as a worker gone silent ends it", async () => {
    const record = await startWorker("ecs-api-stop");
    const [token] = cloud.sfn.tokensOf(record.executionArn);
    const task = cloud.ecs.tasks.find((t) => JSON.stringify(t.overrides).includes(token.token))!;
    const listed = await listExportTasks(ecs, cluster);
    expect(listed.find((t) => t.taskArn === task.taskArn)).to.deep.include({ lastStatus: "RUNNING", cpu: "256", memory: "512" });
    expect(await stopExportTask(ecs, cluster, task.taskArn, "hung export")).to.equal("RUNNING");
    const stopped = await task.stopped;
    // The worker leaves on SIGTERM with exit 0 (the fixture's handler): the stop is the user's, not the container's.
    expect([stopped.lastStatus, stopped.desiredStatus, stopped.stopCode, stopped.stoppedReason, stopped.exitCode]).to.deep.equal(["STOPPED", "STOPPED", "UserInitiated", "hung export", 0]);
    const e = await record.done;
    expect([e.status, e.path.at(-2)]).to.deep.equal(["SUCCEEDED", "Caught"]);
    const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [task.taskArn] }));
    expect(tasks![0]).to.deep.include({ taskArn: task.taskArn, lastStatus: "STOPPED", desiredStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "hung export", launchType: "FARGATE", group: "family:mini-worker" });
    expect(tasks![0].containers!.map((c) => [c.name, c.lastStatus, c.exitCode])).to.deep.equal([["worker", "STOPPED", 0]]);
    const running = (await ecs.send(new ListTasksCommand({ cluster }))).taskArns!;
    const stoppedList = (await ecs.send(new ListTasksCommand({ cluster, desiredStatus: "STOPPED" }))).taskArns!;
    expect([running.includes(task.taskArn), stoppedList.includes(task.taskArn)]).to.deep.equal([false, true]);
  });

  it("DescribeTasks names a task by ARN or id, puts unknown ones under failures, and ListTasks filters by family", async () => {
    const stoppedTask = cloud.ecs.tasks.find((t) => t.stoppedReason === "hung export")!;
    const unknown = `${cluster.replace(":cluster/", ":task/")}/0123456789abcdef0123456789abcdef`;
    const { tasks, failures } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [stoppedTask.taskId, unknown] }));
    expect([tasks!.map((t) => t.taskArn), failures]).to.deep.equal([[stoppedTask.taskArn], [{ arn: unknown, reason: "MISSING" }]]);
    const byFamily = await ecs.send(new ListTasksCommand({ cluster, family: "mini-worker", desiredStatus: "STOPPED" }));
    const otherFamily = await ecs.send(new ListTasksCommand({ cluster, family: "someone-else", desiredStatus: "STOPPED" }));
    expect([byFamily.taskArns!.includes(stoppedTask.taskArn), otherFamily.taskArns]).to.deep.equal([true, []]);
  });

  it("refuses an unknown cluster (ClusterNotFoundException) and StopTask of a task it does not know (InvalidParameterException)", async () => {
    const errorOf = (p: Promise<unknown>) => p.then(() => "no error", (err: Error) => err.name);
    expect(await errorOf(ecs.send(new ListTasksCommand({ cluster: "arn:aws:ecs:eu-west-1:000000000000:cluster/nope" })))).to.equal("ClusterNotFoundException");
    expect(await errorOf(ecs.send(new StopTaskCommand({ cluster, task: "0123456789abcdef0123456789abcdef" })))).to.equal("InvalidParameterException");
  });
});
