/**
 * Mocha root hooks (loaded through .mocharc's `require`): once every test file has run, print the shared cloud's
 * state coverage and the fault-matrix summary, check least privilege over the whole run, and stop the shared cloud.
 *
 * Least privilege, over the access log of every scenario of the run (e2e and fault matrix share one cloud):
 * no request was denied except the ones a test caused on purpose, and every granted (action, resource) pair was used
 * by some request or is justified in iam-justifications.ts — whose entries must each still cover an unused grant.
 */
import * as path from "node:path";
import { IamLog, iamReport } from "../../local/iam/enforcement";
import { formatCoverage, table } from "../../local/report";
import { UNUSED_GRANT_JUSTIFICATIONS, UnusedGrantJustification } from "./iam-justifications";
import { expectedDenials, faultMatrixSummary, sharedCloudIfBooted, stopSharedCloud, stopSharedMini } from "./support";

/** The files whose scenarios together should use every grant. */
export const SCENARIO_FILES = ["pipeline.e2e", "fault-matrix"];

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(30_000);
    await stopSharedMini();
    const out = (s: string) => process.stdout.write(`${s}\n`);
    // A partial run (one file, --grep, .only, a failure) cannot tell an unused grant from a scenario that did not run:
    // say so, rather than pass or fail silently.
    const coverage = scenarioCoverage(this.test?.parent);
    if (!coverage.complete) out(`\n  least privilege: the unused-grant check was skipped: ${coverage.reason}; \`npm test\` runs it`);
    const cloud = await sharedCloudIfBooted();
    if (!cloud) return;
    try {
      out(`\n  shared local cloud — state coverage:\n${formatCoverage(cloud.stateCoverage()).replace(/^/gm, "    ")}`);
      if (faultMatrixSummary.length) {
        out(`\n  fault matrix (${faultMatrixSummary.length} scenarios):\n${table(["scenario", "expected end state", "got"], faultMatrixSummary.map((s) => [s.scenario, s.expected, s.got])).replace(/^/gm, "    ")}`);
      }
      const problems = leastPrivilegeProblems(cloud.iamLog("test"), coverage.complete);
      const reports = iamReport(cloud.iamLog("test"));
      const unused = reports.reduce((n, r) => n + r.unused.length, 0);
      out(`\n  IAM: ${reports.length} principals, ${cloud.principals.accessLog.length} requests decided, ${unused} unused grants (${coverage.complete ? "justified" : "not checked"}), ${cloud.principals.accessLog.filter((e) => !e.allowed).length} denied (expected: ${expectedDenials.length})`);
      if (problems.length) throw new Error(`least privilege:\n  ${problems.join("\n  ")}`);
    } finally {
      await stopSharedCloud();
    }
  },
};

/**
 * Whether every test of the scenario files ran and passed: only then does a grant no request used mean a grant no
 * scenario needs. A file not loaded, a test left out by --grep or .only, a skipped or failed test each make it partial.
 */
export function scenarioCoverage(root: Mocha.Suite | undefined, files: readonly string[] = SCENARIO_FILES): { complete: true } | { complete: false; reason: string } {
  const tests: Mocha.Test[] = [];
  const collect = (suite: Mocha.Suite): void => {
    tests.push(...suite.tests);
    suite.suites.forEach(collect);
  };
  if (root) collect(root);
  const ofFile = (f: string) => tests.filter((t) => t.file !== undefined && path.basename(t.file) === `${f}.test.ts`);
  const missing = files.filter((f) => ofFile(f).length === 0);
  if (missing.length) return { complete: false, reason: `not every scenario file ran (${missing.join(", ")} did not)` };
  const scenarios = files.flatMap(ofFile);
  const notPassed = scenarios.filter((t) => t.state !== "passed");
  if (notPassed.length) return { complete: false, reason: `${notPassed.length} of ${scenarios.length} scenario tests did not run or did not pass (e.g. "${notPassed[0].fullTitle()}")` };
  return { complete: true };
}

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
