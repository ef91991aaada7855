import { expect } from "chai";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { LocalCloud } from "../../../local/cloud";
import type { PolicyDocument, Statement } from "../../../local/iam/evaluate";
import { IamEnforcer } from "../../../local/iam/enforcement";
import { AccessDeniedError, PrincipalRegistry, type Principal } from "../../../local/iam/principals";
import { LOCAL_ACCOUNT } from "../../../local/program/resource-state";
import { LocalKms } from "../../../local/services/kms";
import { expectedDenials, sharedCloud, sharedMini } from "../support";

/**
 * KMS as AWS evaluates it when a service uses a key on the caller's behalf: SNS publishing to an encrypted topic needs
 * the publisher's kms:GenerateDataKey and kms:Decrypt; SSM returning a SecureString decrypted needs the caller's
 * kms:Decrypt; ECS reading a task's SecureString secret needs the execution role's. Each request carries
 * `kms:ViaService`, and the key policy decides before IAM. Sources: AWS KMS developer guide ("Key policies",
 * "Default key policy", "kms:ViaService"), SSM user guide ("How Parameter Store uses AWS KMS"), SNS developer guide
 * ("Data encryption at rest", publisher permissions), ECS developer guide ("Pass sensitive data … Systems Manager").
 */
describe("fidelity: KMS keys are evaluated for the services that use them", function () {
  this.timeout(120_000);

  describe("the real program (dev stack)", () => {
    let cloud: LocalCloud;
    const fn = (suffix: string) => cloud.principals.all().find((p) => p.kind === "lambda" && p.name.endsWith(`-${suffix}`))!;
    const encryptedTopic = () => [...cloud.sns.topics.values()].find((t) => t.arn === cloud.output("notificationsTopicArn"))!;
    const paymentKey = () => [...cloud.ssm.parameters.values()].find((p) => p.name.endsWith("/payment-gateway-key"))!;

    before(async () => {
      cloud = await sharedCloud("fidelity-kms");
    });

    it("encrypts the notifications topic with the program's own key, and the payment key parameter with another", () => {
      expect(encryptedTopic().kmsMasterKeyId, "topic key").to.be.a("string").and.not.equal("");
      expect(paymentKey().keyId, "parameter key").to.be.a("string").and.not.equal("");
      expect(cloud.kms.resolve(paymentKey().keyId, "ssm").arn).to.not.equal(cloud.kms.resolve(encryptedTopic().kmsMasterKeyId, "sns").arn);
    });

    it("lets the notification function publish to the encrypted topic, asking KMS for GenerateDataKey and Decrypt via SNS", async () => {
      const notification = fn("notification");
      const before = cloud.principals.accessLog.length;
      const sns = new SNSClient(cloud.clientConfig(notification));
      await sns.send(new PublishCommand({ TopicArn: encryptedTopic().arn, Message: JSON.stringify({ probe: "kms-allowed" }) }));
      const kms = cloud.principals.accessLog.slice(before).filter((e) => e.action.startsWith("kms:"));
      expect(kms.map((e) => [e.action, e.allowed, e.context?.["kms:ViaService"]])).to.deep.equal([
        ["kms:GenerateDataKey", true, `sns.${cloud.region}.amazonaws.com`],
        ["kms:Decrypt", true, `sns.${cloud.region}.amazonaws.com`],
      ]);
    });

    it("refuses the publish with KMSAccessDeniedException when the function's role loses kms:GenerateDataKey (EncryptNotifications dropped)", async () => {
      const notification = fn("notification");
      expectedDenials.push({ principal: `lambda:${notification.name}`, action: "kms:GenerateDataKey" });
      const restore = cloud.iam.revoke(notification, "kms:GenerateDataKey");
      const before = encryptedTopic().messages.length;
      try {
        const sns = new SNSClient(cloud.clientConfig(notification));
        const error = await sns.send(new PublishCommand({ TopicArn: encryptedTopic().arn, Message: "{}" })).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(error?.name).to.equal("KMSAccessDeniedException");
        expect(error?.message).to.contain("kms:GenerateDataKey").and.contain("Service: AWSKMS");
        expect(encryptedTopic().messages.length, "nothing published").to.equal(before);
      } finally {
        restore();
      }
    });

    it("decrypts the payment key for the payment function through SSM, with the parameter's ARN as encryption context", async () => {
      const payment = fn("payment-processing");
      const before = cloud.principals.accessLog.length;
      const ssm = new SSMClient(cloud.clientConfig(payment));
      const out = await ssm.send(new GetParameterCommand({ Name: paymentKey().name, WithDecryption: true }));
      expect(out.Parameter?.Value).to.equal(paymentKey().value);
      const decrypt = cloud.principals.accessLog.slice(before).find((e) => e.action === "kms:Decrypt");
      expect(decrypt?.allowed).to.equal(true);
      expect(decrypt?.context).to.include({ "kms:ViaService": `ssm.${cloud.region}.amazonaws.com`, "kms:EncryptionContext:PARAMETER_ARN": paymentKey().arn });
    });

    it("refuses the decryption with AccessDeniedException when the role's kms:ViaService condition is mistyped", async () => {
      const payment = fn("payment-processing");
      expectedDenials.push({ principal: `lambda:${payment.name}`, action: "kms:Decrypt" });
      const mistyped = (docs: PolicyDocument[]) =>
        docs.map((doc) => ({
          ...doc,
          Statement: (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]).map((s: Statement) =>
            s.Sid === "DecryptPaymentKey" ? { ...s, Condition: { StringEquals: { "kms:ViaService": `ssm.${cloud.region}.amazonaws.co` } } } : s,
          ),
        }));
      const restore = cloud.iam.override(payment, mistyped);
      try {
        const ssm = new SSMClient(cloud.clientConfig(payment));
        const error = await ssm.send(new GetParameterCommand({ Name: paymentKey().name, WithDecryption: true })).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(error?.name).to.equal("AccessDeniedException");
        expect(error?.message).to.contain("kms:Decrypt").and.contain("Error Code: AccessDeniedException");
        // Without decryption SSM returns the value encrypted and asks KMS nothing.
        const raw = await ssm.send(new GetParameterCommand({ Name: paymentKey().name }));
        expect(raw.Parameter?.Type).to.equal("SecureString");
      } finally {
        restore();
      }
    });
  });

  describe("a task's SecureString secret (mini program)", () => {
    it("stops the task with ResourceInitializationError when the execution role may read the parameter but not decrypt it", async () => {
      const cloud = await sharedMini();
      const role = cloud.provider.ofType("aws:ecs/taskDefinition:TaskDefinition")[0].inputs.executionRoleArn as string;
      const executionRole = cloud.principals.issue("ecs-task", "mini-worker/execution", role);
      const key = cloud.kms.registerKey("fidelity-secret-key", `arn:aws:kms:${cloud.region}:${LOCAL_ACCOUNT}:key/fidelity-secret-key`);
      cloud.ssm.put("/mini/fidelity-secret", "SecureString", "s3cr3t", key.keyId);
      const readOnly = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ssm:GetParameters", Resource: cloud.ssm.get("/mini/fidelity-secret")!.arn }] } as unknown as PolicyDocument;
      const previous = cloud.principals.authorizer;
      const enforcer = new IamEnforcer([]);
      cloud.principals.authorizer = enforcer.authorize;
      try {
        let restore = enforcer.override(executionRole, () => [readOnly]);
        expect(() => cloud.taskSecret("/mini/fidelity-secret", executionRole)).to.throw(
          /^ResourceInitializationError: unable to pull secrets or registry auth: .*kms:Decrypt.*Error Code: AccessDeniedException/,
        );
        restore();
        const withDecrypt = { ...readOnly, Statement: [...(readOnly.Statement as Statement[]), { Effect: "Allow", Action: "kms:Decrypt", Resource: key.arn }] } as unknown as PolicyDocument;
        restore = enforcer.override(executionRole, () => [withDecrypt]);
        expect(cloud.taskSecret("/mini/fidelity-secret", executionRole)).to.equal("s3cr3t");
        restore();
      } finally {
        cloud.principals.authorizer = previous;
      }
    });
  });

  describe("key policies (LocalKms)", () => {
    const region = "eu-west-1";
    const roleArn = `arn:aws:iam::${LOCAL_ACCOUNT}:role/reader`;
    const keyArn = `arn:aws:kms:${region}:${LOCAL_ACCOUNT}:key/k1`;
    const allowDecrypt: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: keyArn }] };
    const setup = (identity: PolicyDocument[], keyPolicy?: PolicyDocument) => {
      const principals = new PrincipalRegistry();
      const reader: Principal = principals.issue("lambda", "reader", roleArn);
      const enforcer = new IamEnforcer([]);
      enforcer.override(reader, () => identity);
      principals.authorizer = enforcer.authorize;
      const kms = new LocalKms(region);
      const key = kms.registerKey("k1", keyArn, keyPolicy);
      return { principals, reader, kms, key };
    };
    const denial = (f: () => void) => {
      try {
        f();
      } catch (e) {
        if (e instanceof AccessDeniedError) return e.message;
        throw e;
      }
      return undefined;
    };

    const refused = (reason: string) => `User: arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/reader/reader is not authorized to perform: kms:Decrypt on resource: ${keyArn} ${reason}`;
    const keyPolicy = (...statements: object[]) => ({ Version: "2012-10-17", Statement: statements }) as unknown as PolicyDocument;
    const account = { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${LOCAL_ACCOUNT}:root` }, Action: "kms:*", Resource: "*" };

    it("lets IAM decide under the default key policy: allowed with kms:Decrypt, denied without", () => {
      const granted = setup([allowDecrypt]);
      expect(denial(() => granted.kms.authorize(granted.principals, granted.reader, "kms:Decrypt", granted.key, "ssm"))).to.equal(undefined);
      const bare = setup([]);
      expect(denial(() => bare.kms.authorize(bare.principals, bare.reader, "kms:Decrypt", bare.key, "ssm"))).to.equal(refused("because no identity-based policy allows the kms:Decrypt action"));
    });

    it("denies a role IAM allows when the key policy neither names it nor delegates to the account", () => {
      const only = keyPolicy({ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${LOCAL_ACCOUNT}:role/someone-else` }, Action: "kms:*", Resource: "*" });
      const { principals, reader, kms, key } = setup([allowDecrypt], only);
      expect(denial(() => kms.authorize(principals, reader, "kms:Decrypt", key, "ssm"))).to.equal(refused("because no resource-based policy allows the kms:Decrypt action"));
    });

    it("allows a role the key policy names by role or session, with no IAM grant, and lets the key policy's explicit deny win over IAM", () => {
      for (const principal of [roleArn, `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/reader/reader`]) {
        const direct = setup([], keyPolicy({ Sid: "Reader", Effect: "Allow", Principal: { AWS: principal }, Action: "kms:Decrypt", Resource: "*" }));
        expect(denial(() => direct.kms.authorize(direct.principals, direct.reader, "kms:Decrypt", direct.key, "ssm")), principal).to.equal(undefined);
        expect(direct.principals.accessLog.at(-1), principal).to.deep.include({ allowed: true, matchedSid: "Reader" });
      }
      const denied = setup([allowDecrypt], keyPolicy(account, { Sid: "NoReader", Effect: "Deny", Principal: { AWS: roleArn }, Action: "kms:Decrypt", Resource: "*" }));
      expect(denial(() => denied.kms.authorize(denied.principals, denied.reader, "kms:Decrypt", denied.key, "ssm"))).to.equal(refused("with an explicit deny in a resource-based policy"));
    });

    // IAM User Guide, "Policy evaluation logic": an explicit deny in any policy overrides an allow, the key policy's too.
    it("lets an explicit deny in the role's IAM policy win over a key policy that names the role", () => {
      const denyDecrypt: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "kms:Decrypt", Resource: "*" }] };
      const { principals, reader, kms, key } = setup([denyDecrypt], keyPolicy({ Effect: "Allow", Principal: { AWS: roleArn }, Action: "kms:Decrypt", Resource: "*" }));
      expect(denial(() => kms.authorize(principals, reader, "kms:Decrypt", key, "ssm"))).to.equal(refused("with an explicit deny in an identity-based policy"));
    });

    it("evaluates key-policy conditions on the request's kms:ViaService and global keys", () => {
      const viaSsm = keyPolicy({ Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*", Condition: { StringEquals: { "kms:ViaService": `ssm.${region}.amazonaws.com` }, ArnEquals: { "aws:PrincipalArn": roleArn } } });
      const { principals, reader, kms, key } = setup([], viaSsm);
      expect(denial(() => kms.authorize(principals, reader, "kms:Decrypt", key, "ssm"))).to.equal(undefined);
      expect(denial(() => kms.authorize(principals, reader, "kms:Decrypt", key, "sns"))).to.equal(refused("because no resource-based policy allows the kms:Decrypt action"));
    });

    it("lets any principal of the account use the AWS-managed key through its own service only", () => {
      const { principals, reader, kms } = setup([]);
      const managed = kms.resolve(undefined, "ssm");
      expect(kms.resolve("alias/aws/ssm", "ssm")).to.equal(managed);
      expect(denial(() => kms.authorize(principals, reader, "kms:Decrypt", managed, "ssm"))).to.equal(undefined);
      expect(denial(() => kms.authorize(principals, reader, "kms:Decrypt", managed, "sns"))).to.equal(
        `User: arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/reader/reader is not authorized to perform: kms:Decrypt on resource: ${managed.arn} because no resource-based policy allows the kms:Decrypt action`,
      );
    });

    it("resolves a key by id, ARN and alias, and names a key that does not exist", () => {
      const { kms, key } = setup([]);
      kms.registerAlias("alias/reader", "k1");
      expect([kms.resolve("k1", "ssm"), kms.resolve(keyArn, "ssm"), kms.resolve("alias/reader", "ssm"), kms.resolve(`arn:aws:kms:${region}:${LOCAL_ACCOUNT}:alias/reader`, "ssm")]).to.deep.equal([key, key, key, key]);
      expect(() => kms.resolve("missing", "ssm")).to.throw("Invalid keyId missing");
    });
  });
});
