/**
 * After `npm run mutation`: the score per folder from Stryker's JSON report (reports/mutation/mutation.json), as the
 * table bench/mutation/README.md keeps, and with `--survivors <file>…` every mutant of those files that no test
 * detected, with its place and replacement.
 *
 *   npx tsx scripts/mutation-summary.ts [--report reports/mutation/mutation.json] [--survivors infra/policy.ts …]
 */
import * as fs from "node:fs";

/** The part of a mutation-testing-report-schema report this reads. */
export interface MutationReport {
  readonly files: Record<string, { readonly mutants: readonly ReportMutant[] }>;
}

export interface ReportMutant {
  readonly id: string;
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: string;
  readonly location: { readonly start: { readonly line: number; readonly column: number } };
}

export interface FolderScore {
  readonly folder: string;
  readonly mutants: number;
  readonly killed: number;
  readonly timeout: number;
  readonly survived: number;
  readonly noCoverage: number;
  /** Static mutants (module-scope code) that the config leaves out, and any other Ignored. */
  readonly ignored: number;
  /** Rejected by the TypeScript checker or failing to load: not valid mutants. */
  readonly invalid: number;
  /** Detected (killed + timeout) over valid, tested-or-not mutants, in percent with one decimal; null when none. */
  readonly score: number | null;
}

/** The rows the README reports: each folder (prefix) or file of the mutate list. */
export const SCORE_GROUPS: readonly string[] = [
  "handlers/",
  "handlers/shared/",
  "handlers/export/",
  "infra/",
  "infra/policy.ts",
  "infra/workflow.ts",
  "infra/config.ts",
  "containers/export-worker/",
];

/** Stryker statuses, as the schema names them. */
const DETECTED = new Set(["Killed", "Timeout"]);

export function scoreOf(report: MutationReport, folder: string): FolderScore {
  const mutants = Object.entries(report.files)
    .filter(([file]) => (folder.endsWith("/") ? file.startsWith(folder) : file === folder))
    .flatMap(([, f]) => f.mutants);
  const count = (...statuses: string[]) => mutants.filter((m) => statuses.includes(m.status)).length;
  const killed = count("Killed");
  const timeout = count("Timeout");
  const survived = count("Survived");
  const noCoverage = count("NoCoverage");
  const valid = killed + timeout + survived + noCoverage;
  return {
    folder,
    mutants: mutants.length,
    killed,
    timeout,
    survived,
    noCoverage,
    ignored: count("Ignored", "Pending"),
    invalid: count("CompileError", "RuntimeError"),
    score: valid === 0 ? null : Math.round((1000 * mutants.filter((m) => DETECTED.has(m.status)).length) / valid) / 10,
  };
}

export function scoreTable(rows: readonly FolderScore[]): string {
  const header = "| folder | mutants | killed | timeout | survived | no coverage | ignored (static) | compile errors | score |";
  const lines = rows.map(
    (r) =>
      `| ${r.folder} | ${r.mutants} | ${r.killed} | ${r.timeout} | ${r.survived} | ${r.noCoverage} | ${r.ignored} | ${r.invalid} | ${r.score === null ? "–" : `${r.score.toFixed(1)} %`} |`,
  );
  return [header, "|---|--:|--:|--:|--:|--:|--:|--:|--:|", ...lines].join("\n");
}

/** Mutants of `file` no test detected, in source order: `line:column mutator → replacement (status)`. */
export function undetected(report: MutationReport, file: string): string[] {
  const mutants = report.files[file]?.mutants;
  if (mutants === undefined) throw new Error(`${file} is not in the report (not in stryker.config.mjs \`mutate\`?)`);
  return mutants
    .filter((m) => m.status === "Survived" || m.status === "NoCoverage")
    .sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column)
    .map((m) => `${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} → ${JSON.stringify(m.replacement ?? "")} (${m.status}, #${m.id})`);
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--report");
  const reportFile = at >= 0 ? args[at + 1] : "reports/mutation/mutation.json";
  const report = JSON.parse(fs.readFileSync(reportFile, "utf8")) as MutationReport;
  const survivorsAt = args.indexOf("--survivors");
  if (survivorsAt >= 0) {
    for (const file of args.slice(survivorsAt + 1)) process.stdout.write(`${undetected(report, file).join("\n")}\n`);
  } else {
    process.stdout.write(`${scoreTable(SCORE_GROUPS.map((group) => scoreOf(report, group)))}\n`);
  }
}
