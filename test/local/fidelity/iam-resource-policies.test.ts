import { expect } from "chai";
import type { LocalCloud } from "../../../local/cloud";
import { Caller, evaluate, EvaluationRequest, PolicyDocument, Statement } from "../../../local/iam/evaluate";
import { IamEnforcer } from "../../../local/iam/enforcement";
import type { Principal } from "../../../local/iam/principals";
import { sharedCloud } from "../support";

/**
 * Resource-based policies are evaluated with the caller's identity-based policies, as AWS evaluates a request within
 * one account. Each test names the page of the IAM User Guide (https://docs.aws.amazon.com/IAM/latest/UserGuide/…)
 * whose rule it pins.
 */
const ACCOUNT = "000000000000";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/shop-notify-role`;
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/shop-notify-role/shop-notify`;
const TOPIC = `arn:aws:sns:eu-central-1:${ACCOUNT}:events`;
const caller: Caller = { arn: ROLE, sessionArn: SESSION, account: ACCOUNT };
const publish: EvaluationRequest = { action: "sns:Publish", resource: TOPIC, caller };

const policy = (...statements: Statement[]): PolicyDocument => ({ Version: "2012-10-17", Statement: statements });
const identityAllows = policy({ Sid: "Publish", Effect: "Allow", Action: "sns:Publish", Resource: TOPIC });
const topicPolicy = (effect: "Allow" | "Deny", principal: Statement["Principal"]) => policy({ Sid: "Topic", Effect: effect, Principal: principal, Action: "sns:Publish", Resource: TOPIC });

describe("fidelity: resource-based policies with identity-based policies (one account)", () => {
  describe("the decision", () => {
    // reference_policies_evaluation-logic_policy-eval-basics.html: "An explicit deny in any of the policies overrides
    // the allow."
    it("lets an explicit Deny in the resource policy win over the identity policy's Allow", () => {
      expect(evaluate([identityAllows], publish, topicPolicy("Deny", "*"))).to.deep.equal({ allowed: false, matchedSid: "Topic", policy: "resource-based", reason: "with an explicit deny in a resource-based policy" });
    });

    it("lets an explicit Deny in the identity policy win over the resource policy's Allow", () => {
      const denies = policy({ Sid: "NoPublish", Effect: "Deny", Action: "sns:*", Resource: "*" });
      expect(evaluate([denies], publish, topicPolicy("Allow", { AWS: ROLE }))).to.deep.include({ allowed: false, policy: "identity-based", reason: "with an explicit deny in an identity-based policy" });
    });

    // Same page: "If either the identity-based policy or the resource-based policy within the same account allows the
    // request and the other doesn't, the request is still allowed."
    it("allows with the resource policy alone when it names the role, the session or everyone", () => {
      for (const principal of [{ AWS: ROLE }, { AWS: [SESSION] }, "*" as const, { AWS: "*" }]) {
        expect(evaluate([], publish, topicPolicy("Allow", principal)), JSON.stringify(principal)).to.deep.include({ allowed: true, policy: "resource-based" });
      }
    });

    it("allows with the identity policy alone when the resource policy says nothing about the request", () => {
      expect(evaluate([identityAllows], publish, topicPolicy("Allow", { AWS: `arn:aws:iam::${ACCOUNT}:role/someone-else` }))).to.deep.include({ allowed: true, policy: "identity-based" });
    });

    // reference_policies_elements_principal.html, AWS account principals: naming the account "delegates authority to
    // the account"; its identities still need an identity-based policy that allows.
    it("does not allow on an Allow that names only the account, but denies on a Deny that does", () => {
      for (const account of [ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`]) {
        expect(evaluate([], publish, topicPolicy("Allow", { AWS: account })), account).to.deep.equal({ allowed: false, reason: "because no identity-based policy allows the sns:Publish action" });
        expect(evaluate([identityAllows], publish, topicPolicy("Deny", { AWS: account })), account).to.deep.include({ allowed: false, policy: "resource-based" });
      }
    });

    // reference_policies_elements_principal.html, AWS service principals: a statement for cloudwatch.amazonaws.com
    // applies to the service's requests, not to a role's.
    it("never lets a service principal's statement apply to a role", () => {
      expect(evaluate([], publish, topicPolicy("Allow", { Service: "cloudwatch.amazonaws.com" })).allowed).to.equal(false);
      expect(evaluate([identityAllows], publish, topicPolicy("Deny", { Service: "cloudwatch.amazonaws.com" })).allowed).to.equal(true);
    });
  });

  describe("which resource a policy covers", () => {
    // AmazonS3 userguide bucket-policies.html: a bucket policy governs the bucket and the objects in it.
    const notify: Principal = { kind: "lambda", name: "shop-notify", roleArn: ROLE, accessKeyId: "AKIA", secretAccessKey: "s" };
    const denyAll = (resource: string) => JSON.stringify(policy({ Sid: "Closed", Effect: "Deny", Principal: "*", Action: "*", Resource: resource }));
    const enforcer = new IamEnforcer([{ roleName: "shop-notify-role", policyName: "p", document: JSON.stringify(policy({ Effect: "Allow", Action: ["s3:GetObject", "sns:Publish"], Resource: "*" })) }], {
      resourcePolicies: [
        { type: "aws:s3/bucketPolicy:BucketPolicy", name: "docs-policy", resourceArn: "arn:aws:s3:::docs", document: denyAll("arn:aws:s3:::docs/*") },
        { type: "aws:sns/topicPolicy:TopicPolicy", name: "events-policy", resourceArn: TOPIC, document: denyAll(TOPIC) },
      ],
    });
    const ask = (action: string, resource: string) => enforcer.authorize({ principal: notify, service: action.split(":")[0], action, resource }).allowed;

    it("applies a bucket's policy to its objects, and not to another bucket's whose name it begins", () => {
      expect(ask("s3:GetObject", "arn:aws:s3:::docs/a.json")).to.equal(false);
      expect(ask("s3:GetObject", "arn:aws:s3:::docs-archive/a.json")).to.equal(true);
    });

    it("applies a topic's policy to that topic only", () => {
      expect(ask("sns:Publish", TOPIC)).to.equal(false);
      expect(ask("sns:Publish", `${TOPIC}-other`)).to.equal(true);
    });
  });

  describe("the program's own bucket, topic and queue policies, as the local cloud registered them", function () {
    this.timeout(180_000);
    let cloud: LocalCloud;
    before(async () => {
      cloud = await sharedCloud("iam-resource-policies");
    });

    /** A request the program makes, by the principal that makes it; the resource policies deny it without TLS. */
    const requests = () => {
      const exportSm = cloud.output("exportStateMachineArn");
      const orderSm = cloud.output("orderStateMachineArn");
      return [
        { principal: cloud.principals.find("lambda", cloud.functionOfState(exportSm, "EstimateExport"))!, service: "s3", action: "s3:GetObject", resource: `arn:aws:s3:::${cloud.output("documentsBucket")}/documents/a.json` },
        { principal: cloud.principals.find("lambda", cloud.functionOfState(orderSm, "Notification"))!, service: "sns", action: "sns:Publish", resource: cloud.output("notificationsTopicArn") },
        { principal: cloud.principals.find("state-machine", orderSm.split(":").pop()!)!, service: "sqs", action: "sqs:SendMessage", resource: cloud.sqs.queueArnFor(cloud.output("failedNotificationsQueueUrl")) },
      ];
    };

    // AmazonS3 userguide security-best-practices.html (aws:SecureTransport), SNS sns-security-best-practices.html and
    // SQS sqs-security-best-practices.html ("Enforce encryption of data in transit"): the TLS-only Deny.
    it("allows each request over TLS, and denies it without, by the resource policy's DenyInsecureTransport", () => {
      for (const request of requests()) {
        expect(cloud.iam.authorize(request).allowed, request.action).to.equal(true);
        expect(cloud.iam.authorize({ ...request, context: { "aws:SecureTransport": "false" } }), request.action).to.deep.equal({
          allowed: false,
          reason: "with an explicit deny in a resource-based policy",
          matchedSid: "DenyInsecureTransport",
          policy: "resource-based",
        });
      }
    });

    it("keeps a resource without a policy to the identity policy (the orders table has none)", () => {
      const placement = cloud.principals.find("lambda", cloud.functionOfState(cloud.output("orderStateMachineArn"), "OrderPlacement"))!;
      const table = `arn:aws:dynamodb:${cloud.region}:${ACCOUNT}:table/${cloud.output("ordersTable")}`;
      expect(cloud.iam.authorize({ principal: placement, service: "dynamodb", action: "dynamodb:PutItem", resource: table, context: { "aws:SecureTransport": "false" } }).allowed).to.equal(true);
    });

    it("does not let a function publish to the alarm topic, whose policy allows CloudWatch only", () => {
      const notify = requests()[1].principal;
      expect(cloud.iam.authorize({ principal: notify, service: "sns", action: "sns:Publish", resource: cloud.output("alarmTopicArn") })).to.deep.equal({
        allowed: false,
        reason: "because no identity-based policy allows the sns:Publish action",
        matchedSid: undefined,
      });
    });
  });
});
