/**
 * The local cloud's clock.
 *
 * Two kinds of waiting happen in a cloud, and the local one treats them differently so that no outcome depends on
 * how fast this machine happens to be:
 *
 * - **Waits nothing races with** — Retry intervals, Wait states — are multiplied by `timeScale` (tests use 0.01):
 *   shortening them changes how long a run takes, never how it ends.
 * - **Windows that race real work** — a Task's HeartbeatSeconds and TimeoutSeconds against the container it waits
 *   for — run on wall time, like the work itself, and are never scaled: a 240 s heartbeat window stays 240 s, and a
 *   worker that heartbeats every 80 s keeps it open on any machine. Their length can only be *used up early* by
 *   time the local cloud **skips** for that task when nothing can happen in it: the Fargate start-up it simulates
 *   (provisioning and image pull), a container a test froze for a given stall, and the rest of the window once the
 *   container has exited without reporting (nobody holds the token any more). Skipping is instant and exact, so a
 *   hung or crashed container fails its state at once with AWS's error, and a stall shorter than the window is
 *   survived however busy the machine is.
 *
 * A skip is local to the task it concerns: other executions keep their own time.
 */
export class LocalClock {
  constructor(readonly timeScale = 1) {
    if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error(`\`timeScale\` must be a positive number, got ${timeScale}`);
  }

  /** Wall milliseconds for a cloud-owned wait of `ms` (Retry interval, Wait state). */
  scaled(ms: number): number {
    return ms * this.timeScale;
  }
}

/**
 * A window of a task's time (its heartbeat window, its TimeoutSeconds): expires once `lengthMs` of wall time plus
 * skipped time has passed since it was (re)started. `onExpire` runs once; a cancelled window never expires.
 */
export class TaskWindow {
  private deadline: number;
  private skipped = 0;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private lengthMs: number,
    private readonly onExpire: () => void,
  ) {
    this.deadline = Date.now() + lengthMs;
    this.arm();
  }

  /** Milliseconds left before the window expires. */
  remainingMs(): number {
    return this.done ? 0 : Math.max(0, this.deadline - this.skipped - Date.now());
  }

  /** Starts the window again from now (a heartbeat), optionally with a new length. */
  restart(lengthMs = this.lengthMs): void {
    if (this.done) return;
    this.lengthMs = lengthMs;
    this.deadline = Date.now() + lengthMs;
    this.skipped = 0;
    this.arm();
  }

  /** Uses up `ms` of the window at once (time the local cloud skips for this task); expires it if that is all of it. */
  skip(ms: number): void {
    if (this.done) return;
    this.skipped += Math.max(0, ms);
    this.arm();
  }

  /** Uses up the whole window: it expires now. */
  skipToEnd(): void {
    this.skip(Number.POSITIVE_INFINITY);
  }

  cancel(): void {
    this.done = true;
    clearTimeout(this.timer);
  }

  get expired(): boolean {
    return this.done;
  }

  private arm(): void {
    clearTimeout(this.timer);
    const left = this.deadline - this.skipped - Date.now();
    if (left <= 0) {
      this.done = true;
      this.onExpire();
      return;
    }
    // Node's timers wait at most ~24.8 days; a longer window is re-armed when that much has passed.
    this.timer = setTimeout(() => this.arm(), Math.min(left, 2_147_000_000));
  }
}
