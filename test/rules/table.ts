import type { ProgramGraph } from "../../scripts/program-graph";
import { JUSTIFICATIONS } from "./justifications";
import { RULES } from "./rules";

/** The README's rule table: each rule, what it checks, and pass or the justification of what it finds. */
export function rulesTable(graphs: ProgramGraph[]): string {
  const rows = RULES.map((rule) => {
    const findings = graphs.flatMap((g) => rule.check(g));
    const reasons = [...new Set(JUSTIFICATIONS.filter((j) => j.rule === rule.id && findings.some((f) => j.matches.test(`${f.resource} ${f.message}`))).map((j) => j.reason))];
    const verdict = findings.length === 0 ? "pass" : `justified: ${reasons.join(" ")}`;
    return `| ${rule.id} | ${rule.description} | ${verdict} |`;
  });
  return ["| rule | checks | result |", "|---|---|---|", ...rows].join("\n");
}
