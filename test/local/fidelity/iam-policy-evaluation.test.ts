import { expect } from "chai";
import { evaluate, EvaluationRequest, PolicyDocument, Statement } from "../../../local/iam/evaluate";
import { IamEnforcer } from "../../../local/iam/enforcement";
import type { Principal } from "../../../local/iam/principals";

/**
 * The local IAM evaluator decides as AWS does, behaviour by behaviour. Each test names the page of the IAM User Guide
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/…) whose rule it pins.
 */
const ACCOUNT = "000000000000";
const TABLE = `arn:aws:dynamodb:eu-central-1:${ACCOUNT}:table/orders`;
const CLUSTER = `arn:aws:ecs:eu-central-1:${ACCOUNT}:cluster/jobs`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/shop-worker-role`;

const policy = (...statements: Statement[]): PolicyDocument => ({ Version: "2012-10-17", Statement: statements });
const allowed = (doc: PolicyDocument, request: EvaluationRequest) => evaluate([doc], request).allowed;

describe("fidelity: IAM policy evaluation", () => {
  describe("NotAction", () => {
    // reference_policies_elements_notaction.html: "NotAction … matches everything except the specified list of actions".
    it("allows, in an Allow, every action but the listed ones", () => {
      const doc = policy({ Effect: "Allow", NotAction: ["iam:*", "dynamodb:DeleteItem"], Resource: "*" });
      expect(allowed(doc, { action: "dynamodb:GetItem", resource: TABLE })).to.equal(true);
      expect(allowed(doc, { action: "dynamodb:DeleteItem", resource: TABLE })).to.equal(false);
      expect(allowed(doc, { action: "iam:PassRole", resource: ROLE })).to.equal(false);
    });

    // reference_policies_examples_aws_deny-requested-region.html: Deny NotAction with aws:RequestedRegion, so that
    // the global services stay usable while every other action is denied outside the listed Regions.
    it("denies, in a Deny, every action but the listed ones: the Region guard of AWS's example", () => {
      const doc = policy(
        { Effect: "Allow", Action: ["dynamodb:GetItem", "iam:PassRole"], Resource: "*" },
        { Effect: "Deny", NotAction: ["iam:*"], Resource: "*", Condition: { StringNotEquals: { "aws:RequestedRegion": ["eu-central-1"] } } },
      );
      const from = (region: string, action: string) => allowed(doc, { action, resource: "*", context: { "aws:RequestedRegion": region } });
      expect(from("eu-central-1", "dynamodb:GetItem")).to.equal(true);
      expect(from("us-east-1", "dynamodb:GetItem")).to.equal(false);
      expect(from("us-east-1", "iam:PassRole")).to.equal(true);
    });
  });

  describe("NotResource", () => {
    // reference_policies_elements_notresource.html: the statement matches every resource except the listed ones.
    it("applies a statement to every resource but the listed ones", () => {
      const doc = policy(
        { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::docs/*" },
        { Effect: "Deny", Action: "s3:GetObject", NotResource: ["arn:aws:s3:::docs/public/*"] },
      );
      expect(allowed(doc, { action: "s3:GetObject", resource: "arn:aws:s3:::docs/public/a.json" })).to.equal(true);
      expect(allowed(doc, { action: "s3:GetObject", resource: "arn:aws:s3:::docs/private/a.json" })).to.equal(false);
    });

    it("allows with NotResource only outside the listed resources", () => {
      const doc = policy({ Effect: "Allow", Action: "dynamodb:GetItem", NotResource: [TABLE] });
      expect(allowed(doc, { action: "dynamodb:GetItem", resource: `${TABLE}-archive` })).to.equal(true);
      expect(allowed(doc, { action: "dynamodb:GetItem", resource: TABLE })).to.equal(false);
    });
  });

  describe("negated condition operators, …IfExists and Null when the key is missing", () => {
    const get = { action: "dynamodb:GetItem", resource: TABLE };
    const grantIf = (condition: Statement["Condition"]) => policy({ Effect: "Allow", Action: "dynamodb:GetItem", Resource: TABLE, Condition: condition });

    // reference_policies_elements_condition_operators.html: "If the policy condition requires that the key is not
    // matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition is true."
    for (const [operator, value] of [
      ["StringNotEquals", "x"],
      ["StringNotEqualsIgnoreCase", "x"],
      ["StringNotLike", "x*"],
      ["ArnNotEquals", CLUSTER],
      ["ArnNotLike", "arn:aws:ecs:*:*:cluster/*"],
    ] as const) {
      it(`holds ${operator} for a key the request does not carry`, () => {
        expect(allowed(grantIf({ [operator]: { "ecs:cluster": value } }), get)).to.equal(true);
      });
    }

    // Same page: a Deny with a negated operator on a key the request lacks denies — the confused-deputy guard that
    // shuts out a role's own requests, which carry no aws:SourceAccount.
    it("lets a Deny with StringNotEquals on a missing key deny", () => {
      const doc = policy({ Effect: "Allow", Action: "sns:Publish", Resource: "*" }, { Effect: "Deny", Action: "sns:Publish", Resource: "*", Condition: { StringNotEquals: { "aws:SourceAccount": ACCOUNT } } });
      expect(evaluate([doc], { action: "sns:Publish", resource: "arn:aws:sns:eu-central-1:000000000000:t" })).to.deep.include({ allowed: false, reason: "with an explicit deny in an identity-based policy" });
    });

    it("holds a negated operator on a present key only when no value matches (NOR)", () => {
      // reference_policies_multi-value-conditions.html: values of a negated operator are evaluated with a logical NOR.
      const doc = grantIf({ StringNotEquals: { "iam:PassedToService": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"] } });
      expect(allowed(doc, { ...get, context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } })).to.equal(false);
      expect(allowed(doc, { ...get, context: { "iam:PassedToService": "states.amazonaws.com" } })).to.equal(true);
    });

    it("does not hold a positive operator for a missing key, and …IfExists does", () => {
      // reference_policies_elements_condition_operators.html, "…IfExists condition operators": "If the key is not
      // present, evaluate the condition element as true."
      expect(allowed(grantIf({ StringEquals: { "ecs:cluster": CLUSTER } }), get)).to.equal(false);
      expect(allowed(grantIf({ ArnEqualsIfExists: { "ecs:cluster": CLUSTER } }), get)).to.equal(true);
      expect(allowed(grantIf({ ArnEqualsIfExists: { "ecs:cluster": CLUSTER } }), { ...get, context: { "ecs:cluster": `${CLUSTER}-other` } })).to.equal(false);
      expect(allowed(grantIf({ StringNotEqualsIfExists: { "ecs:cluster": CLUSTER } }), { ...get, context: { "ecs:cluster": CLUSTER } })).to.equal(false);
    });

    it("tests presence with Null: true for an absent key, false for a present one", () => {
      // reference_policies_elements_condition_operators.html, "Condition operator to check existence of condition keys".
      expect(allowed(grantIf({ Null: { "aws:SourceArn": "true" } }), get)).to.equal(true);
      expect(allowed(grantIf({ Null: { "aws:SourceArn": "false" } }), get)).to.equal(false);
      expect(allowed(grantIf({ Null: { "aws:SourceArn": "false" } }), { ...get, context: { "aws:SourceArn": TABLE } })).to.equal(true);
    });
  });

  describe("ArnEquals and ArnLike match component by component", () => {
    // reference_policies_elements_condition_operators.html, ARN condition operators: "Each of the six colon-delimited
    // components of the ARN is checked separately and each can include multi-character match wildcards (*) or
    // single-character match wildcards (?)"; case-sensitive.
    const FUNCTION = `arn:aws:lambda:eu-central-1:${ACCOUNT}:function:f:live`;
    const invokeIf = (operator: string, value: string) =>
      allowed(policy({ Effect: "Allow", Action: "lambda:InvokeFunction", Resource: "*", Condition: { [operator]: { "aws:SourceArn": value } } }), {
        action: "lambda:InvokeFunction",
        resource: FUNCTION,
        context: { "aws:SourceArn": FUNCTION },
      });

    it("keeps a * within its component: a pattern missing the account does not match", () => {
      expect(invokeIf("ArnLike", "arn:aws:lambda:*:function:f:live")).to.equal(false);
      expect(invokeIf("ArnLike", "arn:aws:lambda:*:*:function:f:live")).to.equal(true);
    });

    it("lets the sixth component, the resource, hold colons", () => {
      expect(invokeIf("ArnLike", "arn:aws:lambda:eu-central-1:000000000000:function:*")).to.equal(true);
      expect(invokeIf("ArnLike", "arn:aws:lambda:eu-???????-1:000000000000:function:f:*")).to.equal(true);
    });

    it("accepts wildcards in ArnEquals as in ArnLike, and compares case-sensitively", () => {
      expect(invokeIf("ArnEquals", "arn:aws:lambda:*:000000000000:function:f:live")).to.equal(true);
      expect(invokeIf("ArnEquals", "arn:aws:lambda:eu-central-1:000000000000:function:F:live")).to.equal(false);
      expect(invokeIf("ArnNotLike", "arn:aws:lambda:*:function:f:live")).to.equal(true);
    });
  });

  describe("wildcards in the Resource element", () => {
    // reference_policies_elements_resource.html, using wildcards in resource ARNs: wildcards work within the segments
    // of an ARN; "If the * wildcard is the last character of a resource ARN segment, it can expand to match beyond the
    // colon boundaries."
    const invoke = (pattern: string, resource: string) => allowed(policy({ Effect: "Allow", Action: "lambda:InvokeFunction", Resource: pattern }), { action: "lambda:InvokeFunction", resource });
    const ALIAS = `arn:aws:lambda:eu-central-1:${ACCOUNT}:function:f:live`;

    it("lets a * that ends its segment expand beyond the colons", () => {
      expect(invoke(`arn:aws:lambda:eu-central-1:${ACCOUNT}:function:*`, ALIAS)).to.equal(true);
      expect(invoke(`arn:aws:lambda:*:${ACCOUNT}:function:f:live`, ALIAS)).to.equal(true);
    });

    it("keeps a * inside a segment within it", () => {
      expect(invoke(`arn:aws:lambda:eu-central-1:${ACCOUNT}:function:*e`, ALIAS)).to.equal(false);
      expect(invoke(`arn:aws:lambda:eu-central-1:${ACCOUNT}:function:f:*e`, ALIAS)).to.equal(true);
    });
  });

  describe("condition key names are not case-sensitive; values are, unless the operator ignores case", () => {
    // reference_policies_elements_condition.html: "Context key names are not case-sensitive … Case-sensitivity of
    // context key values depends on the condition operator that you use."
    const pass = (condition: Statement["Condition"]) =>
      allowed(policy({ Effect: "Allow", Action: "iam:PassRole", Resource: ROLE, Condition: condition }), { action: "iam:PassRole", resource: ROLE, context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } });

    it("finds a key whatever the case of its name in the policy", () => {
      expect(pass({ StringEquals: { "IAM:passedToService": "ecs-tasks.amazonaws.com" } })).to.equal(true);
    });

    it("compares values case-sensitively with StringEquals and StringLike, not with StringEqualsIgnoreCase", () => {
      expect(pass({ StringEquals: { "iam:PassedToService": "ECS-TASKS.amazonaws.com" } })).to.equal(false);
      expect(pass({ StringLike: { "iam:PassedToService": "ECS-*" } })).to.equal(false);
      expect(pass({ StringEqualsIgnoreCase: { "iam:PassedToService": "ECS-TASKS.amazonaws.com" } })).to.equal(true);
    });
  });

  describe("global condition keys in the local request context", () => {
    // reference_policies_condition-keys.html: aws:PrincipalArn ("For IAM roles, the request context returns the ARN
    // of the role, not the ARN of the user that assumed the role"), aws:PrincipalAccount, aws:RequestedRegion,
    // aws:SecureTransport.
    const worker: Principal = { kind: "ecs-task", name: "shop-worker", roleArn: ROLE, accessKeyId: "AKIA", secretAccessKey: "s" };
    const enforcer = (condition: Statement["Condition"]) =>
      new IamEnforcer(
        [{ roleName: "shop-worker-role", policyName: "p", document: policy({ Sid: "Get", Effect: "Allow", Action: "dynamodb:GetItem", Resource: TABLE, Condition: condition }) as never }],
        { region: "eu-central-1" },
      );
    const get = (condition: Statement["Condition"], context?: Record<string, string>) => enforcer(condition).authorize({ principal: worker, service: "dynamodb", action: "dynamodb:GetItem", resource: TABLE, context }).allowed;

    it("carries the role's ARN, not the session's, as aws:PrincipalArn, and its account as aws:PrincipalAccount", () => {
      expect(get({ ArnEquals: { "aws:PrincipalArn": ROLE } })).to.equal(true);
      expect(get({ ArnLike: { "aws:PrincipalArn": `arn:aws:sts::${ACCOUNT}:assumed-role/shop-worker-role/*` } })).to.equal(false);
      expect(get({ StringEquals: { "aws:PrincipalAccount": ACCOUNT } })).to.equal(true);
    });

    it("carries the stack's Region as aws:RequestedRegion", () => {
      expect(get({ StringEquals: { "aws:RequestedRegion": "eu-central-1" } })).to.equal(true);
      expect(get({ StringEquals: { "aws:RequestedRegion": "us-east-1" } })).to.equal(false);
    });

    it("carries aws:SecureTransport true (the SDK's HTTPS endpoints), false only when the request says so", () => {
      expect(get({ Bool: { "aws:SecureTransport": "true" } })).to.equal(true);
      expect(get({ Bool: { "aws:SecureTransport": "true" } }, { "aws:SecureTransport": "false" })).to.equal(false);
    });
  });

  describe("policy variables", () => {
    // reference_policies_variables.html: variables are replaced by request-context values in policies with Version
    // 2012-10-17 only ("if you don't include the Version element … variables are treated as literal strings");
    // ${*}, ${?} and ${$} stand for the literal characters.
    const statement: Statement = { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::docs/${aws:PrincipalAccount}/${*}" };
    const request = (key: string): EvaluationRequest => ({ action: "s3:GetObject", resource: `arn:aws:s3:::docs/${key}`, context: { "aws:PrincipalAccount": ACCOUNT } });

    it("replaces a variable by its request-context value, and ${*} by a literal asterisk", () => {
      expect(allowed(policy(statement), request(`${ACCOUNT}/*`))).to.equal(true);
      expect(allowed(policy(statement), request(`${ACCOUNT}/a.json`))).to.equal(false);
    });

    it("reads ${…} as plain text in a policy without Version 2012-10-17", () => {
      expect(allowed({ Statement: [statement] }, request(`${ACCOUNT}/*`))).to.equal(false);
      expect(allowed({ Statement: [statement] }, request("${aws:PrincipalAccount}/${*}"))).to.equal(true);
    });
  });
});
