/**
 * Mocha root hooks (loaded through .mocharc's `require`): once every test file has run, print the shared cloud's
 * state coverage and the fault-matrix summary, check least privilege over the whole run, and stop the shared cloud.
 *
 * Least privilege, over the access log of every scenario of the run (e2e and fault matrix share one cloud):
 * no request was denied except the ones a test caused on purpose, and every granted (action, resource) pair was used
 * by some request or is justified in iam-justifications.ts — whose entries must each still cover an unused grant.
 */
import { IamLog, iamReport } from "../../local/iam/enforcement";
import { formatCoverage, table } from "../../local/report";
import { UNUSED_GRANT_JUSTIFICATIONS, UnusedGrantJustification } from "./iam-justifications";
import { expectedDenials, faultMatrixSummary, sharedCloudIfBooted, sharedCloudUsers, stopSharedCloud, stopSharedMini } from "./support";

/** The files whose scenarios together should use every grant. */
const SCENARIO_FILES = ["pipeline.e2e", "fault-matrix"];

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(30_000);
    await stopSharedMini();
    const cloud = await sharedCloudIfBooted();
    if (!cloud) return;
    try {
      const out = (s: string) => process.stdout.write(`${s}\n`);
      out(`\n  shared local cloud — state coverage:\n${formatCoverage(cloud.stateCoverage()).replace(/^/gm, "    ")}`);
      if (faultMatrixSummary.length) {
        out(`\n  fault matrix (${faultMatrixSummary.length} scenarios):\n${table(["scenario", "expected end state", "got"], faultMatrixSummary.map((s) => [s.scenario, s.expected, s.got])).replace(/^/gm, "    ")}`);
      }
      const problems = leastPrivilegeProblems(cloud.iamLog("test"), SCENARIO_FILES.every((f) => sharedCloudUsers.has(f)));
      const reports = iamReport(cloud.iamLog("test"));
      out(`\n  IAM: ${reports.length} principals, ${cloud.principals.accessLog.length} requests decided, ${reports.reduce((n, r) => n + r.unused.length, 0)} unused grants (justified), ${cloud.principals.accessLog.filter((e) => !e.allowed).length} denied (expected: ${expectedDenials.length})`);
      if (problems.length) throw new Error(`least privilege:\n  ${problems.join("\n  ")}`);
    } finally {
      await stopSharedCloud();
    }
  },
};

/** Every unexpected denial; with a full run, every unjustified unused grant and every stale justification. */
export function leastPrivilegeProblems(
  log: Pick<IamLog, "principals" | "accesses">,
  fullRun: boolean,
  justifications: readonly UnusedGrantJustification[] = UNUSED_GRANT_JUSTIFICATIONS,
  expected: ReadonlyArray<{ principal: string; action: string }> = expectedDenials,
): string[] {
  const problems: string[] = [];
  const reports = iamReport(log);
  for (const r of reports) {
    for (const d of r.denied) {
      if (!expected.some((e) => e.principal === r.principal && e.action === d.action)) problems.push(`denied in a scenario meant to succeed: ${r.principal} ${d.action} ${d.resource}`);
    }
  }
  if (!fullRun) return problems;
  const used = new Set<number>();
  for (const r of reports) {
    for (const u of r.unused) {
      const i = justifications.findIndex((j) => j.principal.test(r.principal) && j.grant.test(`${u.action} ${u.resource}`));
      if (i < 0) problems.push(`granted but never used by any scenario (remove it, or justify it in test/local/iam-justifications.ts): ${r.principal} ${u.sid} ${u.action} ${u.resource}`);
      else used.add(i);
    }
  }
  justifications.forEach((j, i) => {
    if (!used.has(i)) problems.push(`stale justification (covers no unused grant any more): ${j.principal} ${j.grant}`);
  });
  return problems;
}
