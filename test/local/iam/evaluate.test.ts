import { expect } from "chai";
import { checkAgainstCatalogue, evaluate, PolicyDocument } from "../../../local/iam/evaluate";

const TABLE = "arn:aws:dynamodb:eu-central-1:000000000000:table/orders";
const policy: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [
    { Sid: "Orders", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: [TABLE] },
    { Sid: "Objects", Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::docs/documents/*"] },
    {
      Sid: "Run",
      Effect: "Allow",
      Action: ["ecs:RunTask"],
      Resource: ["arn:aws:ecs:eu-central-1:000000000000:task-definition/w:1"],
      Condition: { ArnEquals: { "ecs:cluster": "arn:aws:ecs:eu-central-1:000000000000:cluster/c" } },
    },
  ],
};

describe("local IAM evaluation", () => {
  it("allows a granted action on its exact ARN, naming the statement", () => {
    expect(evaluate([policy], { action: "dynamodb:UpdateItem", resource: TABLE })).to.deep.equal({ allowed: true, matchedSid: "Orders", policy: "identity-based", reason: "allowed by statement Orders" });
  });

  it("denies an action that was not granted, in the words AWS uses", () => {
    expect(evaluate([policy], { action: "dynamodb:PutItem", resource: TABLE })).to.deep.equal({
      allowed: false,
      reason: "because no identity-based policy allows the dynamodb:PutItem action",
    });
  });

  it("denies the granted action on another table", () => {
    expect(evaluate([policy], { action: "dynamodb:GetItem", resource: `${TABLE}-other` }).allowed).to.equal(false);
  });

  it("matches object keys under the granted prefix only", () => {
    expect(evaluate([policy], { action: "s3:GetObject", resource: "arn:aws:s3:::docs/documents/a.json" }).allowed).to.equal(true);
    expect(evaluate([policy], { action: "s3:GetObject", resource: "arn:aws:s3:::docs/exports/a.pdf" }).allowed).to.equal(false);
  });

  it("applies conditions: the wrong or a missing cluster is denied", () => {
    const run = { action: "ecs:RunTask", resource: "arn:aws:ecs:eu-central-1:000000000000:task-definition/w:1" };
    expect(evaluate([policy], { ...run, context: { "ecs:cluster": "arn:aws:ecs:eu-central-1:000000000000:cluster/c" } }).allowed).to.equal(true);
    expect(evaluate([policy], { ...run, context: { "ecs:cluster": "arn:aws:ecs:eu-central-1:000000000000:cluster/other" } }).allowed).to.equal(false);
    expect(evaluate([policy], run).allowed).to.equal(false);
  });

  it("lets an explicit Deny win over an Allow", () => {
    const deny: PolicyDocument = { Statement: [{ Sid: "No", Effect: "Deny", Action: "dynamodb:*", Resource: "*" }] };
    expect(evaluate([policy, deny], { action: "dynamodb:GetItem", resource: TABLE })).to.deep.include({ allowed: false, matchedSid: "No" });
  });
});

describe("IAM catalogue check", () => {
  it("accepts real actions on ARNs of their resource types, and * for wildcard-only actions", async () => {
    const problems = await checkAgainstCatalogue({
      Statement: [
        { Sid: "A", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: [TABLE] },
        { Sid: "B", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: ["arn:aws:logs:eu-central-1:000000000000:log-group:/aws/lambda/f:*"] },
        { Sid: "C", Effect: "Allow", Action: ["xray:PutTraceSegments"], Resource: ["*"] },
        { Sid: "D", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: ["arn:aws:lambda:eu-central-1:000000000000:function:f:live"] },
      ],
    });
    expect(problems).to.deep.equal([]);
  });

  it("flags an action that does not exist", async () => {
    const problems = await checkAgainstCatalogue({ Statement: [{ Sid: "A", Effect: "Allow", Action: ["dynamodb:GetItems"], Resource: [TABLE] }] });
    expect(problems).to.deep.equal([{ sid: "A", action: "dynamodb:GetItems", problem: "action does not exist in the IAM catalogue" }]);
  });

  it("flags a resource that fits none of the action's resource types", async () => {
    const problems = await checkAgainstCatalogue({ Statement: [{ Sid: "A", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: ["arn:aws:s3:::bucket/key"] }] });
    expect(problems).to.have.length(1);
    expect(problems[0].problem).to.match(/^resource fits none of the action's resource types \(table/);
  });

  it("flags * on an action that has resource types, and an ARN on one that has none", async () => {
    const problems = await checkAgainstCatalogue({
      Statement: [
        { Sid: "A", Effect: "Allow", Action: ["sns:Publish"], Resource: ["*"] },
        { Sid: "B", Effect: "Allow", Action: ["states:SendTaskSuccess"], Resource: ["arn:aws:states:eu-central-1:000000000000:stateMachine:x"] },
      ],
    });
    expect(problems.map((p) => [p.sid, p.problem.split(";")[0]])).to.deep.equal([
      ["A", "action has resource types (topic)"],
      ["B", "action has no resource type"],
    ]);
  });
});
