import { DescribeExecutionCommand, GetExecutionHistoryCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { expect } from "chai";
import type { LocalCloud } from "../../../local/cloud";
import type { ExecutionRecord, TraceEntry } from "../../../local/runtimes/step-functions/runtime";
import { sharedMini } from "../support";

/**
 * Step Functions as AWS runs it, where aws-local-stepfunctions alone differs (issue 10, item 10), checked through the
 * Step Functions API of the shared mini cloud (state machine `mini-fidelity`). Sources:
 * - 256 KiB on every state's input and output, States.DataLimitExceeded a terminal error no Catch handles:
 *   https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html ("Maximum input or output size for a
 *   task, state, or execution: 256 KiB") and .../dg/concepts-error-handling.html ("States.DataLimitExceeded ... the
 *   output of a state is larger than payload size quota ... after Parameters processing, the input of a state is
 *   larger than payload size quota"; "can't be caught by the States.ALL error type").
 * - StartExecution names and idempotency: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 *   (1–80 characters, none of white space, < > { } [ ], ? *, " # % \ ^ | ~ ` $ & , ; : /, control characters;
 *   "StartExecution is idempotent for STANDARD workflows ... same name and input as a running execution ... returns
 *   the same response ... If the execution is closed or if the input is different, it returns a 400
 *   ExecutionAlreadyExists error").
 * - The context object: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html
 *   (`$$.Execution.Input`, `StartTime`; `$$.State.Name`, `EnteredTime`, and `RetryCount` for states that retry;
 *   `$$.Map.Item.Index/Value`); a Pass state's `$$.State` recorded on AWS has Name and EnteredTime only (LocalStack's
 *   tests/aws/services/stepfunctions/v2/context_object snapshots).
 * - A token whose task has ended: https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
 *   (TaskTimedOut: "The task token has either expired or the task associated with the token has already been closed").
 */
describe("fidelity: Step Functions limits, names and context as AWS has them", function () {
  this.timeout(60_000);
  let cloud: LocalCloud;
  let sfn: SFNClient;
  let machineArn: string;
  before(async () => {
    cloud = await sharedMini();
    sfn = new SFNClient(cloud.clientConfig());
    machineArn = cloud.output("fidelityStateMachineArn");
  });
  after(() => sfn?.destroy());

  const start = async (name: string, input: unknown): Promise<ExecutionRecord> => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name, input: JSON.stringify(input) }));
    return cloud.sfn.executions.get(executionArn!)!;
  };
  const errorOf = (p: Promise<unknown>) => p.then(() => "no error", (err: Error) => err.name);

  describe("256 KiB on every state's input and output", () => {
    it("fails a Pass state whose input after Parameters passes 256 KiB with States.DataLimitExceeded", async () => {
      // 150 KiB in, twice that after Parameters: the execution input is within the limit, the state's is not.
      const e = await (await start("fid-grow", { scenario: "grow", blob: "x".repeat(150 * 1024) })).done;
      expect([e.status, e.error?.error, e.path]).to.deep.equal(["FAILED", "States.DataLimitExceeded", ["Route", "Grow"]]);
      expect(e.error?.cause).to.contain("'Grow'");
    });

    it("fails a Map whose output passes 256 KiB, each iteration being under it", async () => {
      const items = ["a", "b", "c"].map((c) => c.repeat(50 * 1024));
      const e = await (await start("fid-collect", { scenario: "collect", items })).done;
      expect([e.status, e.error?.error]).to.deep.equal(["FAILED", "States.DataLimitExceeded"]);
      expect(e.error?.cause).to.contain("'Collect'");
      expect(e.path.filter((s) => s === "Keep")).to.have.length(3);
      // Its Catch on States.ALL does not take it.
      expect(e.path).not.to.include("WronglyCaught");
    });
  });

  describe("timeouts", () => {
    it("lets a Catch naming States.HeartbeatTimeout take a missed heartbeat, whose error is States.Timeout", async () => {
      const e = await (await start("fid-silent", { scenario: "silent", id: "fid-silent" })).done;
      expect([e.status, e.path, (e.output as { error: { Error: string } }).error.Error]).to.deep.equal(["SUCCEEDED", ["Route", "Silent", "HeartbeatCaught"], "States.Timeout"]);
    });

    it("ends an execution that outlives its TimeoutSeconds TIMED_OUT with States.Timeout, its history's last event ExecutionTimedOut", async () => {
      const stateMachineArn = cloud.output("deadlineStateMachineArn");
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "fid-deadline", input: "{}" }));
      const e = await cloud.sfn.executions.get(executionArn!)!.done;
      expect([e.status, e.error?.error]).to.deep.equal(["TIMED_OUT", "States.Timeout"]);
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      expect(described.status).to.equal("TIMED_OUT");
      const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }));
      expect(events!.map((event) => event.type)).to.deep.equal(["ExecutionTimedOut"]);
    });
  });

  describe("StartExecution names and repeated starts", () => {
    it("answers a repeated start of a running execution with that execution when the input is the same, ExecutionAlreadyExists otherwise", async () => {
      const input = JSON.stringify({ scenario: "hold" });
      const first = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: "fid-hold", input }));
      const again = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: "fid-hold", input }));
      expect([again.executionArn, again.startDate?.getTime()]).to.deep.equal([first.executionArn, first.startDate?.getTime()]);
      expect(await errorOf(sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: "fid-hold", input: JSON.stringify({ scenario: "hold", other: 1 }) })))).to.equal("ExecutionAlreadyExists");
      await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));
      // Closed: the same name and input are refused too (names are unique for 90 days).
      expect(await errorOf(sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: "fid-hold", input })))).to.equal("ExecutionAlreadyExists");
    });

    it("refuses names longer than 80 characters or holding a character AWS forbids with InvalidName", async () => {
      const refused = ["x".repeat(81), "two words", "tab\there", "a/b", "a:b", "a#b", "a%b", "a?b", "a*b", "a<b>", "a{b}", "a[b]", 'a"b', "a\\b", "a^b", "a|b", "a~b", "a`b", "a$b", "a&b", "a,b", "a;b", "bell\u0007", "del\u007f"];
      const outcomes = await Promise.all(refused.map((name) => errorOf(sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name, input: '{"scenario":"context"}' })))));
      expect(outcomes).to.deep.equal(refused.map(() => "InvalidName"));
      // Letters, digits, dots, dashes, underscores and non-ASCII letters are fine, up to 80 characters.
      for (const name of ["y".repeat(80), "order-1001_v2.retry", "Bestellung-Müller"]) {
        expect(await errorOf(sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name, input: '{"scenario":"context"}' })))).to.equal("no error");
      }
    });
  });

  describe("the context object", () => {
    it("gives a state its $$.State (Name, EnteredTime) and the execution's $$.Execution.Input and StartTime", async () => {
      const record = await start("fid-context", { scenario: "context" });
      const e = await record.done;
      const output = e.output as { state: Record<string, unknown>; input: unknown; startTime: string };
      expect(Object.keys(output.state).sort()).to.deep.equal(["EnteredTime", "Name"]);
      expect(output.state.Name).to.equal("Context");
      expect(Date.parse(String(output.state.EnteredTime))).to.be.at.least(e.startDate);
      expect([output.input, output.startTime]).to.deep.equal([{ scenario: "context" }, new Date(e.startDate).toISOString()]);
    });

    it("gives every Map iteration the execution's input and start time and the $$.State of the state it is in", async () => {
      const input = { scenario: "map", items: [10, 20, 30] };
      const e = await (await start("fid-map", input)).done;
      expect(e.status).to.equal("SUCCEEDED");
      const results = e.output as Array<{ value: number; index: number; selectorState: string; executionInput: unknown; startTime: string; state: { Name: string } }>;
      expect(results.map((r) => [r.value, r.index, r.selectorState, r.state.Name])).to.deep.equal([
        [10, 0, "EachItem", "Inspect"],
        [20, 1, "EachItem", "Inspect"],
        [30, 2, "EachItem", "Inspect"],
      ]);
      for (const r of results) expect([r.executionInput, r.startTime]).to.deep.equal([input, new Date(e.startDate).toISOString()]);
    });
  });

  describe("task tokens", () => {
    /** Starts an execution parked on a task token; resolves once the token waits. */
    const park = async (name: string): Promise<{ record: ExecutionRecord; token: string }> => {
      let record: ExecutionRecord | undefined;
      const waiting = new Promise<void>((resolve) => {
        const on = (r: ExecutionRecord, entry: TraceEntry) => {
          if (r.name !== name || entry.kind !== "token") return;
          cloud.sfn.off("trace", on);
          resolve();
        };
        cloud.sfn.on("trace", on);
      });
      record = await start(name, { scenario: "park", id: name });
      await waiting;
      return { record, token: cloud.sfn.tokensOf(record.executionArn)[0].token };
    };

    it("answers TaskTimedOut to SendTaskSuccess and SendTaskHeartbeat with a token whose task has timed out", async () => {
      const { record, token } = await park("fid-park-timeout");
      // The heartbeat window (60 s) passes for this task with nothing happening in it (local/clock.ts).
      cloud.sfn.skipTaskTime(token, 60_000, "a test: no heartbeat in the window");
      const e = await record.done;
      expect([e.status, e.error?.error]).to.deep.equal(["FAILED", "States.Timeout"]);
      expect(await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" })))).to.equal("TaskTimedOut");
      expect(await errorOf(sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })))).to.equal("TaskTimedOut");
    });

    it("answers TaskTimedOut to a token whose execution was stopped, and InvalidToken to one never issued", async () => {
      const { record, token } = await park("fid-park-stopped");
      await sfn.send(new StopExecutionCommand({ executionArn: record.executionArn, error: "Operator", cause: "no longer needed" }));
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: record.executionArn }));
      expect([described.status, described.error, described.cause]).to.deep.equal(["ABORTED", "Operator", "no longer needed"]);
      expect(await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" })))).to.equal("TaskTimedOut");
      expect(await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: "AQnever-issued", output: "{}" })))).to.equal("InvalidToken");
    });
  });
});
