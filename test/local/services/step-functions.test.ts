import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  ListTagsForResourceCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { expect } from "chai";
import type { LocalCloud } from "../../../local/cloud";
import type { ExecutionRecord } from "../../../local/runtimes/step-functions/runtime";
import { nextHeartbeat, sharedMini } from "../support";

/**
 * The Step Functions API as the AWS SDK v3 client calls it, against the front door `serve` publishes (the shared mini
 * cloud's: the same server, booted once for the fidelity files). Shapes and error codes per the Step Functions API
 * Reference (API_ListStateMachines, API_GetExecutionHistory, API_StopExecution, ...); event order and
 * previousEventId per histories recorded on AWS (LocalStack's tests/aws/services/stepfunctions/v2 snapshots).
 */
describe("Step Functions API (SDK v3 against the front door)", function () {
  this.timeout(60_000);
  let cloud: LocalCloud;
  let sfn: SFNClient;
  let flow: string;
  let fidelity: string;
  before(async () => {
    cloud = await sharedMini();
    sfn = new SFNClient(cloud.clientConfig());
    flow = cloud.output("stateMachineArn");
    fidelity = cloud.output("fidelityStateMachineArn");
  });
  after(() => sfn?.destroy());

  const errorOf = (p: Promise<unknown>) => p.then(() => "no error", (err: Error) => err.name);
  /** Starts through the API and waits for the end in the runtime (the API has no wait). */
  const run = async (stateMachineArn: string, name: string, input: unknown): Promise<ExecutionRecord> => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return cloud.sfn.executions.get(executionArn!)!.done;
  };
  /** Every event of an execution's history, following nextToken. */
  const history = async (executionArn: string, extra: { reverseOrder?: boolean; maxResults?: number } = {}): Promise<HistoryEvent[]> => {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, ...extra }));
      events.push(...page.events!);
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  };
  const shape = (events: HistoryEvent[]) => events.map((e) => [e.id, e.previousEventId, e.type]);

  describe("state machines", () => {
    it("ListStateMachines lists every machine of the stack by name, a page at a time", async () => {
      const all = await sfn.send(new ListStateMachinesCommand({}));
      expect(all.stateMachines!.map((m) => [m.name, m.stateMachineArn, m.type])).to.deep.equal([
        ["mini-deadline", cloud.output("deadlineStateMachineArn"), "STANDARD"],
        ["mini-fidelity", fidelity, "STANDARD"],
        ["mini-flow", flow, "STANDARD"],
      ]);
      expect(all.stateMachines![0].creationDate).to.be.instanceOf(Date);
      const first = await sfn.send(new ListStateMachinesCommand({ maxResults: 2 }));
      const second = await sfn.send(new ListStateMachinesCommand({ maxResults: 2, nextToken: first.nextToken }));
      expect([first.stateMachines!.map((m) => m.name), second.stateMachines!.map((m) => m.name), second.nextToken]).to.deep.equal([["mini-deadline", "mini-fidelity"], ["mini-flow"], undefined]);
      expect(await errorOf(sfn.send(new ListStateMachinesCommand({ nextToken: "not-a-token" })))).to.equal("InvalidToken");
    });

    it("DescribeStateMachine returns the deployed definition and role; an unknown machine is StateMachineDoesNotExist, a non-ARN InvalidArn", async () => {
      const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: flow }));
      expect([described.name, described.status, described.type, described.roleArn]).to.deep.equal(["mini-flow", "ACTIVE", "STANDARD", "arn:aws:iam::000000000000:role/mini-flow-role"]);
      expect(JSON.parse(described.definition!)).to.deep.equal(cloud.sfn.find(flow)!.definition);
      expect(described.loggingConfiguration).to.deep.equal({ level: "OFF", includeExecutionData: false });
      expect(await errorOf(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${flow}-gone` })))).to.equal("StateMachineDoesNotExist");
      expect(await errorOf(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: "mini-flow" })))).to.equal("InvalidArn");
    });

    it("ListTagsForResource returns the machine's tags; an unknown resource is ResourceNotFound", async () => {
      expect((await sfn.send(new ListTagsForResourceCommand({ resourceArn: fidelity }))).tags).to.deep.equal([{ key: "purpose", value: "fidelity-tests" }]);
      expect(await errorOf(sfn.send(new ListTagsForResourceCommand({ resourceArn: `${fidelity}-gone` })))).to.equal("ResourceNotFound");
    });
  });

  describe("executions", () => {
    it("StartExecution, DescribeExecution and DescribeStateMachineForExecution report the run with its input and output as JSON text", async () => {
      const e = await run(flow, "api-echo", { scenario: "echo", who: "api" });
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
      expect([described.name, described.status, described.stateMachineArn, JSON.parse(described.input!)]).to.deep.equal(["api-echo", "SUCCEEDED", flow, { scenario: "echo", who: "api" }]);
      expect(JSON.parse(described.output!)).to.include({ who: "api", greeting: "hello", functionName: "mini-echo" });
      expect(described.stopDate!.getTime()).to.be.at.least(described.startDate!.getTime());
      const machine = await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn: e.executionArn }));
      expect([machine.stateMachineArn, machine.name, JSON.parse(machine.definition!)]).to.deep.equal([flow, "mini-flow", cloud.sfn.find(flow)!.definition]);
      expect(await errorOf(sfn.send(new DescribeExecutionCommand({ executionArn: `${e.executionArn}-gone` })))).to.equal("ExecutionDoesNotExist");
    });

    it("ListExecutions lists newest first, filters by status and pages with nextToken", async () => {
      for (const name of ["api-list-1", "api-list-2"]) await run(fidelity, name, { scenario: "context" });
      // 150 KiB twice after Parameters: States.DataLimitExceeded.
      await run(fidelity, "api-list-failed", { scenario: "grow", blob: "x".repeat(150 * 1024) });
      const { executionArn: holding } = await sfn.send(new StartExecutionCommand({ stateMachineArn: fidelity, name: "api-list-running", input: '{"scenario":"hold"}' }));
      const mine = (list: { name?: string }[]) => list.map((e) => e.name).filter((n) => n?.startsWith("api-list-"));
      try {
        const all = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: fidelity }))).executions!;
        expect(mine(all)).to.deep.equal(["api-list-running", "api-list-failed", "api-list-2", "api-list-1"]);
        expect(mine((await sfn.send(new ListExecutionsCommand({ stateMachineArn: fidelity, statusFilter: "FAILED" }))).executions!)).to.deep.equal(["api-list-failed"]);
        expect(mine((await sfn.send(new ListExecutionsCommand({ stateMachineArn: fidelity, statusFilter: "RUNNING" }))).executions!)).to.deep.equal(["api-list-running"]);
        const paged: { name?: string }[] = [];
        let nextToken: string | undefined;
        let pages = 0;
        do {
          const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: fidelity, maxResults: 2, nextToken }));
          expect(page.executions!.length).to.be.at.most(2);
          paged.push(...page.executions!);
          nextToken = page.nextToken;
          pages++;
        } while (nextToken);
        expect([paged.map((e) => e.name), pages]).to.deep.equal([all.map((e) => e.name), Math.ceil(all.length / 2)]);
        // A token is good for the list it came from only.
        const first = await sfn.send(new ListExecutionsCommand({ stateMachineArn: fidelity, maxResults: 1 }));
        expect(await errorOf(sfn.send(new ListExecutionsCommand({ stateMachineArn: flow, maxResults: 1, nextToken: first.nextToken })))).to.equal("InvalidToken");
      } finally {
        await sfn.send(new StopExecutionCommand({ executionArn: holding }));
      }
    });
  });

  describe("GetExecutionHistory", () => {
    it("records a Lambda Task as AWS does: each event after the one before it, the first state entered after 0", async () => {
      const e = await run(flow, "api-history-echo", { scenario: "echo" });
      const events = await history(e.executionArn);
      expect(shape(events)).to.deep.equal([
        [1, 0, "ExecutionStarted"],
        [2, 0, "ChoiceStateEntered"],
        [3, 2, "ChoiceStateExited"],
        [4, 3, "TaskStateEntered"],
        [5, 4, "LambdaFunctionScheduled"],
        [6, 5, "LambdaFunctionStarted"],
        [7, 6, "LambdaFunctionSucceeded"],
        [8, 7, "TaskStateExited"],
        [9, 8, "SucceedStateEntered"],
        [10, 9, "SucceedStateExited"],
        [11, 10, "ExecutionSucceeded"],
      ]);
      expect(events[0].executionStartedEventDetails).to.deep.equal({ input: '{"scenario":"echo"}', inputDetails: { truncated: false }, roleArn: "arn:aws:iam::000000000000:role/mini-flow-role" });
      expect(events[3].stateEnteredEventDetails).to.deep.equal({ name: "Do-echo", input: '{"scenario":"echo"}', inputDetails: { truncated: false } });
      expect(events[4].lambdaFunctionScheduledEventDetails).to.deep.include({ resource: "arn:aws:lambda:eu-west-1:000000000000:function:mini-echo:live", timeoutInSeconds: 5 });
      expect(JSON.parse(events[6].lambdaFunctionSucceededEventDetails!.output!)).to.include({ greeting: "hello" });
      expect(JSON.parse(events[10].executionSucceededEventDetails!.output!)).to.deep.equal(e.output);
      expect(events.every((ev, i) => i === 0 || ev.timestamp!.getTime() >= events[i - 1].timestamp!.getTime())).to.equal(true);
    });

    it("records a caught failure (LambdaFunctionFailed with error and cause, then the state's exit) and a service integration (TaskScheduled … TaskSucceeded)", async () => {
      const failed = await history((await run(flow, "api-history-fail", { scenario: "fail", who: "api" })).executionArn);
      expect(shape(failed).slice(4, 9)).to.deep.equal([
        [5, 4, "LambdaFunctionScheduled"],
        [6, 5, "LambdaFunctionStarted"],
        [7, 6, "LambdaFunctionFailed"],
        [8, 7, "TaskStateExited"],
        [9, 8, "PassStateEntered"],
      ]);
      expect(failed[6].lambdaFunctionFailedEventDetails!.error).to.equal("Boom");
      expect(JSON.parse(failed[6].lambdaFunctionFailedEventDetails!.cause!)).to.include({ errorType: "Boom", errorMessage: "it went boom for api" });
      const queued = await history((await run(flow, "api-history-queue", { scenario: "queue", id: "h" })).executionArn);
      expect(shape(queued).slice(4, 7)).to.deep.equal([
        [5, 4, "TaskScheduled"],
        [6, 5, "TaskStarted"],
        [7, 6, "TaskSucceeded"],
      ]);
      expect(queued[4].taskScheduledEventDetails).to.deep.include({ resourceType: "sqs", resource: "sendMessage", region: "eu-west-1", timeoutInSeconds: 5 });
      expect(JSON.parse(queued[4].taskScheduledEventDetails!.parameters!).MessageBody).to.deep.equal({ id: "h", formatVersion: 1 });
    });

    it("records each Map iteration in a chain of its own that starts at MapIterationStarted", async () => {
      const events = await history((await run(fidelity, "api-history-map", { scenario: "map", items: [1, 2, 3] })).executionArn);
      const byId = new Map(events.map((e) => [e.id!, e]));
      const types = events.map((e) => e.type);
      expect(types.filter((t) => t === "MapIterationStarted")).to.have.length(3);
      expect(types.filter((t) => t === "MapIterationSucceeded")).to.have.length(3);
      expect(types.slice(0, 5)).to.deep.equal(["ExecutionStarted", "ChoiceStateEntered", "ChoiceStateExited", "MapStateEntered", "MapStateStarted"]);
      expect(types.slice(-3)).to.deep.equal(["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]);
      expect(events.find((e) => e.type === "MapStateStarted")!.mapStateStartedEventDetails).to.deep.equal({ length: 3 });
      // Within an iteration: PassStateEntered points to its MapIterationStarted, PassStateExited to that, the
      // iteration's end to the exit; each iteration's events name its index.
      for (const end of events.filter((e) => e.type === "MapIterationSucceeded")) {
        const exited = byId.get(end.previousEventId!)!;
        const entered = byId.get(exited.previousEventId!)!;
        const started = byId.get(entered.previousEventId!)!;
        expect([exited.type, entered.type, started.type]).to.deep.equal(["PassStateExited", "PassStateEntered", "MapIterationStarted"]);
        expect(started.mapIterationStartedEventDetails!.index).to.equal(end.mapIterationSucceededEventDetails!.index);
        expect(JSON.parse(entered.stateEnteredEventDetails!.input!).index).to.equal(end.mapIterationSucceededEventDetails!.index);
      }
    });

    it("answers reverseOrder newest first, pages with nextToken, and leaves the data out when includeExecutionData is false", async () => {
      const e = await run(flow, "api-history-pages", { scenario: "echo" });
      const forward = await history(e.executionArn);
      expect(shape(await history(e.executionArn, { reverseOrder: true }))).to.deep.equal(shape(forward).reverse());
      const first = await sfn.send(new GetExecutionHistoryCommand({ executionArn: e.executionArn, maxResults: 4 }));
      expect([first.events!.map((ev) => ev.id), typeof first.nextToken]).to.deep.equal([[1, 2, 3, 4], "string"]);
      expect(shape(await history(e.executionArn, { maxResults: 4 }))).to.deep.equal(shape(forward));
      const bare = await sfn.send(new GetExecutionHistoryCommand({ executionArn: e.executionArn, includeExecutionData: false }));
      expect(bare.events![0].executionStartedEventDetails).to.deep.equal({ inputDetails: { truncated: false }, roleArn: "arn:aws:iam::000000000000:role/mini-flow-role" });
      expect(bare.events!.at(-1)!.executionSucceededEventDetails).to.deep.equal({ outputDetails: { truncated: false } });
      expect(await errorOf(sfn.send(new GetExecutionHistoryCommand({ executionArn: `${e.executionArn}-gone` })))).to.equal("ExecutionDoesNotExist");
    });
  });

  describe("task tokens", () => {
    /** Parks an execution on a task token and takes the token from the message the state sent. */
    const park = async (name: string): Promise<{ executionArn: string; token: string }> => {
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: fidelity, name, input: JSON.stringify({ scenario: "park", id: name }) }));
      for (;;) {
        const body = cloud.sqs
          .messages(cloud.output("queueUrl"))
          .map((m) => JSON.parse(m.body) as { id: string; token: string })
          .find((b) => b.id === name);
        if (body && cloud.sfn.tokensOf(executionArn!).some((t) => t.status === "waiting")) return { executionArn: executionArn!, token: body.token };
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    it("SendTaskHeartbeat then SendTaskSuccess ends the waiting state with the output sent; the token is spent after", async () => {
      const { executionArn, token } = await park("api-token-success");
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
      await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"shipped":true}' }));
      const e = await cloud.sfn.executions.get(executionArn)!.done;
      expect([e.status, e.output]).to.deep.equal(["SUCCEEDED", { shipped: true }]);
      expect(await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" })))).to.equal("TaskTimedOut");
      const types = (await history(executionArn)).map((ev) => ev.type);
      expect(types.slice(4, 9)).to.deep.equal(["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskStateExited"]);
    });

    it("SendTaskFailure fails the state with the error and cause sent; output that is not JSON is InvalidOutput", async () => {
      const { executionArn, token } = await park("api-token-failure");
      expect(await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "not json" })))).to.equal("InvalidOutput");
      await sfn.send(new SendTaskFailureCommand({ taskToken: token, error: "Refused", cause: "the warehouse said no" }));
      await cloud.sfn.executions.get(executionArn)!.done;
      const after = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      expect([after.status, after.error, after.cause]).to.deep.equal(["FAILED", "Refused", "the warehouse said no"]);
      const failed = (await history(executionArn)).find((ev) => ev.type === "TaskFailed")!;
      expect(failed.taskFailedEventDetails).to.deep.equal({ resourceType: "sqs", resource: "sendMessage.waitForTaskToken", error: "Refused", cause: "the warehouse said no" });
    });
  });

  describe("StopExecution", () => {
    it("stops a running execution for good: ABORTED with the error and cause given, ExecutionAborted last, its token spent and its Fargate worker gone", async () => {
      const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: flow, name: "api-stop", input: JSON.stringify({ scenario: "ecs", mode: "wait", job: { id: "api-stop" } }) }));
      const executionArn = started.executionArn!;
      // The worker runs and heartbeats: the task holds the token.
      await nextHeartbeat(cloud, executionArn);
      const [token] = cloud.sfn.tokensOf(executionArn);
      const task = cloud.ecs.tasks.find((t) => JSON.stringify(t.overrides).includes(token.token))!;
      const { stopDate } = await sfn.send(new StopExecutionCommand({ executionArn, error: "Operator", cause: "customer cancelled" }));
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      expect([described.status, described.error, described.cause, described.stopDate!.getTime()]).to.deep.equal(["ABORTED", "Operator", "customer cancelled", stopDate!.getTime()]);
      const events = await history(executionArn);
      expect(events.at(-1)).to.deep.include({ type: "ExecutionAborted", previousEventId: 0, executionAbortedEventDetails: { error: "Operator", cause: "customer cancelled" } });
      // Nothing after the stop: the task's ending is not the execution's any more.
      expect(events.map((e) => e.type).slice(4)).to.deep.equal(["TaskScheduled", "TaskStarted", "TaskSubmitted", "ExecutionAborted"]);
      expect(await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: token.token, output: "{}" })))).to.equal("TaskTimedOut");
      // The worker's next heartbeat answers TaskTimedOut and it ends itself (the fixture's "wait" mode, as the export worker does).
      const stopped = await task.stopped;
      expect([stopped.lastStatus, stopped.exitCode]).to.deep.equal(["STOPPED", 5]);
      // Stopping it again changes nothing.
      await sfn.send(new StopExecutionCommand({ executionArn }));
      expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).error).to.equal("Operator");
    });
  });
});
