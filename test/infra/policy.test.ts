import { expect } from "chai";
import { policyDocument } from "../../infra/policy";

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
