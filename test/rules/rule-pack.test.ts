import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { programGraph, ProgramGraph } from "../../scripts/program-graph";
import { JUSTIFICATIONS } from "./justifications";
import { Finding, RULES } from "./rules";
import { rulesTable } from "./table";

const README = fs.readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");

describe("rule pack (cdk-nag AwsSolutions, Checkov, Trivy) over the program's resource graph", function () {
  this.timeout(120_000);
  const graphs: Record<string, ProgramGraph> = {};
  before(async () => {
    graphs.dev = await programGraph("dev");
    graphs.prod = await programGraph("prod");
  });

  const unjustified = (findings: Finding[]) =>
    findings.filter((f) => !JUSTIFICATIONS.some((j) => j.rule === f.rule && j.matches.test(`${f.resource} ${f.message}`)));

  for (const stack of ["dev", "prod"]) {
    it(`leaves no unjustified finding in ${stack}`, () => {
      const findings = RULES.flatMap((r) => r.check(graphs[stack]));
      expect(unjustified(findings).map((f) => `${f.rule} ${f.resource}: ${f.message}`)).to.deep.equal([]);
    });
  }

  it("keeps every justification in use (a fixed finding removes its justification)", () => {
    const findings = ["dev", "prod"].flatMap((stack) => RULES.flatMap((r) => r.check(graphs[stack])));
    const unused = JUSTIFICATIONS.filter((j) => !findings.some((f) => f.rule === j.rule && j.matches.test(`${f.resource} ${f.message}`)));
    expect(unused.map((j) => `${j.rule} ${j.matches}`)).to.deep.equal([]);
  });

  it("is listed rule by rule in the README, with the result this run found", () => {
    const section = README.slice(README.indexOf("<!-- rules:start -->") + "<!-- rules:start -->".length, README.indexOf("<!-- rules:end -->")).trim();
    expect(section, "paste the expected table between the rules markers in README.md").to.equal(rulesTable([graphs.dev, graphs.prod]));
  });
});
