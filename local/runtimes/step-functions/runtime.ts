import { randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import { LocalClock, TaskWindow } from "../../clock";
import { EcsRuntime, RunTaskInput, TaskRecord } from "../ecs/runtime";
import { InvokeResult, LambdaRuntime } from "../lambda/runtime";
import { Principal, PrincipalRegistry } from "../../iam/principals";
import { LOCAL_ACCOUNT, LOCAL_PARTITION } from "../../program/resource-state";
import { Access, ServiceError } from "../../services/errors";
import { LocalSns } from "../../services/sns";
import { LocalSqs } from "../../services/sqs";

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
  output?: unknown;
  error: { error: string; cause: string | null } | null;
  readonly startDate: number;
  stopDate?: number;
  /** State names entered, in order; a retried state appears once more per retry. */
  readonly path: string[];
  readonly trace: TraceEntry[];
  /** Resolves when the execution has ended. */
  readonly done: Promise<ExecutionRecord>;
}

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

/** Above this, a state's input or output fails the execution with States.DataLimitExceeded (256 KiB in AWS). */
const DATA_LIMIT_BYTES = 256 * 1024;

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
  private readonly engines = new Map<string, StateMachine>();
  readonly executions = new Map<string, ExecutionRecord>();
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly aborts = new Map<string, () => void>();

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

  startExecution(stateMachineArn: string, input: unknown, name?: string): ExecutionRecord {
    const spec = this.machines.get(stateMachineArn);
    if (!spec) throw new ServiceError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${stateMachineArn}'`, 400);
    const executionName = name ?? randomUUID();
    const executionArn = `arn:${LOCAL_PARTITION}:states:${this.options.region}:${LOCAL_ACCOUNT}:execution:${spec.name}:${executionName}`;
    if (this.executions.has(executionArn)) throw new ServiceError("ExecutionAlreadyExists", `Execution Already Exists: '${executionArn}'`, 400);
    // StartExecution's `input` is limited to 262144 characters: AWS refuses the call (nothing runs, nothing is written).
    const inputSize = Buffer.byteLength(JSON.stringify(input ?? {}));
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
      error: null,
      startDate: Date.now(),
      path: [],
      trace: [],
      done: new Promise<ExecutionRecord>((resolve) => (finish = resolve)),
    };
    this.executions.set(executionArn, record);
    this.emit("execution-started", record);
    void this.run(spec, record, principal).then(() => finish(record));
    return record;
  }

  private async run(spec: StateMachineSpec, record: ExecutionRecord, principal: Principal): Promise<void> {
    const timeoutErrorClass = await statesTimeoutErrorClass();
    const issued = new Set<string>();
    const tasks = collectStates(spec.definition).filter(([, s]) => s.Type === "Task") as Array<[string, TaskState]>;
    const taskResourceLocalHandlers = Object.fromEntries(
      tasks.map(([stateName, state]) => [
        stateName,
        (input: unknown) => this.runTask({ record, principal, stateName, state, input, issued, timeoutErrorClass }),
      ]),
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
    const context = {
      Execution: { Id: record.executionArn, Name: record.name, RoleArn: spec.roleArn },
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
    const execution = this.engines.get(spec.arn)!.run(record.input as never, {
      overrides: { taskResourceLocalHandlers: taskResourceLocalHandlers as never, retryIntervalOverrides, waitTimeOverrides },
      context: context as never,
    });
    this.aborts.set(record.executionArn, execution.abort);
    const events = this.consumeEvents(record, execution.eventLogs);
    try {
      record.output = await execution.result;
      record.status = "SUCCEEDED";
    } catch (err) {
      if (err instanceof ExecutionTimeoutError) {
        record.status = "TIMED_OUT";
        record.error = { error: "States.Timeout", cause: null };
      } else if (err instanceof ExecutionAbortedError) {
        record.status = "ABORTED";
      } else {
        record.status = "FAILED";
        const cause = err instanceof ExecutionError ? (err.cause as Error) : (err as Error);
        const defaultFailCause = cause?.constructor?.name === "FailStateError" && cause.message === "Execution failed because of a Fail state";
        record.error = { error: cause?.name ?? "States.Runtime", cause: defaultFailCause ? null : (cause?.message ?? null) };
      }
    } finally {
      this.aborts.delete(record.executionArn);
      record.stopDate = Date.now();
      for (const entry of this.tokens.values()) if (entry.execution === record && entry.status === "waiting") entry.close();
      // The event stream ends with the execution; bound the wait in case the library leaves it open.
      await Promise.race([events, new Promise((r) => setTimeout(r, 100))]);
      this.emit("execution-ended", record);
    }
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

  private async runTask(args: {
    record: ExecutionRecord;
    principal: Principal;
    stateName: string;
    state: TaskState;
    input: unknown;
    issued: Set<string>;
    timeoutErrorClass: new () => Error;
  }): Promise<unknown> {
    const { record, principal, stateName, state, input, issued } = args;
    const resource = state.Resource;
    const waitForToken = resource.endsWith(".waitForTaskToken");
    const token = waitForToken ? findToken(input, issued) : undefined;
    issued.clear();
    if (waitForToken && !token) {
      throw named("States.Runtime", `The state ${stateName} uses .waitForTaskToken but its Parameters do not pass $$.Task.Token`, { catchable: false });
    }
    const log = (kind: TraceEntry["kind"], detail: string) => this.trace(record, { t: Date.now() - record.startDate, kind, state: stateName, detail });
    const tokenWait = token ? this.waitForToken(record, stateName, token, state, args.timeoutErrorClass) : undefined;
    // TimeoutSeconds runs from when the work starts: a Lambda invocation waiting for a free local execution
    // environment has not started (in AWS it would have). Token waits time out on their own timer.
    let timer: NodeJS.Timeout | undefined;
    let startClock = () => undefined as void;
    const timeout =
      state.TimeoutSeconds && !tokenWait
        ? new Promise<never>((_, reject) => {
            startClock = () => {
              timer ??= setTimeout(() => reject(Object.assign(new args.timeoutErrorClass(), { message: "" })), state.TimeoutSeconds! * 1000);
            };
          })
        : undefined;
    const bounded = <T>(work: Promise<T>): Promise<T> => (timeout ? Promise.race([work, timeout]) : work);
    try {
      let result: unknown;
      const base = resource.replace(/\.(waitForTaskToken|sync(:2)?)$/, "");
      if (/^arn:[^:]+:lambda:/.test(resource) || base.endsWith(":::lambda:invoke")) {
        result = await bounded(this.invokeLambda({ record, principal, stateName, resource, input, timeoutErrorClass: args.timeoutErrorClass, log, onStart: () => startClock() }));
      } else if (base.endsWith(":::ecs:runTask")) {
        startClock();
        result = await bounded(this.runEcsTask({ record, principal, resource, input, token, log }));
      } else if (base.endsWith(":::sqs:sendMessage")) {
        result = this.sqsSendMessage(principal, input as Record<string, unknown>, log);
      } else if (base.endsWith(":::sns:publish")) {
        result = this.snsPublish(principal, input as Record<string, unknown>, log);
      } else if (/:::dynamodb:(getItem|putItem|updateItem|deleteItem)$/.test(base)) {
        startClock();
        result = await bounded(this.dynamodb(principal, base.split(":").pop()!, input as Record<string, unknown>, log));
      } else {
        throw named("States.Runtime", `The local cloud does not implement the Task resource ${resource}`, { catchable: false });
      }
      if (tokenWait) {
        log("token", `waiting for task token (heartbeat ${state.HeartbeatSeconds ?? "none"} s)`);
        result = await tokenWait.promise;
      }
      checkSize(stateName, result);
      return result;
    } catch (err) {
      tokenWait?.entry.close();
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
    timeoutErrorClass: new () => Error;
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
    this.options.principals.check({ principal, service: "lambda", action: "lambda:InvokeFunction", resource: functionArn });
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
    this.options.principals.check({ principal: args.principal, service: "ecs", action: "ecs:RunTask", resource: td?.arn ?? params.TaskDefinition, context: { "ecs:cluster": clusterArn } });
    for (const role of [td?.taskRoleArn, td?.executionRoleArn].filter((r): r is string => !!r)) {
      this.options.principals.check({ principal: args.principal, service: "iam", action: "iam:PassRole", resource: role, context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } });
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
      await task.stopped;
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
    return undefined;
  }

  private sqsSendMessage(principal: Principal, input: Record<string, unknown>, log: (kind: TraceEntry["kind"], detail: string) => void): unknown {
    const queueUrl = String(input.QueueUrl ?? "");
    this.options.principals.check({ principal, service: "sqs", action: "sqs:SendMessage", resource: this.options.sqs.queueArnFor(queueUrl) });
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
    this.options.principals.check({ principal, service: "sns", action: "sns:Publish", resource: topicArn });
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
  private waitForToken(record: ExecutionRecord, stateName: string, token: string, state: TaskState, timeoutErrorClass: new () => Error): { promise: Promise<unknown>; entry: TokenEntry } {
    let resolve!: (v: unknown) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    const expire = (which: "heartbeat" | "timeout") => () => {
      this.trace(record, { t: Date.now() - record.startDate, kind: "token", state: stateName, detail: which === "heartbeat" ? `no heartbeat for ${state.HeartbeatSeconds} s (HeartbeatSeconds)` : `TimeoutSeconds (${state.TimeoutSeconds} s) reached` });
      entry.reject(Object.assign(new timeoutErrorClass(), { message: "" }));
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
        if (entry.status === "waiting") entry.status = "closed";
        clear();
      },
    };
    this.tokens.set(token, entry);
    return { promise, entry };
  }

  /** The IAM view of a Step Functions API call. */
  describe(operation: string, input: Record<string, any>): Access[] {
    const action = `states:${operation}`;
    switch (operation) {
      case "SendTaskSuccess":
      case "SendTaskFailure":
      case "SendTaskHeartbeat":
        // These act on a task token and have no resource type: IAM evaluates them against "*".
        return [{ action, resource: "*" }];
      case "StartExecution":
      case "StartSyncExecution":
      case "DescribeStateMachine":
      case "ListExecutions":
        return [{ action, resource: String(input.stateMachineArn ?? "*") }];
      default:
        return [{ action, resource: String(input.executionArn ?? "*") }];
    }
  }

  /** The Step Functions API (AWS JSON 1.0), as the front door serves it. */
  async api(operation: string, input: Record<string, any>, _principal: Principal): Promise<unknown> {
    switch (operation) {
      case "StartExecution": {
        const exec = this.startExecution(String(input.stateMachineArn ?? ""), parseInput(input.input), input.name);
        return { executionArn: exec.executionArn, startDate: exec.startDate / 1000 };
      }
      case "StartSyncExecution": {
        const exec = await this.startExecution(String(input.stateMachineArn ?? ""), parseInput(input.input), input.name).done;
        return { ...this.describeExecution(exec), billingDetails: { billedDurationInMilliseconds: (exec.stopDate ?? 0) - exec.startDate } };
      }
      case "DescribeExecution":
        return this.describeExecution(this.requireExecution(input.executionArn));
      case "StopExecution": {
        const exec = this.requireExecution(input.executionArn);
        this.aborts.get(exec.executionArn)?.();
        exec.error = { error: input.error ?? "", cause: input.cause ?? null };
        return { stopDate: Date.now() / 1000 };
      }
      case "ListExecutions": {
        const list = [...this.executions.values()].filter((e) => e.stateMachineArn === input.stateMachineArn && (!input.statusFilter || e.status === input.statusFilter));
        return { executions: list.map((e) => ({ executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status, startDate: e.startDate / 1000, stopDate: e.stopDate ? e.stopDate / 1000 : undefined })) };
      }
      case "DescribeStateMachine": {
        const sm = this.machines.get(String(input.stateMachineArn ?? ""));
        if (!sm) throw new ServiceError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${input.stateMachineArn}'`, 400);
        return { stateMachineArn: sm.arn, name: sm.name, status: "ACTIVE", definition: JSON.stringify(sm.definition), roleArn: sm.roleArn, type: sm.type, creationDate: 0 };
      }
      case "SendTaskSuccess": {
        const entry = this.requireToken(input.taskToken);
        let output: unknown;
        try {
          output = JSON.parse(String(input.output));
        } catch {
          throw new ServiceError("InvalidOutput", "Invalid output: not valid JSON", 400);
        }
        if (Buffer.byteLength(String(input.output)) > DATA_LIMIT_BYTES) throw new ServiceError("InvalidOutput", "Invalid output: exceeds the maximum size of 262144 bytes", 400);
        this.trace(entry.execution, { t: Date.now() - entry.execution.startDate, kind: "token", state: entry.stateName, detail: "SendTaskSuccess" });
        entry.resolve(output);
        return {};
      }
      case "SendTaskFailure": {
        const entry = this.requireToken(input.taskToken);
        this.trace(entry.execution, { t: Date.now() - entry.execution.startDate, kind: "token", state: entry.stateName, detail: `SendTaskFailure ${input.error ?? ""}` });
        entry.reject(named(input.error ?? "", input.cause ?? ""));
        return {};
      }
      case "SendTaskHeartbeat": {
        const entry = this.requireToken(input.taskToken);
        entry.heartbeats++;
        entry.touch();
        // Listeners run before the caller gets its answer: a test may act on the task at this exact point.
        this.emit("heartbeat", entry.execution, entry.stateName, entry.heartbeats, entry.token);
        return {};
      }
      default:
        throw new ServiceError("UnknownOperationException", `The local Step Functions does not implement ${operation}`, 400);
    }
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

  private requireToken(token: unknown): TokenEntry {
    const entry = typeof token === "string" ? this.tokens.get(token) : undefined;
    if (!entry) throw new ServiceError("InvalidToken", "Invalid Token: 'Invalid token'", 400);
    if (entry.status === "timed-out") throw new ServiceError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'", 400);
    if (entry.status !== "waiting") throw new ServiceError("TaskDoesNotExist", "Task Does Not Exist: 'Provided task does not exist anymore'", 400);
    return entry;
  }

  private requireExecution(arn: unknown): ExecutionRecord {
    const exec = typeof arn === "string" ? this.executions.get(arn) : undefined;
    if (!exec) throw new ServiceError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`, 400);
    return exec;
  }

  describeExecution(e: ExecutionRecord): Record<string, unknown> {
    return {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDate / 1000,
      ...(e.stopDate ? { stopDate: e.stopDate / 1000 } : {}),
      input: JSON.stringify(e.input),
      ...(e.status === "SUCCEEDED" ? { output: JSON.stringify(e.output) } : {}),
      ...(e.error ? { error: e.error.error, ...(e.error.cause !== null ? { cause: e.error.cause } : {}) } : {}),
    };
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

/** An error as Step Functions sees it: `name` is the error, `message` the cause. */
export function named(name: string, message: string, flags: { catchable?: boolean } = {}): Error {
  const err = new Error(message);
  err.name = name;
  if (flags.catchable === false) Object.defineProperties(err, { isCatchable: { value: false }, isRetryable: { value: false } });
  return err;
}

function exceptionName(code: string): string {
  return code.endsWith("Exception") ? code : `${code}Exception`;
}

function checkSize(stateName: string, result: unknown): void {
  const size = Buffer.byteLength(JSON.stringify(result ?? null));
  if (size > DATA_LIMIT_BYTES) {
    throw named("States.DataLimitExceeded", `The state/task '${stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`, { catchable: false });
  }
}

function parseInput(input: unknown): unknown {
  if (input === undefined || input === null || input === "") return {};
  try {
    return JSON.parse(String(input));
  } catch {
    throw new ServiceError("InvalidExecutionInput", "Invalid State Machine Execution Input: not valid JSON", 400);
  }
}

function short(s: string): string {
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

let timeoutErrorClass: Promise<new () => Error> | undefined;

/**
 * The library's own States.Timeout error class. Retry and Catch treat States.Timeout specially (States.TaskFailed
 * does not match it) by `instanceof` on a class the library does not export; a Lambda that ran out of time must be
 * that class, so it is taken from a one-state probe whose Task times out after 1 ms.
 */
export function statesTimeoutErrorClass(): Promise<new () => Error> {
  timeoutErrorClass ??= (async () => {
    const probe = new StateMachine(
      { StartAt: "Probe", States: { Probe: { Type: "Task", Resource: "arn:aws:lambda:us-east-1:000000000000:function:probe", TimeoutSeconds: 0.001, End: true } } } as StateMachineDefinition,
      { validationOptions: { noValidate: true } },
    );
    const run = probe.run({}, { overrides: { taskResourceLocalHandlers: { Probe: () => new Promise(() => undefined) } } });
    try {
      await run.result;
    } catch (err) {
      const cause = (err as { cause?: Error }).cause;
      if (cause?.name === "States.Timeout") return cause.constructor as new () => Error;
    }
    throw new Error("aws-local-stepfunctions did not raise States.Timeout from its probe");
  })();
  return timeoutErrorClass;
}
