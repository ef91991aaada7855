import { expect } from "chai";
import { formatBoot } from "../../local/report";
import { SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import type { LocalCloud } from "../../local/cloud";
import type { ExecutionRecord } from "../../local/runtimes/step-functions/runtime";
import { bootMini, printCoverage } from "./support";

/**
 * The runtimes' semantics, on a throwaway program (test/local/fixtures/mini) whose state machine routes on
 * `$.scenario`: how Lambda outcomes, service integrations and ECS task tokens surface to the workflow.
 */
describe("local cloud runtimes (mini program)", function () {
  this.timeout(30_000);
  let cloud: LocalCloud;

  before(async () => {
    cloud = await bootMini();
  });
  after(async () => {
    printCoverage(cloud);
    await cloud?.stop();
  });

  const run = (input: Record<string, unknown>) => cloud.run("mini-flow", input);

  describe("provisioning from the resource graph", () => {
    it("answers registrations with realistic state and exports the program's outputs", () => {
      expect(cloud.output("stateMachineArn")).to.equal("arn:aws:states:eu-west-1:000000000000:stateMachine:mini-flow");
      expect(cloud.output("queueUrl")).to.match(/^https:\/\/sqs\.eu-west-1\.amazonaws\.com\/000000000000\/parked-[0-9a-f]{7}$/);
      const fn = cloud.lambda.functions().find((f) => f.name === "mini-echo")!;
      expect(fn).to.include({ memorySize: 128, timeoutSeconds: 3, handler: "index.handler", roleArn: "arn:aws:iam::000000000000:role/mini-echo-role" });
      expect(fn.environment).to.deep.equal({ GREETING: "hello", PAGES: "3" });
    });

    it("creates the table with the key schema the program declared and stores the SecureString from secret config", () => {
      expect(cloud.dynamodb.tables.get(cloud.output("tableName"))).to.include({ hashKey: "pk" });
      const parameter = cloud.ssm.get("/mini/api-key")!;
      expect(parameter.type).to.equal("SecureString");
      expect(parameter.value).to.match(/^local-[0-9a-f]{32}$/);
      expect(cloud.config.notes.join("\n")).to.contain("mini-cloud:apiKey: secure value cannot be decrypted locally");
    });

    it("says where its boot's time went, phase by phase, in the boot line", () => {
      expect(cloud.bootPhases.map((p) => p.name)).to.deep.equal([
        "stack config and payment gateway",
        "dynalite, s3rver and the front door",
        cloud.graphCached ? "program: graph replayed from the cache" : "program: run under mocks (bundling what changed)",
        "IAM policy check",
        "provisioned concurrency and tables ready",
        "persisted state and container images",
      ]);
      expect(formatBoot(cloud)).to.contain(`boot: stack config and payment gateway ${cloud.bootPhases[0].ms} ms, `);
    });

    it("records component and unknown resource types without provisioning them", () => {
      const repo = cloud.provider.ofType("aws:ecr/repository:Repository")[0];
      expect(repo.provisioned).to.equal(false);
      expect(repo.state.repositoryUrl).to.match(/^000000000000\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/worker-repo-/);
      expect(cloud.provider.rolePolicies.find((p) => p.roleName === "mini-store-role")?.document).to.have.property("Statement");
    });
  });

  describe("Lambda runtime", () => {
    // The two timeout scenarios each take a second of wall time (ASL's smallest TimeoutSeconds): started together,
    // before the other tests of this block, they overlap with them.
    let functionTimeout: Promise<ExecutionRecord>;
    let stateTimeout: Promise<ExecutionRecord>;
    before(() => {
      // The handler sleeps far longer than either timeout: nothing races, only the timeout can end it.
      functionTimeout = run({ scenario: "timeout", ms: 600_000 });
      stateTimeout = run({ scenario: "state-timeout", ms: 600_000 });
    });

    it("runs the bundle with the function's own environment, memory size and credentials", async () => {
      const e = await run({ scenario: "echo" });
      expect(e.status).to.equal("SUCCEEDED");
      const out = e.output as Record<string, unknown>;
      expect(out).to.include({ greeting: "hello", functionName: "mini-echo", memory: "128", endpoint: cloud.frontDoor.url });
      expect(out.accessKey).to.equal(cloud.principals.find("lambda", "mini-echo")!.accessKeyId);
      expect(out.remainingMs).to.be.within(1, 3000);
    });

    it("reuses a warm environment for the next invocation and shows cold/warm in the trace", async () => {
      const first = cloud.lambda.invocations.filter((r) => r.functionName === "mini-echo").length;
      const e = await run({ scenario: "echo" });
      const records = cloud.lambda.invocations.filter((r) => r.functionName === "mini-echo");
      expect(records.length).to.equal(first + 1);
      expect(records.at(-1)!.cold).to.equal(false);
      expect(e.trace.some((t) => t.kind === "lambda" && /mini-echo:live warm/.test(t.detail ?? ""))).to.equal(true);
    });

    it("hands a function an event of up to Lambda's 6 MB whole, and refuses a larger one with RequestTooLargeException", async () => {
      // The event is many times the 64 KB the environment reads at once, and 5 MB of it two-byte characters.
      const blob = "é".repeat(2_500_000);
      const big = await cloud.lambda.invoke("mini-bulk", { blob });
      expect(big.ok).to.equal(true);
      if (big.ok) expect((big.payload as { blob: string }).blob === blob, "the echoed blob differs from the one sent").to.equal(true);
      // Lambda takes a 5.8 MB event at 128 MB, again and again: reading it must not cost the function copies of it.
      expect(cloud.lambda.functions().find((f) => f.name === "mini-bulk")!.memorySize).to.equal(128);
      for (let i = 0; i < 3; i++) {
        const near = await cloud.lambda.invoke("mini-bulk", { blob: "x".repeat(5_800_000), i });
        expect(near.ok, `invocation ${i}: ${near.ok ? "" : `${near.error.errorType} ${near.error.errorMessage}`}`).to.equal(true);
      }

      const tooBig = await cloud.lambda.invoke("mini-bulk", { blob: "x".repeat(6 * 1024 * 1024) });
      expect(tooBig.ok).to.equal(false);
      if (!tooBig.ok) expect(tooBig.error.errorType).to.equal("RequestTooLargeException");
    });

    it("fails an invocation whose answer passes 6 MB with Function.ResponseSizeTooLarge", async () => {
      // An event 100 bytes under the limit: the echo adds its name, key, endpoint and request id, a few hundred more.
      const blob = "x".repeat(6 * 1024 * 1024 - 100 - JSON.stringify({ blob: "" }).length);
      const answer = await cloud.lambda.invoke("mini-bulk-roomy", { blob });
      expect(answer.ok).to.equal(false);
      if (!answer.ok) expect([answer.error.errorType, answer.error.errorMessage]).to.deep.equal(["Function.ResponseSizeTooLarge", "Response payload size exceeded maximum allowed payload size (6291456 bytes)."]);
    });

    it("starts more environments for concurrent invocations, one invocation each", async () => {
      const results = await Promise.all([1, 2, 3].map(() => cloud.lambda.invoke("mini-sleep", { ms: 200 })));
      expect(results.map((r) => [r.ok, r.record.cold])).to.deep.equal([
        [true, true],
        [true, true],
        [true, true],
      ]);
    });

    it("surfaces an uncaught error by its name, with the Lambda cause document", async () => {
      const e = await run({ scenario: "fail", who: "Ada" });
      expect(e.path).to.deep.equal(["Route", "Do-fail", "Caught", "Done"]);
      const error = (e.output as { error: { Error: string; Cause: string } }).error;
      expect(error.Error).to.equal("Boom");
      const cause = JSON.parse(error.Cause);
      expect(cause).to.include({ errorType: "Boom", errorMessage: "it went boom for Ada" });
      expect(cause.trace[0]).to.equal("Boom: it went boom for Ada");
    });

    it("stops a function at its own timeout with Sandbox.Timedout, an ordinary task error (States.TaskFailed, not States.Timeout)", async () => {
      const e = await functionTimeout;
      expect(e.path).to.deep.equal(["Route", "Do-timeout", "Caught", "Done"]);
      const error = (e.output as { error: { Error: string; Cause: string } }).error;
      expect(error.Error).to.equal("Sandbox.Timedout");
      expect(JSON.parse(error.Cause)).to.include({ errorType: "Sandbox.Timedout" });
      expect(JSON.parse(error.Cause).errorMessage).to.match(/Task timed out after 1\.00 seconds$/);
      // Found by its caller: the file's other invocations of mini-sleep may finish after it on a busy machine.
      const invocation = cloud.lambda.invocations.filter((r) => r.functionName === "mini-sleep" && r.caller?.endsWith("/Do-timeout"));
      expect(invocation.map((r) => r.outcome)).to.deep.equal(["timeout"]);
    });

    it("fails a Task whose own TimeoutSeconds runs out first with States.Timeout, which States.TaskFailed does not catch", async () => {
      const e = await stateTimeout;
      expect(e.path).to.deep.equal(["Route", "Do-state-timeout", "Caught", "Done"]);
      expect((e.output as { error: { Error: string } }).error.Error).to.equal("States.Timeout");
    });

    it("reports running out of memory as Runtime.OutOfMemory and replaces the environment", async () => {
      const e = await run({ scenario: "oom" });
      expect(e.path).to.deep.equal(["Route", "Do-oom", "Caught", "Done"]);
      const error = (e.output as { error: { Error: string; Cause: string } }).error;
      expect(error.Error).to.equal("Runtime.OutOfMemory");
      expect(JSON.parse(error.Cause)).to.include({ errorType: "Runtime.OutOfMemory" });
      expect(cloud.lambda.invocations.filter((r) => r.functionName === "mini-hog").at(-1)!.outcome).to.equal("out-of-memory");
    });

    it("retries with the state's Retry rule and shows the retry as a repeated entry in the path", async () => {
      const e = await run({ scenario: "retry" });
      expect(e.status).to.equal("SUCCEEDED");
      expect(e.path).to.deep.equal(["Route", "Do-retry", "Do-retry", "Done"]);
      expect(e.trace.filter((t) => t.kind === "retry")).to.have.length(1);
    });
  });

  describe("service integrations", () => {
    it("wraps the result of arn:aws:states:::lambda:invoke like Step Functions does", async () => {
      const e = await run({ scenario: "invoke", id: "i-1" });
      const out = e.output as { payload: Record<string, unknown>; status: number };
      expect(out.status).to.equal(200);
      expect(out.payload).to.include({ scenario: "invoke", id: "i-1", functionName: "mini-echo" });
    });

    it("sends to SQS as the state machine's role, the message readable by tests", async () => {
      const e = await run({ scenario: "queue", id: "q-1" });
      expect(e.status).to.equal("SUCCEEDED");
      const messages = cloud.sqs.messages(cloud.output("queueUrl"));
      expect(JSON.parse(messages.at(-1)!.body)).to.deep.equal({ id: "q-1", formatVersion: 1 });
      expect(messages.at(-1)!.sentBy).to.equal("mini-flow");
      expect(cloud.principals.accessLog.some((a) => a.principal === "state-machine:mini-flow" && a.action === "sqs:SendMessage")).to.equal(true);
    });

    it("lets a function reach DynamoDB, S3, SNS and SSM through the front door under its own identity", async () => {
      const e = await run({ scenario: "store", id: "s-1" });
      expect(e.status).to.equal("SUCCEEDED");
      const item = await cloud.s3.getObject(cloud.output("bucketName"), "items/s-1.json");
      expect(JSON.parse(item.body.toString())).to.include({ id: "s-1" });
      expect(item.metadata).to.deep.equal({ formatversion: "1" });
      expect(JSON.parse(cloud.sns.messages(cloud.output("topicArn")).at(-1)!.message)).to.deep.equal({ formatVersion: 1, id: "s-1" });
      const actions = cloud.principals.usage().filter((u) => u.principal === "lambda:mini-store").map((u) => u.action);
      // kms:Decrypt: SSM decrypts the SecureString with the function's permission on the AWS-managed aws/ssm key.
      expect(actions).to.have.members(["ssm:GetParameter", "kms:Decrypt", "dynamodb:PutItem", "s3:PutObject", "sns:Publish"]);
    });
  });

  describe("ECS runtime and task tokens", () => {
    it("runs the container with the task definition's environment and the overrides; SendTaskSuccess is the output", async () => {
      const e = await run({ scenario: "ecs", mode: "succeed", job: { id: "job-7" } });
      expect(e.status).to.equal("SUCCEEDED");
      expect((e.output as { result: unknown }).result).to.deep.equal({ done: "job-7", label: "from-task-definition", heapLimitFlag: "--max-old-space-size=512" });
      const task = cloud.ecs.tasks.at(-1)!;
      await task.stopped;
      expect(task.exitCode).to.equal(0);
    });

    it("keeps the task alive while it sends heartbeats, for longer in all than HeartbeatSeconds", async () => {
      // As each heartbeat is received — before the container gets its answer, so nothing else can happen in between
      // — 60 s of the task's time is skipped: four times, after the 60 s start-up, against a 90 s window that only
      // the heartbeats keep open.
      const skipAfterHeartbeat = (execution: ExecutionRecord, _state: string, _count: number, token: string) => {
        if ((execution.input as { job?: { id?: string } }).job?.id === "job-8") cloud.sfn.skipTaskTime(token, 60_000, "a test, after the heartbeat");
      };
      cloud.sfn.on("heartbeat", skipAfterHeartbeat);
      try {
        const e = await run({ scenario: "ecs", mode: "heartbeat", job: { id: "job-8" } });
        expect(e.path).to.deep.equal(["Route", "Do-ecs", "Done"]);
        expect((e.output as { result: unknown }).result).to.deep.equal({ done: "job-8", heartbeats: 4 });
        expect(e.trace.filter((t) => t.kind === "token" && t.detail === "60 s skipped: a test, after the heartbeat")).to.have.length(4);
        expect(cloud.sfn.tokensOf(e.executionArn).map((t) => [t.status, t.heartbeats])).to.deep.equal([["succeeded", 4]]);
      } finally {
        cloud.sfn.off("heartbeat", skipAfterHeartbeat);
      }
    });

    it("fails the state with the error and cause the task sent with SendTaskFailure", async () => {
      const e = await run({ scenario: "ecs", mode: "fail", job: {} });
      expect((e.output as { error: unknown }).error).to.deep.equal({ Error: "WorkerFailed", Cause: "the job could not be done" });
    });

    it("sees a container that exits without reporting only as a missed heartbeat (States.Timeout); its exit code stays in the trace", async () => {
      const e = await run({ scenario: "ecs", mode: "crash", job: {} });
      const error = (e.output as { error: { Error: string; Cause?: string } }).error;
      expect(error.Error).to.equal("States.Timeout");
      const trace = e.trace.map((t) => t.detail ?? "").join("\n");
      expect(trace).to.match(/stopped: exit 3 .*worker: giving up/).and.contain("no heartbeat for 90 s (HeartbeatSeconds)");
    });

    it("fails the state with States.Timeout when no heartbeat arrives in HeartbeatSeconds; a late callback is refused", async () => {
      const e = await run({ scenario: "ecs", mode: "silent", job: {} });
      expect((e.output as { error: { Error: string } }).error.Error).to.equal("States.Timeout");
      const [token] = cloud.sfn.tokensOf(e.executionArn);
      expect(token.status).to.equal("timed-out");
      const sfn = new SFNClient(cloud.clientConfig(cloud.principals.find("ecs-task", "mini-worker")!));
      try {
        const late = await sfn.send(new SendTaskSuccessCommand({ taskToken: token.token, output: "{}" })).catch((x: Error) => x);
        expect((late as Error).name).to.equal("TaskTimedOut");
        const bogus = await sfn.send(new SendTaskSuccessCommand({ taskToken: "AQ-not-a-token", output: "{}" })).catch((x: Error) => x);
        expect((bogus as Error).name).to.equal("InvalidToken");
      } finally {
        sfn.destroy();
      }
    });
  });

  describe("executions", () => {
    it("ends in a Fail state with the error and the cause taken from the input", async () => {
      const e = await run({ scenario: "nope" });
      expect(e.status).to.equal("FAILED");
      expect(e.error).to.deep.equal({ error: "UnknownScenario", cause: "nope" });
    });

    it("enters every state of every state machine across these tests", () => {
      // mini-fidelity's states are the Step Functions fidelity tests' (test/local/fidelity/step-functions.test.ts).
      const missing = cloud
        .stateCoverage()
        .filter((c) => c.stateMachine === "mini-flow")
        .flatMap((c) => c.missing.map((s) => `${c.stateMachine}.${s}`));
      // WrongCatch is only reached if States.TaskFailed wrongly matched a timeout: the one state no test may enter.
      expect(missing).to.deep.equal(["mini-flow.WrongCatch"]);
    });
  });
});
