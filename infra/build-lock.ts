import * as fs from "node:fs";
import * as path from "node:path";

export interface LockTimings {
  /** How often a waiter looks whether the holder has finished. Not a deadline. @default 50 */
  readonly pollMs?: number;
  /** How often the holder touches its lock file to show it is still at work. @default 5000 */
  readonly refreshMs?: number;
  /**
   * A lock untouched this long is taken over even if a process with its id exists: that id may have been reused
   * by an unrelated process after the holder died (a laptop's `pulumi up` killed days ago). Taking over a live
   * holder's lock costs only a second build of the same thing; results are written atomically. @default 30000
   */
  readonly staleMs?: number;
}

/**
 * The cached result `read` finds, or the right to build it. Two builds of the same thing at once — a test suite's
 * local cloud and a CLI run booting together, each running the program and bundling every handler — would otherwise
 * both do the work, each with half the machine: the second waits for the first's result instead, whether the first
 * runs in this process or another. The holder calls `release` once its result is written or it has failed (a waiter
 * then builds it itself). A lock whose process is gone, or that its holder stopped refreshing, is taken over.
 */
export async function readOrClaim<T>(
  lockFile: string,
  read: () => T | undefined,
  timings: LockTimings = {},
): Promise<{ readonly value: T; /** 0 when the result was there at the first look. */ readonly waitedMs: number } | { readonly release: () => void }> {
  const { pollMs = 50, refreshMs = 5_000, staleMs = 30_000 } = timings;
  const started = Date.now();
  let waited = false;
  const waitedMs = () => (waited ? Date.now() - started : 0);
  for (;;) {
    const value = read();
    if (value !== undefined) return { value, waitedMs: waitedMs() };
    const release = tryLock(lockFile, refreshMs, staleMs);
    if (release) {
      // The other build may have left its result between the read above and the lock.
      const written = read();
      if (written === undefined) return { release };
      release();
      return { value: written, waitedMs: waitedMs() };
    }
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function tryLock(lockFile: string, refreshMs: number, staleMs: number): (() => void) | undefined {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  try {
    fs.writeFileSync(lockFile, String(process.pid), { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    if (abandoned(lockFile, staleMs)) fs.rmSync(lockFile, { force: true });
    return undefined;
  }
  const refresh = setInterval(() => {
    const now = new Date();
    try {
      fs.utimesSync(lockFile, now, now);
    } catch {
      // Taken over after all (this process was starved of time for staleMs): the result is still written atomically.
    }
  }, refreshMs);
  refresh.unref();
  return () => {
    clearInterval(refresh);
    fs.rmSync(lockFile, { force: true });
  };
}

function abandoned(lockFile: string, staleMs: number): boolean {
  let holder: number;
  let touchedMs: number;
  try {
    holder = Number(fs.readFileSync(lockFile, "utf8"));
    touchedMs = fs.statSync(lockFile).mtimeMs;
  } catch {
    return false; // released meanwhile: the caller looks again
  }
  if (Date.now() - touchedMs > staleMs) return true;
  // An empty file is a lock being written: its holder is alive.
  return holder > 0 && !processAlive(holder);
}

/** Whether a process with this id exists (EPERM: it does, but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
