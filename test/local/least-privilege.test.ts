import { expect } from "chai";
import { leastPrivilegeProblems } from "./hooks";

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
