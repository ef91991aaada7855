import { expect } from "chai";
import { IamEnforcer, iamReport } from "../../../local/iam/enforcement";
import { Principal } from "../../../local/iam/principals";
import type { RolePolicyRecord } from "../../../local/program/provider";

/** The enforcement wiring and the report, on hand-written policies (evaluation itself: evaluate.test.ts). */
describe("local IAM enforcement", () => {
  const table = "arn:aws:dynamodb:eu-central-1:000000000000:table/orders";
  const policies: RolePolicyRecord[] = [
    {
      roleName: "shop-shipping-role",
      policyName: "shop-shipping-policy",
      document: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "RecordShipments", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem"], Resource: [table] },
          { Sid: "WriteTraces", Effect: "Allow", Action: ["xray:PutTraceSegments"], Resource: ["*"] },
        ],
      }),
    },
  ];
  const principal = (kind: Principal["kind"], roleArn: string): Principal => ({ kind, name: "shop-shipping", roleArn, accessKeyId: "AKIA", secretAccessKey: "s" });
  const shipping = principal("lambda", "arn:aws:iam::000000000000:role/shop-shipping-role");

  it("allows what the principal's role policy grants and denies the rest with IAM's reason", () => {
    const iam = new IamEnforcer(policies);
    expect(iam.authorize({ principal: shipping, service: "dynamodb", action: "dynamodb:PutItem", resource: table })).to.deep.equal({ allowed: true, reason: "allowed by statement RecordShipments", matchedSid: "RecordShipments", policy: "identity-based" });
    expect(iam.authorize({ principal: shipping, service: "dynamodb", action: "dynamodb:DeleteItem", resource: table })).to.deep.equal({
      allowed: false,
      reason: "because no identity-based policy allows the dynamodb:DeleteItem action",
      matchedSid: undefined,
    });
  });

  it("denies a principal whose role has no policy, and always allows the operator", () => {
    const iam = new IamEnforcer(policies);
    expect(iam.authorize({ principal: principal("lambda", "arn:aws:iam::000000000000:role/other-role"), service: "dynamodb", action: "dynamodb:GetItem", resource: table }).allowed).to.equal(false);
    expect(iam.authorize({ principal: principal("operator", ""), service: "dynamodb", action: "dynamodb:DeleteTable", resource: table }).allowed).to.equal(true);
  });

  it("takes one action away from a running principal until the grant is restored", () => {
    const iam = new IamEnforcer(policies);
    const put = { principal: shipping, service: "dynamodb", action: "dynamodb:PutItem", resource: table };
    const restore = iam.revoke(shipping, "dynamodb:PutItem");
    expect(iam.authorize(put).allowed).to.equal(false);
    expect(iam.authorize({ ...put, action: "dynamodb:GetItem" }).allowed).to.equal(true);
    restore();
    expect(iam.authorize(put).allowed).to.equal(true);
  });

  it("revokes grants only: a Deny stays whole, and an Allow with NotAction comes to exclude the action", () => {
    const broad: RolePolicyRecord = {
      roleName: "shop-shipping-role",
      policyName: "broad",
      document: {
        Statement: [
          { Sid: "AllButDelete", Effect: "Allow", NotAction: ["dynamodb:DeleteItem"], Resource: [table] },
          { Sid: "NoScan", Effect: "Deny", Action: ["dynamodb:Scan", "dynamodb:PutItem"], Resource: ["*"], Condition: { Bool: { "aws:SecureTransport": "false" } } },
        ],
      } as never,
    };
    const iam = new IamEnforcer([broad]);
    const put = { principal: shipping, service: "dynamodb", action: "dynamodb:PutItem", resource: table };
    const restore = iam.revoke(shipping, "dynamodb:PutItem");
    expect(iam.policiesOf(shipping.roleArn)).to.deep.equal([
      {
        Version: undefined,
        Statement: [
          { Sid: "AllButDelete", Effect: "Allow", NotAction: ["dynamodb:DeleteItem", "dynamodb:PutItem"], Resource: [table] },
          { Sid: "NoScan", Effect: "Deny", Action: ["dynamodb:Scan", "dynamodb:PutItem"], Resource: ["*"], Condition: { Bool: { "aws:SecureTransport": "false" } } },
        ],
      },
    ]);
    expect(iam.authorize(put)).to.deep.equal({ allowed: false, reason: "because no identity-based policy allows the dynamodb:PutItem action", matchedSid: undefined });
    expect(iam.authorize({ ...put, action: "dynamodb:Scan", context: { "aws:SecureTransport": "false" } })).to.deep.equal({
      allowed: false,
      reason: "with an explicit deny in an identity-based policy",
      matchedSid: "NoScan",
      policy: "identity-based",
    });
    restore();
    expect(iam.authorize(put)).to.deep.equal({ allowed: true, reason: "allowed by statement AllButDelete", matchedSid: "AllButDelete", policy: "identity-based" });
  });

  it("reports per principal the pairs used, the granted pairs never used, and the denials", () => {
    const iam = new IamEnforcer(policies);
    const [report] = iamReport({
      principals: [{ principal: "lambda:shop-shipping", roleArn: shipping.roleArn, statements: iam.policiesOf(shipping.roleArn).flatMap((d) => d.Statement as never) }],
      accesses: [
        { principal: "lambda:shop-shipping", action: "dynamodb:PutItem", resource: table, allowed: true, count: 2 },
        { principal: "lambda:shop-shipping", action: "dynamodb:DeleteItem", resource: table, allowed: false, count: 1, reason: "no identity-based policy allows it" },
        { principal: "lambda:someone-else", action: "dynamodb:GetItem", resource: table, allowed: true, count: 1 },
      ],
    });
    expect(report.used).to.deep.equal([{ action: "dynamodb:PutItem", resource: table, count: 2 }]);
    expect(report.unused).to.deep.equal([
      { sid: "RecordShipments", action: "dynamodb:GetItem", resource: table, uses: 0 },
      { sid: "WriteTraces", action: "xray:PutTraceSegments", resource: "*", uses: 0 },
    ]);
    expect(report.denied).to.deep.equal([{ action: "dynamodb:DeleteItem", resource: table, count: 1, reason: "no identity-based policy allows it" }]);
  });
});
