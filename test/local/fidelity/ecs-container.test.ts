import { expect } from "chai";
import type { LocalCloud } from "../../../local/cloud";
import { mayExecute } from "../../../local/runtimes/ecs/runtime";
import { sharedMini } from "../support";

/**
 * A Fargate container runs as the task definition says: its user, a read-only root file system with only its
 * writable mount points (`/tmp`), killed with exit code 137 when its memory passes the task's; ECS gives it the task
 * metadata endpoint and the task role's credentials through the credentials endpoint — and no ECS_TASK_ARN.
 * Sources: Amazon ECS docs, "Task definition parameters" (user, readonlyRootFilesystem, mountPoints, memory),
 * "Amazon ECS task metadata endpoint version 4 for tasks on Fargate", "Amazon ECS task IAM role" (credentials
 * endpoint); stopped reason "OutOfMemoryError: Container killed due to memory usage" (Amazon ECS troubleshooting,
 * "Stopped tasks error codes"). Environment seen in real dumps: awsdocs/amazon-ecs-developer-guide issue #50.
 */
describe("fidelity: a Fargate container as ECS runs it", function () {
  this.timeout(60_000);
  let cloud: LocalCloud;
  before(async () => {
    cloud = await sharedMini();
  });

  const runTask = (mode: string, id: string) => cloud.run("mini-flow", { scenario: "ecs", mode, job: { id } });

  it("runs as the task definition's user, writes to /tmp only, and finds its task through the metadata endpoint and its credentials through the credentials endpoint", async () => {
    const e = await runTask("inspect", "fid-inspect");
    expect(e.status).to.equal("SUCCEEDED");
    const result = (e.output as { result: Record<string, unknown> }).result;
    const task = cloud.ecs.tasks.at(-1)!;
    expect(result).to.deep.include({
      besideCode: "ERR_ACCESS_DENIED",
      tmp: "written",
      taskArn: task.taskArn,
      family: "mini-worker",
      staticKeys: false,
      credentialsUri: true,
      ecsTaskArnVariable: false,
      executionEnv: "AWS_ECS_FARGATE",
    });
    // The user is switched where this process may (root, and the user can reach this machine's Node); elsewhere the
    // task says why not.
    if (process.getuid?.() !== 0) expect(task.notes.join(" ")).to.contain("switching user needs root");
    else if (mayExecute(process.execPath, 1000, 1000)) expect(result.uid).to.equal(1000);
    else expect(task.notes.join(" ")).to.contain(`not 1000:1000: that user cannot reach ${process.execPath}`);
  });

  it("kills a container whose memory passes the task's with exit code 137, OutOfMemoryError", async () => {
    const e = await runTask("hog", "fid-hog");
    // Step Functions sees only the missing callback: the state fails on its heartbeat window.
    expect((e.output as { error: { Error: string } }).error.Error).to.equal("States.Timeout");
    const task = cloud.ecs.tasks.find((t) => t.stoppedReason?.startsWith("OutOfMemoryError"))!;
    expect([task.exitCode, task.stoppedReason]).to.deep.equal([137, "OutOfMemoryError: Container killed due to memory usage"]);
  });
});
