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

  it("finds what it looks for: a rule fires on a resource built to break it", () => {
    const broken: ProgramGraph = {
      stack: "broken",
      region: "eu-central-1",
      outputs: {},
      resources: [
        { type: "aws:sfn/stateMachine:StateMachine", name: "sm", custom: true, inputs: { loggingConfiguration: { level: "ERROR" } }, state: {} },
        { type: "aws:sqs/queue:Queue", name: "q", custom: true, inputs: {}, state: { arn: "arn:aws:sqs:r:1:q", url: "u" } },
        { type: "aws:iam/rolePolicy:RolePolicy", name: "p", custom: true, inputs: { policy: JSON.stringify({ Statement: [{ Sid: "S", Action: ["s3:*"], Resource: ["*"] }] }) }, state: {} },
      ],
    };
    const fired = RULES.flatMap((r) => r.check(broken)).map((f) => f.rule);
    expect(fired).to.include.members(["AwsSolutions-SF1", "AwsSolutions-SF2", "CKV_AWS_284", "CKV_AWS_285", "AwsSolutions-SQS2", "AwsSolutions-SQS3", "AwsSolutions-SQS4", "AwsSolutions-IAM5"]);
  });

  it("is listed rule by rule in the README, with the result this run found", () => {
    const section = README.slice(README.indexOf("<!-- rules:start -->") + "<!-- rules:start -->".length, README.indexOf("<!-- rules:end -->")).trim();
    expect(section, "paste the expected table between the rules markers in README.md").to.equal(rulesTable([graphs.dev, graphs.prod]));
  });
});
