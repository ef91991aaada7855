import { expect } from "chai";
import { checkAgainstCatalogue, evaluate, OPERATORS, PolicyDocument } from "../../../local/iam/evaluate";

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

/**
 * Every condition operator the evaluator implements (and its …IfExists form), holding and not holding, with the whole
 * decision. Rules: IAM User Guide, "IAM JSON policy elements: Condition operators" — string operators compare
 * case-sensitively unless …IgnoreCase, `*`/`?` only in …Like; ARN operators compare per component, with wildcards in
 * both; a missing key makes a positive operator false and a negated one (and any …IfExists) true; Null tests presence.
 */
describe("each condition operator the local evaluator supports", () => {
  const CLUSTER = "arn:aws:ecs:eu-central-1:000000000000:cluster/jobs";
  const OTHER = "arn:aws:ecs:eu-central-1:111111111111:cluster/jobs";
  /** Per operator: the key it tests, the policy value, a request value it holds for and one it does not hold for. */
  const cases: Record<string, { key: string; value: string; holds: string; fails: string }> = {
    StringEquals: { key: "iam:PassedToService", value: "ecs-tasks.amazonaws.com", holds: "ecs-tasks.amazonaws.com", fails: "ECS-TASKS.amazonaws.com" },
    StringNotEquals: { key: "iam:PassedToService", value: "lambda.amazonaws.com", holds: "ecs-tasks.amazonaws.com", fails: "lambda.amazonaws.com" },
    StringEqualsIgnoreCase: { key: "iam:PassedToService", value: "ECS-TASKS.amazonaws.com", holds: "ecs-tasks.amazonaws.com", fails: "ecs-task.amazonaws.com" },
    StringNotEqualsIgnoreCase: { key: "iam:PassedToService", value: "LAMBDA.amazonaws.com", holds: "ecs-tasks.amazonaws.com", fails: "lambda.amazonaws.com" },
    StringLike: { key: "iam:PassedToService", value: "ecs-?asks.*", holds: "ecs-tasks.amazonaws.com", fails: "ecs-tasks" },
    StringNotLike: { key: "iam:PassedToService", value: "lambda.*", holds: "ecs-tasks.amazonaws.com", fails: "lambda.amazonaws.com" },
    ArnEquals: { key: "ecs:cluster", value: CLUSTER, holds: CLUSTER, fails: OTHER },
    ArnLike: { key: "ecs:cluster", value: "arn:aws:ecs:*:000000000000:cluster/*", holds: CLUSTER, fails: OTHER },
    ArnNotEquals: { key: "ecs:cluster", value: OTHER, holds: CLUSTER, fails: OTHER },
    ArnNotLike: { key: "ecs:cluster", value: "arn:aws:ecs:*:111111111111:*", holds: CLUSTER, fails: OTHER },
    Bool: { key: "aws:SecureTransport", value: "true", holds: "true", fails: "false" },
  };
  const request = (key: string, value: string | undefined) => ({
    action: "ecs:RunTask",
    resource: "arn:aws:ecs:eu-central-1:000000000000:task-definition/w:1",
    context: value === undefined ? {} : { [key]: value },
  });
  const decide = (operator: string, key: string, value: string, actual: string | undefined) =>
    evaluate([{ Version: "2012-10-17", Statement: [{ Sid: "Conditional", Effect: "Allow", Action: "ecs:RunTask", Resource: "*", Condition: { [operator]: { [key]: value } } }] }], request(key, actual));
  const ALLOWED = { allowed: true, matchedSid: "Conditional", policy: "identity-based", reason: "allowed by statement Conditional" };
  const DENIED = { allowed: false, reason: "because no identity-based policy allows the ecs:RunTask action" };

  it("has a case for every operator the evaluator implements", () => {
    expect([...Object.keys(cases), "Null"].sort()).to.deep.equal(Object.keys(OPERATORS).sort());
  });

  it("Null: false holds for a present key and not for an absent one; true the other way round", () => {
    expect(decide("Null", "aws:SourceArn", "false", CLUSTER)).to.deep.equal(ALLOWED);
    expect(decide("Null", "aws:SourceArn", "false", undefined)).to.deep.equal(DENIED);
    expect(decide("Null", "aws:SourceArn", "true", undefined)).to.deep.equal(ALLOWED);
    expect(decide("Null", "aws:SourceArn", "true", CLUSTER)).to.deep.equal(DENIED);
  });

  for (const [operator, c] of Object.entries(cases)) {
    const negated = OPERATORS[operator].negated;
    it(`${operator}: holds for ${c.holds}, not for ${c.fails}, and for a missing key ${negated ? "holds" : "does not"}`, () => {
      expect(decide(operator, c.key, c.value, c.holds)).to.deep.equal(ALLOWED);
      expect(decide(operator, c.key, c.value, c.fails)).to.deep.equal(DENIED);
      expect(decide(operator, c.key, c.value, undefined)).to.deep.equal(negated ? ALLOWED : DENIED);
    });
    it(`${operator}IfExists: as ${operator} when the key is present, and holds when it is missing`, () => {
      expect(decide(`${operator}IfExists`, c.key, c.value, c.holds)).to.deep.equal(ALLOWED);
      expect(decide(`${operator}IfExists`, c.key, c.value, c.fails)).to.deep.equal(DENIED);
      expect(decide(`${operator}IfExists`, c.key, c.value, undefined)).to.deep.equal(ALLOWED);
    });
  }
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
