import type { RunObserver } from "./engine";

/**
 * An execution's event history as GetExecutionHistory returns it: AWS's event types (`ExecutionStarted`,
 * `TaskStateEntered`, `LambdaFunctionScheduled`, `TaskSubmitted`, `MapIterationStarted`, ...), each with its
 * `<type>EventDetails` member, consecutive `id`s from 1 and a `previousEventId`.
 *
 * `previousEventId` follows histories recorded on AWS (LocalStack's snapshot tests of Step Functions, recorded
 * against AWS: tests/aws/services/stepfunctions/v2/**.snapshot.json): within a run — the execution, or one Map
 * iteration — each event points to the run's previous event; `ExecutionStarted` and the first state entered point to
 * 0; an iteration's first event points to its `MapIterationStarted`, and an iteration's end (and the next
 * iteration's start) to the iteration's last event; `MapStateSucceeded` and `MapStateExited` both point to the last
 * `MapIterationSucceeded`; `ExecutionAborted` points to 0. Iterations that run at once interleave their events in
 * the order they happened. Payloads are JSON strings, never truncated (`truncated: false`): the local cloud keeps
 * them whole.
 */
export interface HistoryEvent {
  /** Epoch milliseconds (the wire format has seconds). */
  readonly timestamp: number;
  readonly type: string;
  readonly id: number;
  readonly previousEventId: number;
  readonly details?: Record<string, unknown>;
}

/** The `<type>EventDetails` member an event's details go in: `TaskStateEntered` → `stateEnteredEventDetails`. */
export function detailsMember(type: string): string {
  if (type.endsWith("StateEntered")) return "stateEnteredEventDetails";
  if (type.endsWith("StateExited")) return "stateExitedEventDetails";
  return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
}

export class ExecutionHistory {
  readonly events: HistoryEvent[] = [];
  private closed = false;

  /** The history of an execution that ended before this boot (--persist): closed. */
  static restored(events: readonly HistoryEvent[]): ExecutionHistory {
    const history = new ExecutionHistory();
    history.events.push(...events);
    history.close();
    return history;
  }

  /** Adds an event; once the execution has ended (close), nothing more is recorded. */
  add(type: string, previousEventId: number, details?: Record<string, unknown>): number {
    if (this.closed) return this.events.length;
    const id = this.events.length + 1;
    this.events.push({ timestamp: Date.now(), type, id, previousEventId, ...(details ? { details } : {}) });
    return id;
  }

  /** The execution has ended: what its tasks report later (a Lambda invocation that outlived a stop) is not recorded. */
  close(): void {
    this.closed = true;
  }

  /** The history of the execution's own run (not a Map iteration). */
  root(): RunHistory {
    return new RunHistory(this, 0);
  }
}

/** A JSON payload as history events carry it. */
export function payload(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function iterationEndType(error: unknown): string {
  if (error === undefined) return "MapIterationSucceeded";
  return (error as Error)?.constructor?.name === "ExecutionAbortedError" ? "MapIterationAborted" : "MapIterationFailed";
}

/** The events of one run: it keeps the id the run's next event points to. */
export class RunHistory implements RunObserver {
  /** The last `MapIterationSucceeded` of the Map this run is in, for the Map's own end. */
  private lastIterationEnd = 0;

  constructor(
    readonly history: ExecutionHistory,
    /** The id the next event of this run points to. */
    public last: number,
  ) {}

  /** Adds an event of this run, after the run's previous one. */
  event(type: string, details?: Record<string, unknown>): number {
    this.last = this.history.add(type, this.last, details);
    return this.last;
  }

  stateEntered(name: string, type: string, input: unknown): void {
    this.event(`${type}StateEntered`, { name, input: payload(input), inputDetails: { truncated: false } });
  }

  stateExited(name: string, type: string, output: unknown): void {
    this.event(`${type}StateExited`, { name, output: payload(output), outputDetails: { truncated: false } });
  }

  mapStarted(_name: string, length: number): void {
    this.event("MapStateStarted", { length });
    this.lastIterationEnd = this.last;
  }

  iterationStarted(name: string, index: number): RunObserver {
    const started = this.history.add("MapIterationStarted", this.last, { name, index });
    return new RunHistory(this.history, started);
  }

  iterationEnded(name: string, index: number, iteration: RunObserver, error?: unknown): void {
    const inner = (iteration as RunHistory).last;
    const id = this.history.add(iterationEndType(error), inner, { name, index });
    if (error === undefined) this.lastIterationEnd = id;
    this.last = inner;
  }

  mapEnded(_name: string, error?: unknown): void {
    if (error === undefined) {
      this.history.add("MapStateSucceeded", this.lastIterationEnd);
      this.last = this.lastIterationEnd;
      return;
    }
    this.event((error as Error)?.constructor?.name === "ExecutionAbortedError" ? "MapStateAborted" : "MapStateFailed");
  }
}
