import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { assumeRolePolicy, checkStatement, policyDocument, renderPolicy } from "../../infra/policy";
import { promiseOf } from "../mocks";

describe("policy documents", () => {
  it("renders statements with sorted, de-duplicated actions and resources", () => {
    expect(
      policyDocument([{ sid: "Read", actions: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:GetItem"], resources: ["arn:aws:dynamodb:r:1:table/b", "arn:aws:dynamodb:r:1:table/a"] }]),
    ).to.deep.equal({
      Version: "2012-10-17",
      Statement: [{ Sid: "Read", Effect: "Allow", Action: ["dynamodb:BatchGetItem", "dynamodb:GetItem"], Resource: ["arn:aws:dynamodb:r:1:table/a", "arn:aws:dynamodb:r:1:table/b"] }],
    });
  });

  it("refuses wildcard actions", () => {
    expect(() => policyDocument([{ sid: "All", actions: ["s3:*"], resources: ["arn:aws:s3:::b"] }])).to.throw('action "s3:*" must be an exact service:Action');
  });

  it("refuses a * resource without a written reason", () => {
    expect(() => policyDocument([{ sid: "X", actions: ["xray:PutTraceSegments"], resources: ["*"] }])).to.throw('resource "*" needs a `wildcardReason`');
  });

  it("refuses resources that are not ARNs or that widen inside the ARN", () => {
    expect(() => policyDocument([{ sid: "X", actions: ["s3:GetObject"], resources: ["my-bucket"] }])).to.throw('"my-bucket" is not an ARN');
    expect(() => policyDocument([{ sid: "X", actions: ["dynamodb:GetItem"], resources: ["arn:aws:dynamodb:*:1:table/t"] }])).to.throw('may only end in "/*" or ":*"');
  });

  it("refuses duplicate statement ids", () => {
    expect(() =>
      policyDocument([
        { sid: "A", actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] },
        { sid: "A", actions: ["s3:PutObject"], resources: ["arn:aws:s3:::b/*"] },
      ]),
    ).to.throw('sid "A" is used twice');
  });
});

describe("statement checks", () => {
  const statement = { sid: "Read", actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] };

  it("refuses a sid with other characters than letters and digits, quoting it", () => {
    expect(() => checkStatement({ ...statement, sid: "Read-Only" })).to.throw('policy statement `sid` "Read-Only" must be letters and digits only');
    expect(() => checkStatement({ ...statement, sid: "" })).to.throw('policy statement `sid` "" must be letters and digits only');
    expect(() => checkStatement({ ...statement, sid: "Read2" })).to.not.throw();
  });

  it("refuses empty actions and empty resources, naming the statement", () => {
    expect(() => checkStatement({ ...statement, actions: [] })).to.throw("policy statement Read: `actions` is empty");
    expect(() => checkStatement({ ...statement, resources: [] })).to.throw("policy statement Read: `resources` is empty");
  });

  it("refuses an action that is not exactly service:Action, naming it", () => {
    for (const action of ["s3:Get*", "S3:GetObject", "s3:GetObject ", " s3:GetObject", "s3GetObject", "s3:Get:Object"]) {
      expect(() => checkStatement({ ...statement, actions: [action] }), action).to.throw(
        `policy statement Read: action "${action}" must be an exact service:Action (no wildcards)`,
      );
    }
    expect(() => checkStatement({ ...statement, actions: ["s3-outposts:GetObject", "kms:Decrypt"] })).to.not.throw();
  });

  it("accepts \"*\" with a reason, and a wildcard only as the last segment of an ARN", () => {
    expect(() => checkStatement({ sid: "Trace", actions: ["xray:PutTraceSegments"], resources: ["*"], wildcardReason: "X-Ray has no resource ARNs" })).to.not.throw();
    expect(() => checkStatement({ sid: "Logs", actions: ["logs:PutLogEvents"], resources: ["arn:aws:logs:eu-central-1:1:log-group:/aws/lambda/f:*"] })).to.not.throw();
    expect(() => checkStatement({ sid: "Logs", actions: ["logs:PutLogEvents"], resources: ["arn:aws:logs:eu-central-1:1:log-group:/aws/*/f"] })).to.throw(
      'policy statement Logs: resource "arn:aws:logs:eu-central-1:1:log-group:/aws/*/f" may only end in "/*" or ":*" (object keys, log streams)',
    );
    expect(() => checkStatement({ ...statement, resources: ["s3:::b"] })).to.throw('policy statement Read: resource "s3:::b" is not an ARN');
  });

  it("checks every resource, not only the first", () => {
    expect(() => checkStatement({ ...statement, resources: ["arn:aws:s3:::b/*", "*"] })).to.throw('policy statement Read: resource "*" needs a `wildcardReason`');
  });
});

describe("rendered policies", () => {
  it("keeps a statement's condition and leaves the key out of one without", () => {
    expect(
      policyDocument([
        { sid: "Pass", actions: ["iam:PassRole"], resources: ["arn:aws:iam::1:role/r"], condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } },
        { sid: "Read", actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] },
      ]),
    ).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        { Sid: "Pass", Effect: "Allow", Action: ["iam:PassRole"], Resource: ["arn:aws:iam::1:role/r"], Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } },
        { Sid: "Read", Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/*"] },
      ],
    });
  });

  it("resolves resource and condition outputs before rendering the JSON document", async () => {
    const rendered = await promiseOf(
      renderPolicy([
        {
          sid: "Run",
          actions: ["ecs:RunTask"],
          resources: [pulumi.output("arn:aws:ecs:r:1:task-definition/t:2")],
          condition: { ArnEquals: { "ecs:cluster": pulumi.output("arn:aws:ecs:r:1:cluster/c") } },
        },
      ]),
    );

    expect(JSON.parse(rendered)).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        { Sid: "Run", Effect: "Allow", Action: ["ecs:RunTask"], Resource: ["arn:aws:ecs:r:1:task-definition/t:2"], Condition: { ArnEquals: { "ecs:cluster": "arn:aws:ecs:r:1:cluster/c" } } },
      ],
    });
  });

  it("lets exactly one service assume a role", () => {
    expect(JSON.parse(assumeRolePolicy("states.amazonaws.com"))).to.deep.equal({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "states.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
  });
});
