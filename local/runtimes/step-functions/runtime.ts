import { randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { LocalClock, TaskWindow } from "../../clock";
import { EcsRuntime, RunTaskInput, TaskRecord } from "../ecs/runtime";
import { InvokeResult, LambdaRuntime } from "../lambda/runtime";
import { AccessDeniedError, Principal, PrincipalRegistry, type AccessRequest } from "../../iam/principals";
import { LOCAL_ACCOUNT, LOCAL_PARTITION } from "../../program/resource-state";
import { Access, ServiceError } from "../../services/errors";
import { LocalSns } from "../../services/sns";
import { LocalSqs } from "../../services/sqs";
import {
  checkPayloadSize,
  currentRunScope,
  DATA_LIMIT_BYTES,
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  named,
  StateMachine,
  type StateMachineDefinition,
  StatesTimeoutError,
  withRunScope,
} from "./engine";
import { ExecutionHistory, type HistoryEvent, payload, RunHistory } from "./history";

export { named } from "./engine";

/**
 * Step Functions: each state machine's own definition executed by aws-local-stepfunctions. The library runs the
 * control flow (Choice, Map, Parallel, Retry, Catch, paths, intrinsics, Task TimeoutSeconds, execution timeout);
 * every Task state is overridden with a handler that calls the local service it names — Lambda runtime, ECS runtime,
 * SQS, SNS, DynamoDB — as the state machine's own principal. What the library lacks is implemented here: the
 * `$$.Task.Token` context field, `.waitForTaskToken` with a token registry served by the local SFN API
 * (SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat), HeartbeatSeconds, and Lambda/ECS error semantics.
 */

export interface StateMachineSpec {
  readonly name: string;
  readonly arn: string;
  readonly definition: StateMachineDefinition;
  readonly roleArn: string;
  readonly type: "STANDARD" | "EXPRESS";
  /** The resource's tags, as ListTagsForResource returns them. */
  readonly tags?: Record<string, string>;
  /** The resource's `loggingConfiguration` input (level, includeExecutionData, logDestination). */
  readonly loggingConfiguration?: { readonly level?: string; readonly includeExecutionData?: boolean; readonly logDestination?: string };
  readonly tracingEnabled?: boolean;
  /** When the program registered it (CreateStateMachine's creationDate), epoch ms. */
  readonly creationDate?: number;
}

export interface TraceEntry {
  /** Milliseconds since the execution started. */
  readonly t: number;
  readonly kind: "entered" | "exited" | "failed" | "retry" | "caught" | "lambda" | "ecs" | "token" | "sqs" | "sns" | "dynamodb";
  readonly state?: string;
  /** Map iteration index, for states inside a Map. */
  readonly index?: number;
  readonly detail?: string;
}

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly name: string;
  status: ExecutionStatus;
  readonly input: unknown;
  /** The input as StartExecution received it: a second start with the same name must send the same text. */
  readonly inputText: string;
  output?: unknown;
  error: { error: string; cause: string | null } | null;
  readonly startDate: number;
  stopDate?: number;
  /** State names entered, in order; a retried state appears once more per retry. */
  readonly path: string[];
  readonly trace: TraceEntry[];
  /** The events GetExecutionHistory returns. */
  readonly history: ExecutionHistory;
  /** Resolves when the execution has ended. */
  readonly done: Promise<ExecutionRecord>;
}

/** An ended execution as `--persist` keeps it: the record without its promise, and its history's events. */
export type SavedExecution = Omit<ExecutionRecord, "history" | "done"> & { readonly events: HistoryEvent[] };

type TaskState = {
  Type: "Task";
  Resource: string;
  Parameters?: unknown;
  TimeoutSeconds?: number;
  HeartbeatSeconds?: number;
  Retry?: Array<{ IntervalSeconds?: number }>;
};
type AnyState = Record<string, any> & { Type: string };

interface TokenEntry {
  readonly token: string;
  readonly execution: ExecutionRecord;
  readonly stateName: string;
  status: "waiting" | "succeeded" | "failed" | "timed-out" | "closed";
  heartbeats: number;
  resolve(output: unknown): void;
  reject(error: Error): void;
  /** SendTaskHeartbeat: the heartbeat window starts again. */
  touch(): void;
  /** Time the local cloud skips for this task (see clock.ts): used up from both windows at once. */
  skip(ms: number): void;
  /** Nothing can report on this token any more: both windows run out now, the earlier one decides the error. */
  skipToEnd(): void;
  close(): void;
}


export interface SfnRuntimeOptions {
  readonly region: string;
  readonly principals: PrincipalRegistry;
  readonly lambda: LambdaRuntime;
  readonly ecs: EcsRuntime;
  readonly sqs: LocalSqs;
  readonly sns: LocalSns;
  /** Calls DynamoDB as a principal (the optimised dynamodb:* integrations). */
  readonly dynamodb: (principal: Principal, operation: string, input: Record<string, unknown>) => Promise<unknown>;
  /** Scales Retry intervals and Wait seconds (tests shorten them; backoff and jitter are dropped when scaled). */
  readonly clock: LocalClock;
}

export class SfnRuntime extends EventEmitter {
  private readonly machines = new Map<string, StateMachineSpec>();
  private readonly engines = new Map<string, InstanceType<typeof StateMachine>>();
  readonly executions = new Map<string, ExecutionRecord>();
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly aborts = new Map<string, () => void>();
  /** StopExecution's error and cause, until the execution has recorded its end. */
  private readonly stopRequests = new Map<string, { error?: string; cause?: string }>();
  /** ECS tasks each execution started with runTask.sync and still waits for: StopExecution stops them. */
  private readonly syncTasks = new Map<string, Set<TaskRecord>>();

  constructor(private readonly options: SfnRuntimeOptions) {
    super();
  }

  /** Validates the definition (as CreateStateMachine does) and makes the machine runnable. */
  register(spec: StateMachineSpec): void {
    try {
      new StateMachine(spec.definition);
    } catch (err) {
      throw new ServiceError("InvalidDefinition", `state machine ${spec.name}: ${(err as Error).message}`, 400);
    }
    const engine = new StateMachine(asEngineRuns(spec.definition), { validationOptions: { noValidate: true } });
    this.machines.set(spec.arn, spec);
    this.engines.set(spec.arn, engine);
    this.options.principals.issue("state-machine", spec.name, spec.roleArn);
  }

  stateMachines(): StateMachineSpec[] {
    return [...this.machines.values()];
  }

  find(ref: string): StateMachineSpec | undefined {
    return this.machines.get(ref) ?? [...this.machines.values()].find((m) => m.name === ref);
  }

  /**
   * StartExecution: `inputText` is the input as the caller sent it (JSON text; the JSON of `input` when omitted).
   * Names and repeated starts as AWS handles them (API_StartExecution): a name is 1–80 characters without white space,
   * brackets, wildcards, `" # % \ ^ | ~ \` $ & , ; : /` or control characters (InvalidName otherwise); the same name
   * again while that execution runs, with the same input, answers with the running execution (Standard workflows:
   * StartExecution is idempotent), with another input — or once it has ended — ExecutionAlreadyExists.
   */
  startExecution(stateMachineArn: string, input: unknown, name?: string, inputText = JSON.stringify(input ?? {})): ExecutionRecord {
    const spec = this.machines.get(stateMachineArn);
    if (!spec) throw new ServiceError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${stateMachineArn}'`, 400);
    if (name !== undefined) validateExecutionName(name);
    const executionName = name ?? randomUUID();
    const executionArn = `arn:${LOCAL_PARTITION}:states:${this.options.region}:${LOCAL_ACCOUNT}:execution:${spec.name}:${executionName}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === "RUNNING" && spec.type === "STANDARD" && existing.inputText === inputText) return existing;
      throw new ServiceError("ExecutionAlreadyExists", `Execution Already Exists: '${executionArn}'`, 400);
    }
    // StartExecution's `input` is limited to 262144 characters: AWS refuses the call (nothing runs, nothing is written).
    const inputSize = Buffer.byteLength(inputText);
    if (inputSize > DATA_LIMIT_BYTES) {
      throw new ServiceError("ValidationException", `1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${DATA_LIMIT_BYTES} (got ${inputSize})`, 400);
    }
    const principal = this.options.principals.issue("state-machine", spec.name, spec.roleArn);
    let finish!: (e: ExecutionRecord) => void;
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn,
      stateMachineName: spec.name,
      name: executionName,
      status: "RUNNING",
      input,
      inputText,
      error: null,
      startDate: Date.now(),
      path: [],
      trace: [],
      history: new ExecutionHistory(),
      done: new Promise<ExecutionRecord>((resolve) => (finish = resolve)),
    };
    this.executions.set(executionArn, record);
    this.emit("execution-started", record);
    void this.run(spec, record, principal).then(() => finish(record));
    return record;
  }

  private async run(spec: StateMachineSpec, record: ExecutionRecord, principal: Principal): Promise<void> {
    const issued = new Set<string>();
    const tasks = collectStates(spec.definition).filter(([, s]) => s.Type === "Task") as Array<[string, TaskState]>;
    const taskResourceLocalHandlers = Object.fromEntries(
      tasks.map(([stateName, state]) => [stateName, (input: unknown) => this.runTask({ record, principal, stateName, state, input, issued })]),
    );
    const scale = this.options.clock.timeScale;
    const retryIntervalOverrides: Record<string, number[]> = {};
    const waitTimeOverrides: Record<string, number> = {};
    if (scale !== 1) {
      for (const [name, state] of collectStates(spec.definition)) {
        if (Array.isArray(state.Retry)) retryIntervalOverrides[name] = state.Retry.map((r: { IntervalSeconds?: number }) => this.options.clock.scaled((r.IntervalSeconds ?? 1) * 1000));
        if (state.Type === "Wait" && typeof state.Seconds === "number") waitTimeOverrides[name] = this.options.clock.scaled(state.Seconds * 1000);
      }
    }
    const startTime = new Date(record.startDate).toISOString();
    const context = {
      Execution: { Id: record.executionArn, Name: record.name, RoleArn: spec.roleArn, RedriveCount: 0 },
      StateMachine: { Id: spec.arn, Name: spec.name },
      // The library evaluates `$$.Task.Token` against this object while it builds the Task's input; each read
      // issues a token, and the Task handler claims the one that ended up in its input.
      Task: {
        get Token(): string {
          const token = `AQ${randomBytes(48).toString("base64url")}`;
          issued.add(token);
          return token;
        },
      },
    };
    record.history.add("ExecutionStarted", 0, { input: record.inputText, inputDetails: { truncated: false }, roleArn: spec.roleArn });
    const root = record.history.root();
    const execution = withRunScope({ observer: root, execution: { Input: record.input, StartTime: startTime } }, () =>
      this.engines.get(spec.arn)!.run(record.input as never, {
        overrides: { taskResourceLocalHandlers: taskResourceLocalHandlers as never, retryIntervalOverrides, waitTimeOverrides },
        context: context as never,
      }),
    );
    this.aborts.set(record.executionArn, execution.abort);
    const events = this.consumeEvents(record, execution.eventLogs);
    try {
      record.output = await execution.result;
      record.status = "SUCCEEDED";
      root.event("ExecutionSucceeded", { output: payload(record.output), outputDetails: { truncated: false } });
    } catch (err) {
      if (err instanceof ExecutionTimeoutError) {
        record.status = "TIMED_OUT";
        record.error = { error: "States.Timeout", cause: null };
        root.event("ExecutionTimedOut", { error: "States.Timeout" });
      } else if (err instanceof ExecutionAbortedError) {
        record.status = "ABORTED";
        const stop = this.stopRequests.get(record.executionArn);
        record.error = stop && (stop.error !== undefined || stop.cause !== undefined) ? { error: stop.error ?? "", cause: stop.cause ?? null } : null;
        // Recorded on AWS with previousEventId 0: a stop is not caused by the execution's own events. StopExecution
        // has recorded it already; this is a cloud stopping with the execution still running.
        record.history.add("ExecutionAborted", 0);
      } else {
        record.status = "FAILED";
        const cause = err instanceof ExecutionError ? (err.cause as Error) : (err as Error);
        const defaultFailCause = cause?.constructor?.name === "FailStateError" && cause.message === "Execution failed because of a Fail state";
        record.error = { error: cause?.name ?? "States.Runtime", cause: defaultFailCause ? null : (cause?.message ?? null) };
        root.event("ExecutionFailed", { error: record.error.error, ...(record.error.cause !== null ? { cause: record.error.cause } : {}) });
      }
    } finally {
      // Anything the execution's tasks report after this (a Lambda invocation that runs on after a stop) is not its history.
      record.history.close();
      this.aborts.delete(record.executionArn);
      this.stopRequests.delete(record.executionArn);
      record.stopDate = Date.now();
      for (const entry of this.tokens.values()) if (entry.execution === record && entry.status === "waiting") entry.close();
      // The event stream ends with the execution; bound the wait in case the library leaves it open.
      await Promise.race([events, new Promise((r) => setTimeout(r, 100))]);
      this.emit("execution-ended", record);
    }
  }

  /**
   * StopExecution: the execution ends ABORTED now. What it was waiting for is let go as Step Functions lets it go
   * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html, and as observed:
   * https://stackoverflow.com/q/45596276): a Lambda invocation in progress runs to its end in its environment and its
   * result is dropped; its task tokens are closed, so a later SendTaskSuccess/Failure/Heartbeat answers TaskTimedOut
   * (a worker learns it at its next heartbeat, as the export worker does, and stops); an ECS task started with
   * `runTask.sync` is stopped (the .sync integration's policy includes ecs:StopTask for this), one started with a task
   * token is not — Step Functions cannot tell which task holds the token.
   */
  stopExecution(executionArn: string, error?: string, cause?: string): ExecutionRecord {
    const record = this.requireExecution(executionArn);
    if (record.status !== "RUNNING") return record;
    this.stopRequests.set(record.executionArn, { error, cause });
    // The history ends at the stop: what the aborted states report while they unwind is not recorded.
    record.history.add("ExecutionAborted", 0, { ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) });
    record.history.close();
    // Aborted before its tasks are let go, so that no Catch or Retry of the execution acts on their ending.
    this.aborts.get(record.executionArn)?.();
    for (const entry of this.tokens.values()) if (entry.execution === record && entry.status === "waiting") entry.close();
    for (const task of this.syncTasks.get(record.executionArn) ?? []) {
      this.options.ecs.stopTask(task.taskArn, "Task stopped by AWS Step Functions: the execution was stopped (StopExecution)");
    }
    return record;
  }

  private async consumeEvents(record: ExecutionRecord, events: AsyncGenerator<any>): Promise<void> {
    for await (const ev of events) {
      const t = (ev.timestamp ?? Date.now()) - record.startDate;
      const index = typeof ev.index === "number" ? ev.index : undefined;
      switch (ev.type) {
        case "StateEntered":
          record.path.push(ev.state.name);
          this.trace(record, { t, kind: "entered", state: ev.state.name, index, detail: ev.state.type });
          break;
        case "StateRetried":
          record.path.push(ev.state.name);
          this.trace(record, { t, kind: "retry", state: ev.state.name, index, detail: `attempt ${ev.retry.attempt + 1} (after ${ev.retry.retrier.ErrorEquals.join("|")})` });
          break;
        case "StateFailed":
          this.trace(record, { t, kind: "failed", state: ev.state.name, index, detail: `${ev.Error}${ev.Cause ? `: ${short(String(ev.Cause))}` : ""}` });
          break;
        case "StateCaught":
          this.trace(record, { t, kind: "caught", state: ev.state.name, index, detail: `→ ${ev.catch.catcher.Next}` });
          break;
        case "StateExited":
          this.trace(record, { t, kind: "exited", state: ev.state.name, index });
          this.emit("state-output", record, ev.state.name, ev.state.output);
          break;
        default:
          break;
      }
    }
  }

  private trace(record: ExecutionRecord, entry: TraceEntry): void {
    record.trace.push(entry);
    this.emit("trace", record, entry);
  }

  private async runTask(args: { record: ExecutionRecord; principal: Principal; stateName: string; state: TaskState; input: unknown; issued: Set<string> }): Promise<unknown> {
    const { record, principal, stateName, state, input, issued } = args;
    const resource = state.Resource;
    const waitForToken = resource.endsWith(".waitForTaskToken");
    const token = waitForToken ? findToken(input, issued) : undefined;
    issued.clear();
    const events = taskEvents(currentRunScope()?.observer as RunHistory | undefined, resource, state, input, this.options.region);
    if (waitForToken && !token) {
      const error = named("States.Runtime", `The state ${stateName} uses .waitForTaskToken but its Parameters do not pass $$.Task.Token`, { catchable: false });
      events.failed(error);
      throw error;
    }
    const log = (kind: TraceEntry["kind"], detail: string) => this.trace(record, { t: Date.now() - record.startDate, kind, state: stateName, detail });
    const tokenWait = token ? this.waitForToken(record, stateName, token, state) : undefined;
    // TimeoutSeconds runs from when the work starts: a Lambda invocation waiting for a free local execution
    // environment has not started (in AWS it would have). Token waits time out on their own timer.
    let timer: NodeJS.Timeout | undefined;
    let startClock = () => undefined as void;
    const timeout =
      state.TimeoutSeconds && !tokenWait
        ? new Promise<never>((_, reject) => {
            startClock = () => {
              timer ??= setTimeout(() => reject(Object.assign(new StatesTimeoutError(), { message: "" })), state.TimeoutSeconds! * 1000);
            };
          })
        : undefined;
    const bounded = <T>(work: Promise<T>): Promise<T> => (timeout ? Promise.race([work, timeout]) : work);
    const started = () => {
      events.started();
      startClock();
    };
    try {
      let result: unknown;
      const base = resource.replace(/\.(waitForTaskToken|sync(:2)?)$/, "");
      if (/^arn:[^:]+:lambda:/.test(resource) || base.endsWith(":::lambda:invoke")) {
        result = await bounded(this.invokeLambda({ record, principal, stateName, resource, input, log, onStart: started }));
      } else if (base.endsWith(":::ecs:runTask")) {
        started();
        result = await bounded(this.runEcsTask({ record, principal, resource, input, token, log }));
      } else if (base.endsWith(":::sqs:sendMessage")) {
        started();
        result = this.sqsSendMessage(principal, input as Record<string, unknown>, log);
      } else if (base.endsWith(":::sns:publish")) {
        started();
        result = this.snsPublish(principal, input as Record<string, unknown>, log);
      } else if (/:::dynamodb:(getItem|putItem|updateItem|deleteItem)$/.test(base)) {
        started();
        result = await bounded(this.dynamodb(principal, base.split(":").pop()!, input as Record<string, unknown>, log));
      } else {
        throw named("States.Runtime", `The local cloud does not implement the Task resource ${resource}`, { catchable: false });
      }
      if (tokenWait) {
        events.submitted(result);
        log("token", `waiting for task token (heartbeat ${state.HeartbeatSeconds ?? "none"} s)`);
        result = await tokenWait.promise;
      }
      checkPayloadSize(stateName, result);
      events.succeeded(result);
      return result;
    } catch (err) {
      tokenWait?.entry.close();
      events.failed(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async invokeLambda(args: {
    record: ExecutionRecord;
    principal: Principal;
    stateName: string;
    resource: string;
    input: unknown;
    log: (kind: TraceEntry["kind"], detail: string) => void;
    onStart: () => void;
  }): Promise<unknown> {
    const { resource, input, principal } = args;
    const optimised = !/^arn:[^:]+:lambda:/.test(resource);
    const params = (optimised ? input : {}) as { FunctionName?: string; Payload?: unknown };
    const functionRef = optimised ? params.FunctionName : resource;
    if (!functionRef) throw named("States.Runtime", "lambda:invoke needs Parameters.FunctionName", { catchable: false });
    const target = this.options.lambda.resolve(functionRef);
    if (!target) throw named("Lambda.ResourceNotFoundException", `Function not found: ${functionRef}`);
    const functionArn = target.qualifier ? `${target.spec.arn}:${target.qualifier}` : target.spec.arn;
    this.authorizeIntegration("Lambda", { principal, service: "lambda", action: "lambda:InvokeFunction", resource: functionArn });
    const outcome: InvokeResult = await this.options.lambda.invoke(functionRef, optimised ? (params.Payload ?? null) : input, { caller: `${args.record.name}/${args.stateName}`, onStart: args.onStart });
    const r = outcome.record;
    args.log("lambda", `${r.functionName}${r.qualifier ? `:${r.qualifier}` : ""} ${r.cold ? `cold (init ${Math.round(r.initMs ?? 0)} ms)` : "warm"} ${Math.round(r.durationMs)} ms${outcome.ok ? "" : ` → ${outcome.kind} ${outcome.error.errorType}`}`);
    if (outcome.ok) {
      if (!optimised) return outcome.payload;
      return {
        ExecutedVersion: target.spec.version,
        Payload: outcome.payload,
        SdkHttpMetadata: { HttpStatusCode: 200 },
        SdkResponseMetadata: { RequestId: r.requestId },
        StatusCode: 200,
      };
    }
    const e = outcome.error;
    const cause = JSON.stringify({ errorType: e.errorType, errorMessage: e.errorMessage, trace: e.trace ?? [] });
    switch (outcome.kind) {
      case "timeout":
        // The function's own timeout reaches Retry/Catch as the errorType Lambda reports, Sandbox.Timedout — an
        // ordinary error that States.TaskFailed matches; only the Task's TimeoutSeconds is States.Timeout.
        throw named(e.errorType, cause);
      case "out-of-memory":
        // Lambda answers with errorType Runtime.OutOfMemory, which Step Functions takes as the error's name (older
        // runtimes left the errorType out, and Step Functions said Lambda.Unknown).
        throw named(e.errorType, cause);
      case "throttled":
        throw named("Lambda.TooManyRequestsException", `Rate Exceeded. (Service: Lambda, Status Code: 429, Request ID: ${r.requestId})`);
      case "service-error":
        // The Invoke API itself failed (Lambda.ServiceException, ...): Step Functions names the error after it.
        throw named(e.errorType, e.errorMessage);
      default:
        if (e.errorType === "RequestTooLargeException") throw named("Lambda.RequestTooLargeException", e.errorMessage);
        throw named(e.errorType, cause);
    }
  }

  private async runEcsTask(args: {
    record: ExecutionRecord;
    principal: Principal;
    resource: string;
    input: unknown;
    token?: string;
    log: (kind: TraceEntry["kind"], detail: string) => void;
  }): Promise<unknown> {
    const params = args.input as RunTaskInput;
    const ecs = this.options.ecs;
    const td = ecs.resolveTaskDefinition(params.TaskDefinition);
    const clusterArn = ecs.resolveCluster(params.Cluster) ?? String(params.Cluster ?? "default");
    this.authorizeIntegration("ECS", { principal: args.principal, service: "ecs", action: "ecs:RunTask", resource: td?.arn ?? params.TaskDefinition, context: { "ecs:cluster": clusterArn } });
    for (const role of [td?.taskRoleArn, td?.executionRoleArn].filter((r): r is string => !!r)) {
      // ECS checks iam:PassRole for RunTask and refuses the RunTask itself when it is denied.
      this.authorizeIntegration("ECS", { principal: args.principal, service: "iam", action: "iam:PassRole", resource: role, context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } });
    }
    const entry = args.token ? this.tokens.get(args.token) : undefined;
    // Time the ECS runtime skips for the task (its simulated start-up, a test's stall) is used up from the token's
    // windows: the task's clock, not the machine's, decides whether it heartbeats in time.
    const onTimeSkipped = (ms: number, reason: string) => {
      args.log("token", `${Number.isFinite(ms) ? `${Math.round(ms / 1000)} s` : "the rest of its windows"} skipped: ${reason}`);
      if (!entry) return;
      if (Number.isFinite(ms)) entry.skip(ms);
      else entry.skipToEnd();
    };
    let task: TaskRecord;
    try {
      task = await ecs.runTask({ ...params, StartedBy: params.StartedBy ?? "AWS Step Functions" }, { onTimeSkipped });
    } catch (err) {
      if (err instanceof ServiceError) throw named(`ECS.${err.code}`, err.message);
      throw err;
    }
    args.log("ecs", `task ${task.taskId.slice(0, 8)} of ${task.family} started`);
    const mode = args.resource.endsWith(".sync") ? "sync" : args.token ? "token" : "fire";
    if (mode === "fire") return { Tasks: [ecs.describe(task)], Failures: [] };
    if (mode === "sync") {
      const running = this.syncTasks.get(args.record.executionArn) ?? new Set<TaskRecord>();
      this.syncTasks.set(args.record.executionArn, running.add(task));
      try {
        await task.stopped;
      } finally {
        running.delete(task);
        if (!running.size) this.syncTasks.delete(args.record.executionArn);
      }
      args.log("ecs", `task ${task.taskId.slice(0, 8)} stopped: exit ${task.exitCode ?? "none"} (${task.stoppedReason})`);
      if (task.exitCode !== 0) throw named("States.TaskFailed", JSON.stringify(ecs.describe(task)));
      return ecs.describe(task);
    }
    // waitForTaskToken: Step Functions learns nothing from the container stopping. A container that exits without
    // calling back leaves the state waiting until its heartbeat window or TimeoutSeconds runs out, as on AWS; the
    // local cloud skips that wait (nobody holds the token any more), so the state fails at once with the same error.
    // Any callback the container awaited before exiting has already been served by then.
    void task.stopped.then(() => {
      args.log("ecs", `task ${task.taskId.slice(0, 8)} stopped: exit ${task.exitCode ?? "none"} (${task.stoppedReason})${task.stderrTail.length ? `; last stderr: ${short(task.stderrTail.slice(-3).join(" | "))}` : ""}`);
      if (entry?.status === "waiting") onTimeSkipped(Number.POSITIVE_INFINITY, "the task stopped without reporting on its token, and nothing else can");
    });
    // What RunTask answered: the history's TaskSubmitted output.
    return { Tasks: [ecs.describe(task)], Failures: [] };
  }

  /**
   * A call the state machine makes with its own role, refused as the integration reports it: the service's exception
   * name under the integration's prefix, the service's message and error code in the cause (Step Functions developer
   * guide, "Handling errors in Step Functions workflows" and each integration's page: a denied lambda:invoke is
   * Lambda.AWSLambdaException, which the usual Retry on it retries). Not States.TaskFailed's own name, and not an
   * "AccessDenied" no AWS error is called.
   */
  private authorizeIntegration(integration: "Lambda" | "ECS" | "SQS" | "SNS", request: AccessRequest): void {
    try {
      this.options.principals.check(request);
    } catch (e) {
      if (!(e instanceof AccessDeniedError)) throw e;
      const [name, service, status, code] = INTEGRATION_DENIALS[integration];
      throw named(name, `${e.message} (Service: ${service}; Status Code: ${status}; Error Code: ${code}; Request ID: ${randomUUID()}; Proxy: null)`);
    }
  }

  private sqsSendMessage(principal: Principal, input: Record<string, unknown>, log: (kind: TraceEntry["kind"], detail: string) => void): unknown {
    const queueUrl = String(input.QueueUrl ?? "");
    this.authorizeIntegration("SQS", { principal, service: "sqs", action: "sqs:SendMessage", resource: this.options.sqs.queueArnFor(queueUrl) });
    try {
      const body = typeof input.MessageBody === "string" ? input.MessageBody : JSON.stringify(input.MessageBody);
      const out = this.options.sqs.sendMessage({ ...(input as object), QueueUrl: queueUrl, MessageBody: body } as never, principal.name);
      log("sqs", `message ${out.MessageId.slice(0, 8)} sent to ${queueUrl.split("/").pop()}`);
      return { ...out, SdkHttpMetadata: { HttpStatusCode: 200 }, SdkResponseMetadata: { RequestId: randomUUID() } };
    } catch (err) {
      if (err instanceof ServiceError) throw named(`SQS.${exceptionName(err.code)}`, err.message);
      throw err;
    }
  }

  private snsPublish(principal: Principal, input: Record<string, unknown>, log: (kind: TraceEntry["kind"], detail: string) => void): unknown {
    const topicArn = String(input.TopicArn ?? input.TargetArn ?? "");
    this.authorizeIntegration("SNS", { principal, service: "sns", action: "sns:Publish", resource: topicArn });
    try {
      const message = typeof input.Message === "string" ? input.Message : JSON.stringify(input.Message);
      const out = this.options.sns.publish({ topicArn, message, subject: input.Subject as string | undefined, messageGroupId: input.MessageGroupId as string | undefined, attributes: input.MessageAttributes as never }, principal);
      log("sns", `message ${out.messageId.slice(0, 8)} published to ${topicArn.split(":").pop()}`);
      return { MessageId: out.messageId, SdkHttpMetadata: { HttpStatusCode: 200 } };
    } catch (err) {
      if (err instanceof ServiceError) throw named(`SNS.${exceptionName(err.code)}`, err.message);
      throw err;
    }
  }

  private async dynamodb(principal: Principal, operation: string, input: Record<string, unknown>, log: (kind: TraceEntry["kind"], detail: string) => void): Promise<unknown> {
    try {
      const out = await this.options.dynamodb(principal, operation.charAt(0).toUpperCase() + operation.slice(1), input);
      log("dynamodb", `${operation} ${String(input.TableName)}`);
      return out;
    } catch (err) {
      const e = err as Error;
      throw named(`DynamoDB.${e.name}`, e.message);
    }
  }

  /**
   * Registers a token and returns the promise the Task waits on. Its heartbeat window and its TimeoutSeconds run
   * from now, on wall time plus the time the local cloud skips for the task (clock.ts). Both expire as AWS reports
   * them: `States.Timeout` (Catch/Retry on `States.HeartbeatTimeout` match a heartbeat expiry too, see asEngineRuns).
   */
  private waitForToken(record: ExecutionRecord, stateName: string, token: string, state: TaskState): { promise: Promise<unknown>; entry: TokenEntry } {
    let resolve!: (v: unknown) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    const expire = (which: "heartbeat" | "timeout") => () => {
      this.trace(record, { t: Date.now() - record.startDate, kind: "token", state: stateName, detail: which === "heartbeat" ? `no heartbeat for ${state.HeartbeatSeconds} s (HeartbeatSeconds)` : `TimeoutSeconds (${state.TimeoutSeconds} s) reached` });
      entry.reject(Object.assign(new StatesTimeoutError(), { message: "" }));
    };
    const heartbeat = state.HeartbeatSeconds ? new TaskWindow(state.HeartbeatSeconds * 1000, expire("heartbeat")) : undefined;
    const timeout = state.TimeoutSeconds ? new TaskWindow(state.TimeoutSeconds * 1000, expire("timeout")) : undefined;
    const windows = [heartbeat, timeout].filter((w): w is TaskWindow => !!w);
    const clear = () => windows.forEach((w) => w.cancel());
    const entry: TokenEntry = {
      token,
      execution: record,
      stateName,
      status: "waiting",
      heartbeats: 0,
      resolve: (output) => {
        if (entry.status !== "waiting") return;
        entry.status = "succeeded";
        clear();
        resolve(output);
      },
      reject: (error) => {
        if (entry.status !== "waiting") return;
        entry.status = error.name === "States.Timeout" ? "timed-out" : "failed";
        clear();
        reject(error);
      },
      touch: () => heartbeat?.restart(),
      skip: (ms) => {
        // The window with less time left expires first, as it would have in the skipped time.
        for (const w of [...windows].sort((a, b) => a.remainingMs() - b.remainingMs())) w.skip(ms);
      },
      skipToEnd: () => {
        const first = [...windows].sort((a, b) => a.remainingMs() - b.remainingMs())[0];
        first?.skipToEnd();
      },
      close: () => {
        if (entry.status !== "waiting") return;
        entry.status = "closed";
        clear();
        // Settles the Task for the library, which otherwise keeps its own Task timer (2,000,000 s) alive after a stop.
        reject(named("States.Runtime", "the execution ended while the task waited for its token"));
      },
    };
    this.tokens.set(token, entry);
    return { promise, entry };
  }

  /** SendTaskSuccess: the waiting task ends with `outputText` (JSON, at most 256 KiB) as its result. */
  sendTaskSuccess(token: unknown, outputText: unknown): void {
    const entry = this.requireToken(token);
    let output: unknown;
    try {
      output = JSON.parse(String(outputText));
    } catch {
      throw new ServiceError("InvalidOutput", "Invalid output: not valid JSON", 400);
    }
    if (Buffer.byteLength(String(outputText)) > DATA_LIMIT_BYTES) throw new ServiceError("InvalidOutput", `Invalid output: exceeds the maximum size of ${DATA_LIMIT_BYTES} bytes`, 400);
    this.trace(entry.execution, { t: Date.now() - entry.execution.startDate, kind: "token", state: entry.stateName, detail: "SendTaskSuccess" });
    entry.resolve(output);
  }

  /** SendTaskFailure: the waiting task fails with the caller's error and cause. */
  sendTaskFailure(token: unknown, error?: string, cause?: string): void {
    const entry = this.requireToken(token);
    this.trace(entry.execution, { t: Date.now() - entry.execution.startDate, kind: "token", state: entry.stateName, detail: `SendTaskFailure ${error ?? ""}` });
    entry.reject(named(error ?? "", cause ?? ""));
  }

  /** SendTaskHeartbeat: the task's heartbeat window starts again. */
  sendTaskHeartbeat(token: unknown): void {
    const entry = this.requireToken(token);
    entry.heartbeats++;
    entry.touch();
    // Listeners run before the caller gets its answer: a test may act on the task at this exact point.
    this.emit("heartbeat", entry.execution, entry.stateName, entry.heartbeats, entry.token);
  }

  /**
   * Skips `ms` of a waiting task's time (clock.ts): used up from its heartbeat window and TimeoutSeconds at once, as if
   * that much time had passed for it with nothing happening. For tests; the ECS runtime skips a task's start-up and
   * a stall the same way.
   */
  skipTaskTime(token: string, ms: number, reason: string): void {
    const entry = this.tokens.get(token);
    if (!entry || entry.status !== "waiting") throw new Error(`no task waits on token ${token.slice(0, 12)}…`);
    this.trace(entry.execution, { t: Date.now() - entry.execution.startDate, kind: "token", state: entry.stateName, detail: `${Math.round(ms / 1000)} s skipped: ${reason}` });
    entry.skip(ms);
  }

  /** Task tokens issued to an execution, with their state: for tests and the trace. */
  tokensOf(executionArn: string): Array<{ token: string; stateName: string; status: TokenEntry["status"]; heartbeats: number }> {
    return [...this.tokens.values()]
      .filter((t) => t.execution.executionArn === executionArn)
      .map((t) => ({ token: t.token, stateName: t.stateName, status: t.status, heartbeats: t.heartbeats }));
  }

  /**
   * The task a token names, while it waits. A token whose task has ended — timed out, reported, or closed with its
   * execution (StopExecution included) — answers TaskTimedOut: "the task token has either expired or the task
   * associated with the token has already been closed" (API_SendTaskSuccess). TaskDoesNotExist is for activities.
   */
  private requireToken(token: unknown): TokenEntry {
    const entry = typeof token === "string" ? this.tokens.get(token) : undefined;
    if (!entry) throw new ServiceError("InvalidToken", "Invalid Token: 'Invalid token'", 400);
    if (entry.status !== "waiting") throw new ServiceError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'", 400);
    return entry;
  }

  requireExecution(arn: unknown): ExecutionRecord {
    const exec = typeof arn === "string" ? this.executions.get(arn) : undefined;
    if (!exec) throw new ServiceError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`, 400);
    return exec;
  }

  /** The executions that have ended, for `--persist` (a running one is aborted by `stop` first). */
  savedExecutions(): SavedExecution[] {
    return [...this.executions.values()].filter((e) => e.status !== "RUNNING").map(({ history, done: _done, ...e }) => ({ ...e, events: history.events }));
  }

  /** Executions kept from an earlier boot: described, listed and their history read as before; never run again. */
  restoreExecutions(saved: readonly SavedExecution[]): void {
    for (const { events, ...e } of saved) {
      const record: ExecutionRecord = { ...e, history: ExecutionHistory.restored(events), done: Promise.resolve().then(() => record) };
      this.executions.set(record.executionArn, record);
    }
  }

  async stop(): Promise<void> {
    for (const abort of this.aborts.values()) abort();
    for (const entry of this.tokens.values()) entry.close();
    await Promise.allSettled([...this.executions.values()].map((e) => Promise.race([e.done, new Promise((r) => setTimeout(r, 500))])));
  }
}

/**
 * The definition the engine runs, adjusted where aws-local-stepfunctions differs from Step Functions:
 * - Task TimeoutSeconds taken out: the Task handlers enforce them (see runTask), and no library default either —
 *   the library gives a Task without TimeoutSeconds 60 s, AWS gives none.
 * - `States.HeartbeatTimeout` in ErrorEquals also written as `States.Timeout`: AWS reports a missed heartbeat as
 *   `States.Timeout` and lets Catch/Retry name it `States.HeartbeatTimeout` as well; the library matches names only.
 *   (Locally, such a catcher also matches the Task's own TimeoutSeconds; AWS does not document that case.)
 */
function asEngineRuns<T extends { States: Record<string, AnyState> }>(definition: T): T {
  const copy = structuredClone(definition);
  const visit = (states: Record<string, AnyState>) => {
    for (const state of Object.values(states)) {
      if (state.Type === "Task" && state.TimeoutSecondsPath === undefined) {
        // Longest a Node.js timer can wait (~24.8 days); setTimeout fires at once beyond it.
        state.TimeoutSeconds = 2_000_000;
      }
      for (const rule of [...(state.Retry ?? []), ...(state.Catch ?? [])] as Array<{ ErrorEquals: string[] }>) {
        if (rule.ErrorEquals.includes("States.HeartbeatTimeout") && !rule.ErrorEquals.includes("States.Timeout")) rule.ErrorEquals = [...rule.ErrorEquals, "States.Timeout"];
      }
      const inner = state.ItemProcessor ?? state.Iterator;
      if (inner) visit(inner.States);
      for (const branch of state.Branches ?? []) visit(branch.States);
    }
  };
  visit(copy.States);
  return copy;
}

/** Every state of a definition, nested Map and Parallel states included (ASL names are unique machine-wide). */
export function collectStates(definition: { States: Record<string, AnyState> }): Array<[string, AnyState]> {
  const out: Array<[string, AnyState]> = [];
  for (const [name, state] of Object.entries(definition.States)) {
    out.push([name, state]);
    if (state.Type === "Map") {
      const inner = state.ItemProcessor ?? state.Iterator;
      if (inner) out.push(...collectStates(inner));
    }
    if (state.Type === "Parallel") for (const branch of state.Branches ?? []) out.push(...collectStates(branch));
  }
  return out;
}

function findToken(value: unknown, issued: Set<string>): string | undefined {
  if (typeof value === "string") return issued.has(value) ? value : undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = findToken(v, issued);
      if (t) return t;
    }
    return undefined;
  }
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) {
      const t = findToken(v, issued);
      if (t) return t;
    }
  }
  return undefined;
}

/** Characters an execution name must not contain (API_StartExecution): white space, brackets, wildcards, specials, controls. */
const FORBIDDEN_IN_NAMES = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f\ufffe\uffff\ud800-\udfff]/u;

/** InvalidName unless `name` is a valid execution name (1–80 characters, none of the forbidden ones). */
export function validateExecutionName(name: string): void {
  if (name.length < 1 || name.length > 80 || FORBIDDEN_IN_NAMES.test(name)) throw new ServiceError("InvalidName", `Invalid Name: '${name}'`, 400);
}

/**
 * The history events of one Task state's work, as Step Functions records them for its kind of resource: a Lambda
 * function ARN as the Resource gives `LambdaFunctionScheduled/Started/Succeeded|Failed|TimedOut`, a service
 * integration (`arn:aws:states:::service:action[.pattern]`) `TaskScheduled/Started/[Submitted/]Succeeded|Failed|TimedOut`
 * with the integration's `resourceType` and `resource` (LocalStack's recorded histories, see history.ts).
 */
function taskEvents(run: RunHistory | undefined, resource: string, state: TaskState, input: unknown, region: string) {
  const errorDetails = (err: Error) => ({ error: err.name, ...(err.message ? { cause: err.message } : {}) });
  const limits = { ...(state.TimeoutSeconds ? { timeoutInSeconds: state.TimeoutSeconds } : {}), ...(state.HeartbeatSeconds ? { heartbeatInSeconds: state.HeartbeatSeconds } : {}) };
  let started = false;
  const once = (event: () => void) => () => {
    if (started) return;
    started = true;
    event();
  };
  if (/^arn:[^:]+:lambda:/.test(resource)) {
    run?.event("LambdaFunctionScheduled", { resource, input: payload(input), inputDetails: { truncated: false }, ...(state.TimeoutSeconds ? { timeoutInSeconds: state.TimeoutSeconds } : {}) });
    return {
      started: once(() => run?.event("LambdaFunctionStarted")),
      submitted: (_output: unknown) => undefined,
      succeeded: (output: unknown) => run?.event("LambdaFunctionSucceeded", { output: payload(output), outputDetails: { truncated: false } }),
      failed: (err: Error) => run?.event(err instanceof StatesTimeoutError ? "LambdaFunctionTimedOut" : "LambdaFunctionFailed", errorDetails(err)),
    };
  }
  const [, resourceType = "", action = resource] = /^arn:[^:]+:states:::([^:]+):(.+)$/.exec(resource) ?? [];
  const common = { resourceType, resource: action };
  run?.event("TaskScheduled", { ...common, region, parameters: payload(input), ...limits });
  return {
    started: once(() => run?.event("TaskStarted", common)),
    submitted: (output: unknown) => run?.event("TaskSubmitted", { ...common, output: payload(output), outputDetails: { truncated: false } }),
    succeeded: (output: unknown) => run?.event("TaskSucceeded", { ...common, output: payload(output), outputDetails: { truncated: false } }),
    failed: (err: Error) => run?.event(err instanceof StatesTimeoutError ? "TaskTimedOut" : "TaskFailed", { ...common, ...errorDetails(err) }),
  };
}

/** Per integration: the error Step Functions raises for a denied call, and the service, status and code in its cause. */
const INTEGRATION_DENIALS = {
  Lambda: ["Lambda.AWSLambdaException", "AWSLambda", 403, "AccessDeniedException"],
  ECS: ["ECS.AccessDeniedException", "AmazonECS", 400, "AccessDeniedException"],
  SQS: ["SQS.AmazonSQSException", "AmazonSQS", 403, "AccessDenied"],
  SNS: ["SNS.AuthorizationErrorException", "AmazonSNS", 403, "AuthorizationError"],
} as const;

function exceptionName(code: string): string {
  return code.endsWith("Exception") ? code : `${code}Exception`;
}

function short(s: string): string {
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}
