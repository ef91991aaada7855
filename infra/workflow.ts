import { ResolvedStatement } from "./policy";

/**
 * A typed builder for Amazon States Language. States are added through methods that know each integration, so the
 * builder can collect — from the states it actually renders — the exact IAM statements the state machine's role needs.
 * Plain data in, plain data out: ARNs are strings here (components resolve Pulumi outputs first), which keeps the
 * builder testable without mocks.
 */

/** Step Functions errors the Lambda service raises for faults that are safe to retry. */
export const LAMBDA_TRANSIENT_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.ClientExecutionTimeoutException",
  "Lambda.TooManyRequestsException",
] as const;

/** A Lambda function that ran out of time: `States.Timeout` when the Task's TimeoutSeconds fires first, `Sandbox.Timedout` when the function's own timeout does. */
export const LAMBDA_TIMEOUT_ERRORS = ["States.Timeout", "Sandbox.Timedout"] as const;

/**
 * A Lambda function that ran out of memory: `Runtime.OutOfMemory` (the errorType Lambda reports, which Step Functions
 * names the error after), `Lambda.Unknown` where Lambda reports no errorType (older runtimes did so for memory and
 * time both), and `Runtime.ExitError`: a process killed at its memory size is reported so too ("Runtime exited with
 * error: signal: killed", in public reports of Node.js functions), and so is one that V8 aborts at its heap limit
 * (the runtime caps the heap near the memory size). A process that ends for another reason (`process.exit`, a
 * native crash) takes the same path: its Fargate run fails the same way, for the price of one task.
 */
export const LAMBDA_RESOURCE_ERRORS = ["Runtime.OutOfMemory", "Lambda.Unknown", "Runtime.ExitError"] as const;

/** State names are limited to 80 characters by ASL. */
const MAX_STATE_NAME = 80;

export interface RetryRule {
  readonly errors: readonly string[];
  readonly intervalSeconds: number;
  readonly maxAttempts: number;
  readonly backoffRate: number;
  readonly maxDelaySeconds?: number;
  readonly jitter?: "FULL" | "NONE";
}

export interface CatchRule {
  readonly errors: readonly string[];
  readonly next: string;
  /** Where the error `{ Error, Cause }` goes; `$.error` unless set. */
  readonly resultPath?: string;
}

/** The retry every Lambda Task gets: transient Lambda faults, exponential backoff capped, full jitter. */
export const DEFAULT_LAMBDA_RETRY: RetryRule = {
  errors: LAMBDA_TRANSIENT_ERRORS,
  intervalSeconds: 1,
  maxAttempts: 4,
  backoffRate: 2,
  maxDelaySeconds: 8,
  jitter: "FULL",
};

interface Transition {
  /** The next state; omit for the end of the workflow (or of a Map iteration). */
  readonly next?: string;
}

interface TaskCommon extends Transition {
  readonly comment?: string;
  /** Required for every Task: Step Functions waits forever (a year) without one. */
  readonly timeoutSeconds: number;
  readonly parameters?: Record<string, unknown>;
  /** JSONPath for the result; `null` discards it. Default: replace the state with the result. */
  readonly resultPath?: string | null;
  readonly resultSelector?: Record<string, unknown>;
  readonly retry?: readonly RetryRule[];
  readonly catch?: readonly CatchRule[];
}

export interface LambdaTaskProps extends TaskCommon {
  /** The ARN invoked: a function alias (`…:function:name:live`), which is also what the role may invoke. */
  readonly functionArn: string;
}

export interface EcsTaskProps extends TaskCommon {
  readonly clusterArn: string;
  readonly taskDefinitionArn: string;
  /** The roles the task runs with; the state machine must be allowed to pass exactly these. */
  readonly passRoleArns: readonly string[];
  readonly containerName: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly assignPublicIp: boolean;
  /** Container environment overrides: plain values or `{ path }` for a JSONPath / intrinsic evaluated at run time. */
  readonly environment: Readonly<Record<string, string | { readonly path: string }>>;
  /** The task reports back with SendTaskHeartbeat at least this often or the state fails with States.HeartbeatTimeout. */
  readonly heartbeatSeconds: number;
}

export interface SqsSendProps extends TaskCommon {
  readonly queueUrl: string;
  readonly queueArn: string;
  /** Message body template (Parameters syntax, `key.$` for paths). */
  readonly messageBody: Record<string, unknown>;
  /** For FIFO queues: one writer per entity — the message group (e.g. the order id path). */
  readonly messageGroupIdPath?: string;
}

export interface ChoiceRule {
  readonly condition: Record<string, unknown>;
  readonly next: string;
}

export interface MapProps extends Transition {
  readonly itemsPath: string;
  readonly itemSelector?: Record<string, unknown>;
  readonly maxConcurrency: number;
  readonly processor: Workflow;
  readonly resultPath?: string | null;
  readonly retry?: readonly RetryRule[];
  readonly catch?: readonly CatchRule[];
}

type State = Record<string, unknown> & { Type: string };

export interface RenderedWorkflow {
  /** The ASL document (an object; `JSON.stringify` it for the state machine). */
  readonly definition: AslDefinition;
  /** What the state machine's role needs to run the states it contains, deduplicated. */
  readonly statements: ResolvedStatement[];
}

export interface AslDefinition {
  readonly Comment?: string;
  readonly StartAt: string;
  readonly TimeoutSeconds?: number;
  readonly States: Record<string, State>;
}

function renderRetry(rules: readonly RetryRule[] | undefined): Record<string, unknown> {
  if (!rules?.length) return {};
  return {
    Retry: rules.map((r) => ({
      ErrorEquals: [...r.errors],
      IntervalSeconds: r.intervalSeconds,
      MaxAttempts: r.maxAttempts,
      BackoffRate: r.backoffRate,
      ...(r.maxDelaySeconds !== undefined ? { MaxDelaySeconds: r.maxDelaySeconds } : {}),
      ...(r.jitter ? { JitterStrategy: r.jitter } : {}),
    })),
  };
}

function renderCatch(rules: readonly CatchRule[] | undefined): Record<string, unknown> {
  if (!rules?.length) return {};
  return { Catch: rules.map((c) => ({ ErrorEquals: [...c.errors], Next: c.next, ResultPath: c.resultPath ?? "$.error" })) };
}

function renderTransition(t: Transition): Record<string, unknown> {
  return t.next ? { Next: t.next } : { End: true };
}

/**
 * `arn:…:task-definition/<family>:<revision>` → `arn:…:task-definition/<family>:*`: every revision of that family and
 * no other family (the `:` ends the family name, which may contain only letters, digits, `-` and `_`).
 */
function taskDefinitionFamilyRevisions(state: string, taskDefinitionArn: string): string {
  const revision = /^(arn:[^:]+:ecs:[^:]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}):\d+$/.exec(taskDefinitionArn);
  if (!revision) throw new Error(`Task "${state}": \`taskDefinitionArn\` "${taskDefinitionArn}" must name a revision (arn:…:task-definition/<family>:<revision>)`);
  return `${revision[1]}:*`;
}

function renderTaskCommon(props: TaskCommon): Record<string, unknown> {
  return {
    ...(props.comment ? { Comment: props.comment } : {}),
    TimeoutSeconds: props.timeoutSeconds,
    ...(props.resultSelector ? { ResultSelector: props.resultSelector } : {}),
    ...(props.resultPath !== undefined ? { ResultPath: props.resultPath } : {}),
    ...renderRetry(props.retry),
    ...renderCatch(props.catch),
    ...renderTransition(props),
  };
}

/**
 * One workflow (or one Map iteration's sub-workflow). Add states in any order; `render()` checks the graph.
 *
 * @example
 * const wf = new Workflow({ comment: "orders", timeoutSeconds: 900 })
 *   .lambda("OrderPlacement", { functionArn, timeoutSeconds: 10, next: "Done" })
 *   .succeed("Done");
 * const { definition, statements } = wf.render("OrderPlacement");
 */
export class Workflow {
  private readonly states = new Map<string, State>();
  private readonly grants: ResolvedStatement[] = [];
  private readonly children: Workflow[] = [];

  constructor(private readonly options: { readonly comment?: string; readonly timeoutSeconds?: number } = {}) {}

  private add(name: string, state: State): this {
    if (name.length === 0 || name.length > MAX_STATE_NAME) throw new Error(`state name "${name}" must be 1–${MAX_STATE_NAME} characters`);
    if (this.states.has(name)) throw new Error(`state "${name}" is defined twice`);
    if (state.Type === "Task" && typeof state.TimeoutSeconds !== "number") throw new Error(`Task "${name}" needs \`timeoutSeconds\``);
    this.states.set(name, state);
    return this;
  }

  /** Invokes a Lambda function (alias) with the state (or `parameters`) as its event; the result is the function's return value. */
  lambda(name: string, props: LambdaTaskProps): this {
    this.grants.push({ sid: "InvokeFunctions", actions: ["lambda:InvokeFunction"], resources: [props.functionArn] });
    // The optimised `arn:aws:states:::lambda:invoke` integration wraps the result in { Payload, StatusCode, ... };
    // the function ARN as Resource returns the payload itself, which keeps ResultPath simple. Both raise the same
    // Lambda.* errors that the Retry rules match.
    return this.add(name, {
      Type: "Task",
      Resource: props.functionArn,
      ...(props.parameters ? { Parameters: props.parameters } : {}),
      ...renderTaskCommon(props),
    });
  }

  /**
   * Runs an ECS Fargate task and waits for the task token: the container reports its own output with SendTaskSuccess
   * (the `.sync` integration would return the ECS DescribeTasks result, not the job's output). A container that dies
   * without reporting stops heartbeating, so `heartbeatSeconds` bounds how long a crash goes unnoticed.
   */
  ecsRunTaskWithToken(name: string, props: EcsTaskProps): this {
    if (props.heartbeatSeconds >= props.timeoutSeconds) throw new Error(`Task "${name}": \`heartbeatSeconds\` must be below \`timeoutSeconds\``);
    this.grants.push(
      {
        sid: "RunExportTask",
        actions: ["ecs:RunTask"],
        // Every revision of the family, not the one this definition names: an execution runs the state machine
        // definition it started with, so one started before a deploy that registered revision N+1 still calls
        // RunTask on revision N — and the role is updated at once. Naming the exact revision would deny those
        // executions (and make the task definition's skipDestroy pointless). The cluster condition still keeps the
        // grant to the one cluster.
        resources: [taskDefinitionFamilyRevisions(name, props.taskDefinitionArn)],
        condition: { ArnEquals: { "ecs:cluster": props.clusterArn } },
      },
      {
        sid: "PassExportTaskRoles",
        actions: ["iam:PassRole"],
        resources: [...props.passRoleArns],
        condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      },
    );
    const environment = Object.entries(props.environment).map(([key, value]) =>
      typeof value === "string" ? { Name: key, Value: value } : { Name: key, "Value.$": value.path },
    );
    return this.add(name, {
      Type: "Task",
      Resource: "arn:aws:states:::ecs:runTask.waitForTaskToken",
      Parameters: {
        Cluster: props.clusterArn,
        TaskDefinition: props.taskDefinitionArn,
        LaunchType: "FARGATE",
        NetworkConfiguration: {
          AwsvpcConfiguration: {
            Subnets: [...props.subnetIds],
            SecurityGroups: [...props.securityGroupIds],
            AssignPublicIp: props.assignPublicIp ? "ENABLED" : "DISABLED",
          },
        },
        Overrides: { ContainerOverrides: [{ Name: props.containerName, Environment: environment }] },
        ...(props.parameters ?? {}),
      },
      HeartbeatSeconds: props.heartbeatSeconds,
      ...renderTaskCommon(props),
    });
  }

  /** Sends a message to SQS through the service integration (no Lambda in between). */
  sqsSendMessage(name: string, props: SqsSendProps): this {
    this.grants.push({ sid: "SendToQueues", actions: ["sqs:SendMessage"], resources: [props.queueArn] });
    return this.add(name, {
      Type: "Task",
      Resource: "arn:aws:states:::sqs:sendMessage",
      Parameters: {
        QueueUrl: props.queueUrl,
        MessageBody: props.messageBody,
        ...(props.messageGroupIdPath ? { "MessageGroupId.$": props.messageGroupIdPath } : {}),
      },
      ...renderTaskCommon(props),
    });
  }

  choice(name: string, props: { readonly comment?: string; readonly choices: readonly ChoiceRule[]; readonly otherwise: string }): this {
    if (props.choices.length === 0) throw new Error(`Choice "${name}" needs at least one rule`);
    return this.add(name, {
      Type: "Choice",
      ...(props.comment ? { Comment: props.comment } : {}),
      Choices: props.choices.map((c) => ({ ...c.condition, Next: c.next })),
      Default: props.otherwise,
    });
  }

  pass(name: string, props: Transition & { readonly parameters?: Record<string, unknown>; readonly resultPath?: string | null; readonly comment?: string }): this {
    return this.add(name, {
      Type: "Pass",
      ...(props.comment ? { Comment: props.comment } : {}),
      ...(props.parameters ? { Parameters: props.parameters } : {}),
      ...(props.resultPath !== undefined ? { ResultPath: props.resultPath } : {}),
      ...renderTransition(props),
    });
  }

  map(name: string, props: MapProps): this {
    if (!Number.isInteger(props.maxConcurrency) || props.maxConcurrency < 0) throw new Error(`Map "${name}": \`maxConcurrency\` must be an integer ≥ 0`);
    const processor = props.processor.renderInner();
    this.children.push(props.processor);
    return this.add(name, {
      Type: "Map",
      ItemsPath: props.itemsPath,
      ...(props.itemSelector ? { ItemSelector: props.itemSelector } : {}),
      MaxConcurrency: props.maxConcurrency,
      ItemProcessor: { ProcessorConfig: { Mode: "INLINE" }, StartAt: processor.StartAt, States: processor.States },
      ...(props.resultPath !== undefined ? { ResultPath: props.resultPath } : {}),
      ...renderRetry(props.retry),
      ...renderCatch(props.catch),
      ...renderTransition(props),
    });
  }

  succeed(name: string, props: { readonly outputPath?: string; readonly comment?: string } = {}): this {
    return this.add(name, {
      Type: "Succeed",
      ...(props.comment ? { Comment: props.comment } : {}),
      ...(props.outputPath ? { OutputPath: props.outputPath } : {}),
    });
  }

  fail(name: string, props: { readonly error?: string; readonly cause?: string; readonly errorPath?: string; readonly causePath?: string; readonly comment?: string }): this {
    return this.add(name, {
      Type: "Fail",
      ...(props.comment ? { Comment: props.comment } : {}),
      ...(props.error ? { Error: props.error } : {}),
      ...(props.cause ? { Cause: props.cause } : {}),
      ...(props.errorPath ? { ErrorPath: props.errorPath } : {}),
      ...(props.causePath ? { CausePath: props.causePath } : {}),
    });
  }

  /** The names of the states added so far (this level only). */
  stateNames(): string[] {
    return [...this.states.keys()];
  }

  private renderInner(startAt?: string): AslDefinition {
    const names = [...this.states.keys()];
    if (names.length === 0) throw new Error("a workflow needs at least one state");
    const start = startAt ?? names[0];
    if (!this.states.has(start)) throw new Error(`StartAt "${start}" is not a state`);
    const targets = (state: State): string[] => {
      const out: string[] = [];
      if (typeof state.Next === "string") out.push(state.Next);
      if (typeof state.Default === "string") out.push(state.Default);
      for (const c of (state.Choices as Array<{ Next: string }> | undefined) ?? []) out.push(c.Next);
      for (const c of (state.Catch as Array<{ Next: string }> | undefined) ?? []) out.push(c.Next);
      return out;
    };
    for (const [name, state] of this.states) {
      for (const target of targets(state)) {
        if (!this.states.has(target)) throw new Error(`state "${name}" goes to "${target}", which is not defined`);
      }
    }
    const reached = new Set<string>([start]);
    const queue = [start];
    while (queue.length) {
      for (const target of targets(this.states.get(queue.shift()!)!)) {
        if (!reached.has(target)) {
          reached.add(target);
          queue.push(target);
        }
      }
    }
    const unreachable = names.filter((n) => !reached.has(n));
    if (unreachable.length) throw new Error(`states not reachable from "${start}": ${unreachable.join(", ")}`);
    return {
      ...(this.options.comment ? { Comment: this.options.comment } : {}),
      StartAt: start,
      ...(this.options.timeoutSeconds ? { TimeoutSeconds: this.options.timeoutSeconds } : {}),
      States: Object.fromEntries(this.states),
    };
  }

  private collectGrants(): ResolvedStatement[] {
    return [...this.grants, ...this.children.flatMap((c) => c.collectGrants())];
  }

  /** Checks the graph (targets defined, every state reachable) and returns the ASL plus the role's statements. */
  render(startAt?: string): RenderedWorkflow {
    const definition = this.renderInner(startAt);
    return { definition, statements: mergeStatements(this.collectGrants()) };
  }
}

/** Merges statements with the same sid (their resources are unioned); conditions must agree. */
export function mergeStatements(statements: readonly ResolvedStatement[]): ResolvedStatement[] {
  const bySid = new Map<string, ResolvedStatement>();
  for (const s of statements) {
    const prior = bySid.get(s.sid);
    if (!prior) {
      bySid.set(s.sid, { ...s, resources: [...s.resources] });
      continue;
    }
    if (JSON.stringify(prior.actions) !== JSON.stringify(s.actions) || JSON.stringify(prior.condition) !== JSON.stringify(s.condition)) {
      throw new Error(`statements with sid "${s.sid}" differ in actions or condition`);
    }
    bySid.set(s.sid, { ...prior, resources: [...new Set([...prior.resources, ...s.resources])].sort() });
  }
  return [...bySid.values()];
}
