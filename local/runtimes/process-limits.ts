import { execFileSync } from "node:child_process";
import * as fs from "node:fs";

/**
 * What a process uses, read the way the kernel accounts it (Linux `/proc`): the watchdogs of the Lambda and ECS
 * runtimes compare it with the memory size and the CPU share the program gave the function or task. On a system
 * without `/proc` nothing is sampled, and only what a process reports of itself when it finishes is checked.
 */
export interface ProcessSample {
  /** Resident memory, MB. */
  readonly rssMb: number;
  /** User and system CPU time since the process started, ms (GC and other threads included). */
  readonly cpuMs: number;
}

let system: { ticksPerSecond: number; pageBytes: number } | undefined;

function systemUnits(): { ticksPerSecond: number; pageBytes: number } {
  const read = (name: string, fallback: number) => {
    try {
      return Number(execFileSync("getconf", [name], { encoding: "utf8" }).trim()) || fallback;
    } catch {
      return fallback;
    }
  };
  system ??= { ticksPerSecond: read("CLK_TCK", 100), pageBytes: read("PAGESIZE", 4096) };
  return system;
}

/**
 * One reading of a process's memory and CPU time; undefined where `/proc` is not there or the process has gone. One
 * file read (`/proc/<pid>/stat`), as the watchdogs take several readings per invocation.
 */
export function sampleProcess(pid: number | undefined): ProcessSample | undefined {
  if (pid === undefined || process.platform !== "linux") return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may contain spaces: utime is the 14th, stime the
    // 15th, rss (resident pages) the 24th field of the line.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const { ticksPerSecond, pageBytes } = systemUnits();
    const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
    const rssMb = (Number(fields[21]) * pageBytes) / (1024 * 1024);
    return { rssMb, cpuMs };
  } catch {
    return undefined;
  }
}

/** Samples a process at an interval until stopped, or until `onSample` returns something (it acted). */
export class ProcessSampler {
  private timer?: NodeJS.Timeout;

  private constructor(
    private readonly pid: number,
    private readonly onSample: (sample: ProcessSample) => unknown,
  ) {}

  static start(pid: number | undefined, intervalMs: number, onSample: (sample: ProcessSample) => unknown): ProcessSampler | undefined {
    if (pid === undefined || process.platform !== "linux") return undefined;
    const sampler = new ProcessSampler(pid, onSample);
    sampler.timer = setInterval(() => sampler.tick(), intervalMs);
    sampler.timer.unref();
    return sampler;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const sample = sampleProcess(this.pid);
    if (!sample) return this.stop();
    if (this.onSample(sample) !== undefined) this.stop();
  }
}
