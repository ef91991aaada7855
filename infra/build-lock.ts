import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface LockOptions {
  /** What is being built, for the notice a long wait prints (`bundle of handlers/shipping.ts`). */
  readonly label?: string;
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
  /** After this long a waiter says on stderr whom it waits for, once. @default 10000 */
  readonly noticeMs?: number;
}

/**
 * The cached result `read` finds, or the right to build it. Two builds of the same thing at once — a test suite's
 * local cloud and a CLI run booting together, each running the program and bundling every handler — would otherwise
 * both do the work, each with half the machine: the second waits for the first's result instead, whether the first
 * runs in this process or another. The holder calls `release` once its result is written or it has failed (a waiter
 * then builds it itself). A lock whose process is gone, or that its holder stopped refreshing, is taken over.
 *
 * Two waiters taking over one abandoned lock at the same moment may both build: the cost of a duplicate build, which
 * the atomic writes of the results make harmless, rather than a second lock protocol.
 */
export async function readOrClaim<T>(
  lockFile: string,
  read: () => T | undefined,
  options: LockOptions = {},
): Promise<{ readonly value: T; /** 0 when the result was there at the first look. */ readonly waitedMs: number } | { readonly release: () => void }> {
  const { pollMs = 50, refreshMs = 5_000, staleMs = 30_000, noticeMs = 10_000 } = options;
  const started = Date.now();
  let waited = false;
  let noticed = false;
  const waitedMs = () => (waited ? Date.now() - started : 0);
  for (;;) {
    const value = read();
    if (value !== undefined) return { value, waitedMs: waitedMs() };
    const release = tryLock(lockFile, refreshMs, staleMs);
    if (release) {
      let written: T | undefined;
      try {
        // The other build may have left its result between the read above and the lock.
        written = read();
      } catch (err) {
        release();
        throw err;
      }
      if (written === undefined) return { release };
      release();
      return { value: written, waitedMs: waitedMs() };
    }
    waited = true;
    // Only the lock file is watched while it is held: the result is read again once it is gone or abandoned.
    while (fs.existsSync(lockFile) && !abandoned(lockFile, staleMs)) {
      if (!noticed && Date.now() - started > noticeMs) {
        noticed = true;
        process.stderr.write(`waiting for process ${holderOf(lockFile) ?? "?"}, which is building the same ${options.label ?? path.basename(lockFile, ".lock")} (lock ${lockFile})\n`);
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
}

function tryLock(lockFile: string, refreshMs: number, staleMs: number): (() => void) | undefined {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const mine = `${process.pid} ${randomUUID()}`;
  try {
    fs.writeFileSync(lockFile, mine, { flag: "wx" });
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
    // Only our own lock: one taken over from us (we were thought gone) is its new holder's.
    if (contentOf(lockFile) === mine) fs.rmSync(lockFile, { force: true });
  };
}

function abandoned(lockFile: string, staleMs: number): boolean {
  let touchedMs: number;
  try {
    touchedMs = fs.statSync(lockFile).mtimeMs;
  } catch {
    return false; // released meanwhile: the caller looks again
  }
  if (Date.now() - touchedMs > staleMs) return true;
  const holder = holderOf(lockFile);
  // No id yet: a lock being written, whose holder is alive.
  return holder !== undefined && !processAlive(holder);
}

function contentOf(lockFile: string): string | undefined {
  try {
    return fs.readFileSync(lockFile, "utf8");
  } catch {
    return undefined;
  }
}

function holderOf(lockFile: string): number | undefined {
  const pid = Number(contentOf(lockFile)?.split(" ")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
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
