import type { CoverageReport, LocalCloud } from "./cloud";
import type { InvocationRecord } from "./runtimes/lambda/runtime";
import type { ExecutionRecord, TraceEntry } from "./runtimes/step-functions/runtime";

/** Plain-text rendering of executions, coverage and summaries for the CLI and the tests' output. */

const useColour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: string) => (s: string) => (useColour ? `\u001b[${code}m${s}\u001b[0m` : s);
export const green = paint("32");
export const red = paint("31");
export const dim = paint("2");
export const bold = paint("1");
export const yellow = paint("33");

export function statusColour(status: string): string {
  return status === "SUCCEEDED" ? green(status) : status === "RUNNING" ? yellow(status) : red(status);
}

/** One execution: header, one line per state entered (with what ran inside it), the outcome. */
export function formatExecution(title: string, e: ExecutionRecord, extra: Record<string, unknown> = {}): string {
  const took = (e.stopDate ?? Date.now()) - e.startDate;
  const lines = [`${bold(`▶ ${title}`)}  ${dim(e.stateMachineName)}  ${statusColour(e.status)} in ${took} ms${formatExtra(extra)}`];
  // Service calls are traced as they happen; state events arrive from the library a moment later: order by time.
  const ordered = e.trace.map((entry, i) => ({ entry, i })).sort((a, b) => a.entry.t - b.entry.t || a.i - b.i).map((x) => x.entry);
  for (const entry of ordered) {
    const line = formatTraceEntry(entry);
    if (line) lines.push(line);
  }
  if (e.error) lines.push(`   ${red("error")} ${e.error.error}${e.error.cause ? `: ${truncate(e.error.cause, 200)}` : ""}`);
  lines.push(`   ${dim("path")} ${e.path.join(" → ")}`);
  return lines.join("\n");
}

function formatExtra(extra: Record<string, unknown>): string {
  const parts = Object.entries(extra)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return parts.length ? `  ${parts.join("  ")}` : "";
}

function formatTraceEntry(t: TraceEntry): string | undefined {
  const at = dim(`+${String(t.t).padStart(5)}ms`);
  const state = `${t.state ?? ""}${t.index !== undefined ? `[${t.index}]` : ""}`;
  switch (t.kind) {
    case "entered":
      return `   ${at} ${state.padEnd(26)} ${dim(t.detail ?? "")}`;
    case "retry":
      return `   ${at} ${state.padEnd(26)} ${yellow(`retry: ${t.detail}`)}`;
    case "failed":
      return `   ${at} ${state.padEnd(26)} ${red(`failed: ${t.detail}`)}`;
    case "caught":
      return `   ${at} ${state.padEnd(26)} ${yellow(`caught ${t.detail}`)}`;
    case "exited":
      return undefined;
    default:
      return `   ${at} ${" ".repeat(26)} ${dim(`${t.kind}:`)} ${t.detail ?? ""}`;
  }
}

/** A fixed-width table. */
export function table(headers: string[], rows: string[][]): string {
  const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");
  const widths = headers.map((h, i) => Math.max(strip(h).length, ...rows.map((r) => strip(r[i] ?? "").length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c + " ".repeat(widths[i] - strip(c).length)).join("  ");
  return [bold(fmt(headers)), dim(widths.map((w) => "─".repeat(w)).join("  ")), ...rows.map(fmt)].join("\n");
}

export function formatCoverage(reports: CoverageReport[]): string {
  return reports
    .map((r) => `${r.stateMachine}: ${r.entered.length}/${r.states.length} states entered (${r.percent.toFixed(0)}%)${r.missing.length ? ` — never entered: ${r.missing.join(", ")}` : ""}`)
    .join("\n");
}

/** Cold vs warm invocation latency per function, from the Lambda runtime's records. */
export function invocationStats(invocations: readonly InvocationRecord[]): Array<{ functionName: string; cold: number; warm: number; coldMedianMs: number; warmMedianMs: number; initMedianMs: number; errors: number }> {
  const byFunction = new Map<string, InvocationRecord[]>();
  for (const r of invocations) byFunction.set(r.functionName, [...(byFunction.get(r.functionName) ?? []), r]);
  return [...byFunction.entries()]
    .map(([functionName, records]) => {
      const cold = records.filter((r) => r.cold);
      const warm = records.filter((r) => !r.cold);
      return {
        functionName,
        cold: cold.length,
        warm: warm.length,
        coldMedianMs: median(cold.map((r) => r.durationMs + (r.initMs ?? 0))),
        warmMedianMs: median(warm.map((r) => r.durationMs)),
        initMedianMs: median(cold.map((r) => r.initMs ?? 0)),
        errors: records.filter((r) => r.outcome !== "success").length,
      };
    })
    .sort((a, b) => a.functionName.localeCompare(b.functionName));
}

export function median(values: number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The boot banner: what was derived from the program. */
export function formatBoot(cloud: LocalCloud): string {
  const types = new Map<string, number>();
  for (const r of cloud.provider.resources) types.set(r.type, (types.get(r.type) ?? 0) + 1);
  const provisioned = cloud.provider.resources.filter((r) => r.provisioned).length;
  return [
    bold(`local cloud for ${cloud.config.project}/${cloud.config.stack} (${cloud.region}) at ${cloud.frontDoor.url}`),
    dim(`  ${cloud.provider.resources.length} registrations (${provisioned} provisioned) in ${cloud.deployMs} ms: ${cloud.lambda.functions().length} functions, ${cloud.sfn.stateMachines().length} state machines, ${cloud.ecs.taskDefinitionsList().length} task definitions, ${cloud.dynamodb.tables.size} tables, ${cloud.s3.buckets.size} buckets, ${cloud.sns.topics.size} topics, ${cloud.sqs.queues.size} queues`),
    dim(`  boot: ${cloud.bootPhases.map((p) => `${p.name} ${p.ms} ms${p.note ? ` (${p.note})` : ""}`).join(", ")}`),
    ...cloud.config.notes.map((n) => dim(`  config ${n}`)),
  ].join("\n");
}
