import { expect } from "chai";
import * as path from "node:path";
import { startLocalCloud } from "../../../local/cloud";
import type { Statement } from "../../../local/iam/evaluate";
import { LOCAL_REQUEST_CONTEXT } from "../../../local/iam/enforcement";
import { PolicyKind, unsupportedConstructs } from "../../../local/iam/validate";

/**
 * A policy construct the local evaluator does not implement, or a condition key AWS would put in a request that the
 * local request context lacks, is refused before the local cloud serves anything — never evaluated differently from
 * AWS. Each test names the AWS page (IAM User Guide unless said otherwise) whose rule makes the construct matter.
 */
const TABLE = "arn:aws:dynamodb:eu-central-1:000000000000:table/orders";
const problems = (statement: Record<string, unknown>, kind: PolicyKind = "identity") =>
  unsupportedConstructs({ Version: "2012-10-17", Statement: [{ Sid: "S", ...statement }] }, kind, LOCAL_REQUEST_CONTEXT);
const getItemIf = (condition: Statement["Condition"]) => ({ Effect: "Allow", Action: "dynamodb:GetItem", Resource: TABLE, Condition: condition });

describe("fidelity: IAM constructs the local evaluator does not support are refused at boot", function () {
  this.timeout(60_000);

  describe("condition operators", () => {
    // reference_policies_elements_condition_operators.html lists the operators; the local evaluator implements the
    // String, ARN, Bool and Null ones with their IfExists forms.
    it("refuses an operator it does not implement, and one that does not exist", async () => {
      expect(await problems(getItemIf({ NumericLessThan: { "dynamodb:Select": "1" } }))).to.include("statement S: condition operator NumericLessThan is not supported by the local evaluator");
      expect(await problems(getItemIf({ StringEqualsAnyCase: { "aws:PrincipalAccount": "1" } }))).to.include("statement S: condition operator StringEqualsAnyCase is not supported by the local evaluator");
      expect(await problems(getItemIf({ NullIfExists: { "aws:SourceArn": "true" } }))).to.include("statement S: condition operator NullIfExists is not supported by the local evaluator");
    });

    // reference_policies_condition-single-vs-multi-valued-context-keys.html: set operators for multivalued keys.
    it("refuses the set operators ForAnyValue and ForAllValues", async () => {
      expect(await problems(getItemIf({ "ForAllValues:StringLike": { "aws:PrincipalArn": "arn:*" } }))).to.include(
        "statement S: condition set operator ForAllValues:StringLike is not supported by the local evaluator (no request key here is multivalued)",
      );
    });

    it("refuses a Bool value other than true or false, an ARN operator on a string key and a value that is not an ARN", async () => {
      expect(await problems(getItemIf({ Bool: { "aws:SecureTransport": "yes" } }))).to.include('statement S: Bool aws:SecureTransport value "yes" is neither "true" nor "false"');
      expect(await problems({ Effect: "Allow", Action: "iam:PassRole", Resource: "*", Condition: { ArnLike: { "iam:PassedToService": "ecs-tasks.*" } } })).to.include.members([
        "statement S: ArnLike on iam:PassedToService, a key of type String",
        "statement S: ArnLike iam:PassedToService value ecs-tasks.* is not an ARN (six colon-separated components)",
      ]);
    });
  });

  describe("condition keys", () => {
    // reference_policies_condition-keys.html: aws:SourceIp is in every request made over the internet; the local
    // front door cannot give it a value AWS would.
    it("refuses a global key AWS would supply and the local context does not", async () => {
      expect(await problems(getItemIf({ IpAddress: { "aws:SourceIp": "10.0.0.0/8" } }))).to.include("statement S: condition key aws:SourceIp is not in the local request context, and AWS puts it in requests like these");
      expect(await problems(getItemIf({ StringEquals: { "aws:SourceIp": "10.0.0.1" } }))).to.include("statement S: condition key aws:SourceIp is not in the local request context, and AWS puts it in requests like these");
    });

    // Service Authorization Reference, "Actions, resources, and condition keys for Amazon DynamoDB": GetItem
    // supports dynamodb:LeadingKeys.
    it("refuses a service key AWS puts in the action's context and the local cloud does not", async () => {
      expect(await problems(getItemIf({ "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": ["a"] } }))).to.include(
        "statement S: condition key dynamodb:LeadingKeys: AWS puts it in the request context of dynamodb:GetItem, the local cloud does not",
      );
    });

    it("refuses a key the IAM catalogue does not know", async () => {
      expect(await problems(getItemIf({ StringEquals: { "dynamodb:LeadingKey": "a" } }))).to.include(
        "statement S: condition key dynamodb:LeadingKey is not in the IAM catalogue: the local cloud cannot tell whether AWS supplies it",
      );
    });

    // reference_policies_condition-keys.html: aws:SourceAccount "is only available when the call to your resource is
    // made directly by an AWS service principal"; iam:GetRole has no iam:PassedToService (Service Authorization
    // Reference, IAM): missing on AWS as locally, so both evaluate the same.
    it("accepts keys missing from these requests on AWS too, and the keys the program uses", async () => {
      expect(await problems(getItemIf({ StringNotEquals: { "aws:SourceAccount": "000000000000" } }))).to.deep.equal([]);
      expect(await problems({ Effect: "Allow", Action: "iam:GetRole", Resource: "*", Condition: { StringEquals: { "iam:PassedToService": "x" } } })).to.deep.equal([]);
      expect(await problems({ Effect: "Allow", Action: "ecs:RunTask", Resource: "*", Condition: { ArnEquals: { "ecs:Cluster": "arn:aws:ecs:eu-central-1:000000000000:cluster/c" } } })).to.deep.equal([]);
      // KMS is decided for what SSM, SNS and ECS ask on the caller's behalf (Decrypt, GenerateDataKey), with
      // kms:ViaService; a KMS action the local cloud never decides keeps its keys unchecked.
      expect(await problems({ Effect: "Allow", Action: "kms:Decrypt", Resource: "*", Condition: { StringEquals: { "kms:ViaService": "ssm.eu-central-1.amazonaws.com" } } })).to.deep.equal([]);
      expect(await problems({ Effect: "Allow", Action: "kms:Encrypt", Resource: "*", Condition: { StringEquals: { "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT" } } })).to.deep.equal([]);
    });

    // Service Authorization Reference, "Actions, resources, and condition keys for AWS Key Management Service":
    // Decrypt supports kms:EncryptionAlgorithm, which the local KMS requests do not carry.
    it("refuses a KMS key the local KMS requests do not carry", async () => {
      expect(await problems({ Effect: "Allow", Action: "kms:Decrypt", Resource: "*", Condition: { StringEquals: { "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT" } } })).to.deep.equal([
        "statement S: condition key kms:EncryptionAlgorithm: AWS puts it in the request context of kms:Decrypt, the local cloud does not",
      ]);
    });
  });

  describe("policy elements", () => {
    // reference_policies_elements_principal.html: "You cannot use the Principal element in an identity-based policy."
    it("refuses a Principal in an identity-based policy", async () => {
      expect(await problems({ Effect: "Allow", Principal: "*", Action: "dynamodb:GetItem", Resource: TABLE })).to.include(
        "statement S: Principal and NotPrincipal have no place in an identity-based policy (IAM refuses the policy)",
      );
    });

    // reference_policies_elements_notprincipal.html, reference_policies_elements_principal.html.
    it("refuses NotPrincipal and principal kinds it does not model in a resource-based policy", async () => {
      expect(await problems({ Effect: "Deny", NotPrincipal: { AWS: "arn:aws:iam::000000000000:role/r" }, Action: "s3:*", Resource: "*" }, "resource")).to.include(
        "statement S: NotPrincipal is not supported by the local evaluator",
      );
      expect(await problems({ Effect: "Allow", Principal: { Federated: "cognito-identity.amazonaws.com" }, Action: "s3:GetObject", Resource: "*" }, "resource")).to.include(
        "statement S: Federated principals are not supported by the local evaluator",
      );
      expect(await problems({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:role/*" }, Action: "s3:GetObject", Resource: "*" }, "resource")).to.include(
        'statement S: AWS principal arn:aws:iam::000000000000:role/* is not "*", an account, a role, a user or a role session (wildcards are not allowed in principals)',
      );
    });

    // reference_policies_variables.html: a variable stands for a request-context value; the local context carries
    // only its global keys for certain (aws:username is absent for roles).
    it("refuses a policy variable the local request context cannot resolve", async () => {
      expect(await problems({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::docs/${aws:username}/*" })).to.include(
        "statement S: policy variable ${aws:username} cannot be resolved: the local request context does not always carry aws:username",
      );
      expect(await problems({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::docs/${aws:PrincipalAccount}/${*}" })).to.deep.equal([]);
    });

    // reference_policies_elements_notaction.html, reference_policies_elements_resource.html ("You can't use a
    // wildcard in the service segment").
    it("refuses Action with NotAction and a wildcard in a resource's service segment", async () => {
      expect(await problems({ Effect: "Allow", Action: "s3:GetObject", NotAction: "s3:PutObject", Resource: "*" })).to.include("statement S: Action and NotAction together (IAM allows one of them)");
      expect(await problems({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s*:::docs/*" })).to.include("statement S: resource arn:aws:s*:::docs/* has a wildcard in the service segment, which IAM does not allow");
    });
  });

  describe("booting a program that uses them", () => {
    it("refuses to start, naming every construct and the role, resource or key policy that holds it", async () => {
      const refused = await startLocalCloud({ projectDir: path.join(__dirname, "..", "fixtures", "iam-refused"), buildImages: false }).then(
        async (cloud) => {
          await cloud.stop();
          return undefined;
        },
        (err: Error) => err,
      );
      expect(refused?.message).to.match(/^the local cloud cannot enforce IAM as AWS would for these policies/);
      const lines = refused!.message.split("\n").slice(1).map((l) => l.trim());
      expect(lines).to.have.length(4);
      expect(lines[0]).to.match(/^role refused-worker-role, policy \S+: statement TaggedOnly: condition set operator ForAnyValue:StringEquals is not supported by the local evaluator/);
      expect(lines[1]).to.match(/^role refused-worker-role, policy \S+: statement TaggedOnly: condition key aws:TagKeys is not in the local request context/);
      expect(lines[2]).to.match(/^aws:sns\/topicPolicy:TopicPolicy events-policy \(arn:aws:sns:eu-west-1:\d{12}:\S+\): statement OnlyWorker: NotPrincipal is not supported by the local evaluator$/);
      expect(lines[3]).to.match(/^aws:kms\/key:Key \S+ \(arn:aws:kms:eu-west-1:\d{12}:key\/\S+\): statement SymmetricOnly: condition key kms:EncryptionAlgorithm: AWS puts it in the request context of kms:Decrypt, the local cloud does not$/);
    });
  });
});
