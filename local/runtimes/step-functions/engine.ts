import { AsyncLocalStorage } from "node:async_hooks";
import * as fs from "node:fs";
import Module from "node:module";
import * as path from "node:path";
import type * as Library from "aws-local-stepfunctions";

/**
 * aws-local-stepfunctions 3.0, the engine that runs each state machine's control flow, loaded with the classes it
 * does not export so that the local cloud can adjust it where it differs from Step Functions — in one place, here:
 *
 * - **`$$.State`** (`Name`, `EnteredTime`, and `RetryCount` for the states that retry) is set for every state; the
 *   library has none.
 * - **`$$.Execution.Input` and `StartTime` inside Map iterations** are the execution's; the library runs each
 *   iteration as an execution of its own and gives it the item as `Input` and a new `StartTime`.
 * - **256 KiB on every state's input (after Parameters) and output**, not only Task results: above it the state fails
 *   with `States.DataLimitExceeded`, which no Retry or Catch handles (AWS: "a terminal error that can't be caught by
 *   the States.ALL error type", https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 * - **The execution's history as it happens**: state entered and exited, Map started and ended, each iteration started
 *   and ended, reported synchronously to the run's observer (`RunObserver`), in the order Step Functions records them
 *   — the library's own event stream arrives later and, for Map iterations, out of order.
 *
 * The library's build is compiled a second time with an export of its internal classes appended (the package has
 * only the one version, 3.0.0); a version without those names fails here, at load, naming what is missing.
 */

interface StateExecutorInstance {
  readonly stateName: string;
  readonly stateDefinition: { readonly Type: string; readonly [key: string]: unknown };
  readonly retrierAttempts: number[];
}

interface Internals {
  readonly StateExecutor: { prototype: Record<string, (...args: any[]) => any> };
  readonly MapStateAction: { prototype: Record<string, (...args: any[]) => any> };
  readonly StatesTimeoutError: new () => Error;
  readonly jsonPathQuery: (pathExpression: string, json: unknown, context: unknown) => unknown;
}

const INTERNAL_NAMES = ["StateExecutor", "MapStateAction", "StatesTimeoutError", "jsonPathQuery"] as const;

function load(): typeof Library & { readonly __internals: Internals } {
  const file = require.resolve("aws-local-stepfunctions");
  const source = fs.readFileSync(file, "utf8");
  const missing = INTERNAL_NAMES.filter((name) => !new RegExp(`^(var|function) ${name}\\b`, "m").test(source));
  if (missing.length) throw new Error(`aws-local-stepfunctions (${file}) no longer defines ${missing.join(", ")}: local/runtimes/step-functions/engine.ts needs updating`);
  const mod = new Module(file, module) as Module & { _compile(code: string, filename: string): void; paths: string[] };
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  mod._compile(`${source}\n;module.exports.__internals = { ${INTERNAL_NAMES.join(", ")} };\n`, file);
  return mod.exports as typeof Library & { readonly __internals: Internals };
}

const library = load();
const internals = library.__internals;

export const StateMachine: typeof Library.StateMachine = library.StateMachine;
export const ExecutionAbortedError: typeof Library.ExecutionAbortedError = library.ExecutionAbortedError;
export const ExecutionError: typeof Library.ExecutionError = library.ExecutionError;
export const ExecutionTimeoutError: typeof Library.ExecutionTimeoutError = library.ExecutionTimeoutError;
export type StateMachineDefinition = Library.StateMachineDefinition;
/** The library's States.Timeout: Retry and Catch tell it apart from other errors by class (States.TaskFailed does not match it). */
export const StatesTimeoutError = internals.StatesTimeoutError;

/** What a run (the execution, or one Map iteration) reports as it goes, synchronously. */
export interface RunObserver {
  stateEntered(name: string, type: string, input: unknown): void;
  /** The state ended and the run goes on (a caught error included). */
  stateExited(name: string, type: string, output: unknown): void;
  mapStarted(name: string, length: number): void;
  /** The observer of the iteration's own run. */
  iterationStarted(name: string, index: number): RunObserver;
  iterationEnded(name: string, index: number, iteration: RunObserver, error?: unknown): void;
  mapEnded(name: string, error?: unknown): void;
}

export interface RunScope {
  readonly observer: RunObserver;
  /** The execution's input and start time (ISO 8601), for `$$.Execution` in every run of the execution. */
  readonly execution: { readonly Input: unknown; readonly StartTime: string };
}

const scopes = new AsyncLocalStorage<RunScope>();

/** Runs `start` (a StateMachine.run of an execution) with `scope` as its observer and execution data. */
export function withRunScope<T>(scope: RunScope, start: () => T): T {
  return scopes.run(scope, start);
}

/** The scope of the run the caller is part of (a Task handler, for instance): its observer. */
export function currentRunScope(): RunScope | undefined {
  return scopes.getStore();
}

/** Above this, a state's input or output is States.DataLimitExceeded (256 KiB in AWS). */
export const DATA_LIMIT_BYTES = 256 * 1024;

/** An error as Step Functions sees it: `name` is the error, `message` the cause. */
export function named(name: string, message: string, flags: { catchable?: boolean } = {}): Error {
  const err = new Error(message);
  err.name = name;
  if (flags.catchable === false) Object.defineProperties(err, { isCatchable: { value: false }, isRetryable: { value: false } });
  return err;
}

/** Throws States.DataLimitExceeded when `value`'s JSON is over 256 KiB, with the cause AWS gives. */
export function checkPayloadSize(stateName: string, value: unknown, what: "result" | "input" = "result"): void {
  const size = Buffer.byteLength(JSON.stringify(value ?? null));
  if (size <= DATA_LIMIT_BYTES) return;
  const message =
    what === "result"
      ? `The state/task '${stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`
      : `The state/task '${stateName}' has an input with a size exceeding the maximum number of bytes service limit.`;
  throw named("States.DataLimitExceeded", message, { catchable: false });
}

const ENTERED = Symbol("enteredTime");
const DEPTH = Symbol("depth");
/** The states whose `$$.State` has a RetryCount (the ones that can have Retry). */
const RETRYING_TYPES = new Set(["Task", "Map", "Parallel"]);

type Executor = StateExecutorInstance & { [ENTERED]?: string; [DEPTH]?: number };

const executorProto = internals.StateExecutor.prototype;
const originalExecute = executorProto.execute;
executorProto.execute = async function execute(this: Executor, input: unknown, context: Record<string, any>, options: unknown) {
  const scope = scopes.getStore();
  const type = this.stateDefinition.Type;
  // A Retry runs execute again on the same executor: the state was entered once.
  if (this[ENTERED] === undefined) {
    this[ENTERED] = new Date().toISOString();
    scope?.observer.stateEntered(this.stateName, type, input);
  }
  // One context object per run, and a run enters one state at a time: what this state's paths read from here on.
  context.State = { Name: this.stateName, EnteredTime: this[ENTERED], ...(RETRYING_TYPES.has(type) ? { RetryCount: this.retrierAttempts.reduce((n, a) => n + a, 0) } : {}) };
  if (scope && context.Execution) {
    context.Execution.Input = scope.execution.Input;
    context.Execution.StartTime = scope.execution.StartTime;
  }
  this[DEPTH] = (this[DEPTH] ?? 0) + 1;
  try {
    const result = (await originalExecute.call(this, input, context, options)) as { stateResult: unknown };
    if (this[DEPTH] === 1) scope?.observer.stateExited(this.stateName, type, result.stateResult);
    return result;
  } finally {
    this[DEPTH]!--;
  }
};

const originalProcessInput = executorProto.processInput;
executorProto.processInput = function processInput(this: Executor, input: unknown, context: unknown) {
  const effective = originalProcessInput.call(this, input, context);
  checkPayloadSize(this.stateName, effective, "input");
  return effective;
};

const originalProcessResult = executorProto.processResult;
executorProto.processResult = function processResult(this: Executor, result: unknown, rawInput: unknown, context: unknown) {
  const output = originalProcessResult.call(this, result, rawInput, context);
  checkPayloadSize(this.stateName, output);
  return output;
};

type MapAction = { readonly stateName: string; readonly stateDefinition: { ItemsPath?: string } };

const mapProto = internals.MapStateAction.prototype;
const originalMapExecute = mapProto.execute;
mapProto.execute = async function execute(this: MapAction, input: unknown, context: unknown, options: unknown) {
  const scope = scopes.getStore();
  let items: unknown = input;
  try {
    items = this.stateDefinition.ItemsPath ? internals.jsonPathQuery(this.stateDefinition.ItemsPath, input, context) : input;
  } catch {
    // The library raises the path error itself, below.
  }
  if (Array.isArray(items)) scope?.observer.mapStarted(this.stateName, items.length);
  try {
    const result = await originalMapExecute.call(this, input, context, options);
    scope?.observer.mapEnded(this.stateName);
    return result;
  } catch (err) {
    scope?.observer.mapEnded(this.stateName, err);
    throw err;
  }
};

const originalProcessItem = mapProto.processItem;
mapProto.processItem = function processItem(this: MapAction, stateMachine: unknown, item: unknown, input: unknown, context: unknown, index: number, options: unknown) {
  const scope = scopes.getStore();
  if (!scope) return originalProcessItem.call(this, stateMachine, item, input, context, index, options);
  const iteration = scope.observer.iterationStarted(this.stateName, index);
  const result = scopes.run({ ...scope, observer: iteration }, () => originalProcessItem.call(this, stateMachine, item, input, context, index, options) as Promise<unknown>);
  return result.then(
    (output) => {
      scope.observer.iterationEnded(this.stateName, index, iteration);
      return output;
    },
    (err: unknown) => {
      scope.observer.iterationEnded(this.stateName, index, iteration, err);
      throw err;
    },
  );
};
