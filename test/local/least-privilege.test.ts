import { expect } from "chai";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { Suite, Test } from "mocha";
import { PROJECT_DIR } from "../../local/cloud";
import { leastPrivilegeProblems, scenarioCoverage } from "./hooks";

/** The check the root hook runs over the whole test run's access log, on a hand-made log. */
describe("least-privilege check of a test run", () => {
  const table = "arn:aws:dynamodb:eu-central-1:000000000000:table/orders";
  const log = {
    principals: [
      {
        principal: "lambda:shop-shipping",
        roleArn: "arn:aws:iam::000000000000:role/shop-shipping-role",
        statements: [
          { Sid: "RecordShipments", Effect: "Allow" as const, Action: ["dynamodb:GetItem", "dynamodb:PutItem"], Resource: [table] },
          { Sid: "WriteTraces", Effect: "Allow" as const, Action: ["xray:PutTraceSegments"], Resource: ["*"] },
        ],
      },
    ],
    accesses: [
      { principal: "lambda:shop-shipping", action: "dynamodb:PutItem", resource: table, allowed: true, count: 3 },
      { principal: "lambda:shop-shipping", action: "dynamodb:DeleteItem", resource: table, allowed: false, count: 1 },
    ],
  };
  const traces = { principal: /^lambda:/, grant: /^xray:PutTraceSegments \*$/, reason: "the Lambda service sends traces" };
  const unrelated = { principal: /^ecs-task:/, grant: /^ecr:/, reason: "no longer matches anything" };

  it("fails on a denial no test caused on purpose, and not on one it did", () => {
    expect(leastPrivilegeProblems(log, false, [], [])).to.deep.equal([`denied in a scenario meant to succeed: lambda:shop-shipping dynamodb:DeleteItem ${table}`]);
    expect(leastPrivilegeProblems(log, false, [], [{ principal: "lambda:shop-shipping", action: "dynamodb:DeleteItem" }])).to.deep.equal([]);
  });

  it("fails on a granted pair no scenario used unless justified, and on a justification that covers nothing", () => {
    const denied = [{ principal: "lambda:shop-shipping", action: "dynamodb:DeleteItem" }];
    expect(leastPrivilegeProblems(log, true, [traces, unrelated], denied)).to.deep.equal([
      `granted but never used by any scenario (remove it, or justify it in test/local/iam-justifications.ts): lambda:shop-shipping RecordShipments dynamodb:GetItem ${table}`,
      "stale justification (covers no unused grant any more): /^ecs-task:/ /^ecr:/",
    ]);
  });

  it("checks unused grants only when every scenario file ran (a partial run cannot judge them)", () => {
    expect(leastPrivilegeProblems(log, false, [], [{ principal: "lambda:shop-shipping", action: "dynamodb:DeleteItem" }])).to.deep.equal([]);
  });
});

/** The unused-grant check needs every scenario test to have run and passed; a partial run says it skipped the check. */
describe("unused-grant check on a partial run", function () {
  this.timeout(60_000);

  /** A root suite as mocha builds it: one suite per file, each test with its file and, once run, its state. */
  function run(files: Record<string, Array<Test["state"]>>): Suite {
    const root = new Suite("");
    root.root = true;
    for (const [file, states] of Object.entries(files)) {
      const suite = new Suite(file);
      states.forEach((state, i) => {
        const test = new Test(`scenario ${i + 1}`, () => undefined);
        test.file = path.join(PROJECT_DIR, "test", "local", `${file}.test.ts`);
        test.state = state;
        suite.addTest(test);
      });
      root.addSuite(suite);
    }
    return root;
  }

  it("is complete only when every test of every scenario file passed", () => {
    expect(scenarioCoverage(run({ "pipeline.e2e": ["passed", "passed"], "fault-matrix": ["passed"], "front-door": [undefined] }))).to.deep.equal({ complete: true });
  });

  it("names the scenario files a run did not load", () => {
    expect(scenarioCoverage(run({ "fault-matrix": ["passed"] }))).to.deep.equal({ complete: false, reason: "not every scenario file ran (pipeline.e2e did not)" });
    expect(scenarioCoverage(undefined)).to.deep.equal({ complete: false, reason: "not every scenario file ran (pipeline.e2e, fault-matrix did not)" });
  });

  it("counts scenario tests left out by --grep or .only, skipped or failed", () => {
    expect(scenarioCoverage(run({ "pipeline.e2e": ["passed", undefined, "pending"], "fault-matrix": ["failed"] }))).to.deep.equal({
      complete: false,
      reason: '3 of 4 scenario tests did not run or did not pass (e.g. "pipeline.e2e scenario 2")',
    });
  });

  it("prints that it skipped the check when one file runs on its own", async () => {
    // A real mocha run of one unit-test file, with the repository's .mocharc (the root hooks).
    const mocha = path.join(PROJECT_DIR, "node_modules", ".bin", "mocha");
    const { stdout } = await promisify(execFile)(mocha, ["test/local/iam/enforcement.test.ts"], { cwd: PROJECT_DIR });
    expect(stdout).to.contain("passing");
    expect(stdout).to.contain("least privilege: the unused-grant check was skipped: not every scenario file ran (pipeline.e2e, fault-matrix did not); `npm test` runs it");
  });
});
