import { expect } from "chai";
import { DeleteObjectsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { deleteObjects } from "../../../handlers/export/s3";
import type { LocalCloud } from "../../../local/cloud";
import { escape, type PolicyDocument, type Statement } from "../../../local/iam/evaluate";
import type { Principal } from "../../../local/iam/principals";
import { sharedMini } from "../support";

/**
 * IAM denials for every kind of principal the local cloud issues — a function, an ECS task's task role and execution
 * role, a state machine — each refused what its role (as the mini program wrote it) does not grant, with AWS's whole
 * message; the request-context keys the runtimes supply (`ecs:cluster` for RunTask, `iam:PassedToService` for PassRole)
 * decide; S3 DeleteObjects is decided per key. Wording: IAM User Guide, "Troubleshoot access denied error messages".
 */
describe("IAM denials for every kind of principal (mini program)", function () {
  this.timeout(120_000);
  let cloud: LocalCloud;
  const ACCOUNT = "000000000000";
  const refused = (session: string, action: string, resource: string) =>
    `User: arn:aws:sts::${ACCOUNT}:assumed-role/${session} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
  const failure = <T>(promise: Promise<T>) =>
    promise.then(
      () => undefined,
      (e: Error) => ({ name: e.name, message: e.message }),
    );
  const principal = (kind: Principal["kind"], name: string) => {
    const found = cloud.principals.find(kind, name);
    if (!found) throw new Error(`no ${kind} principal ${name}`);
    return found;
  };
  const bucket = () => cloud.output("bucketName");
  const object = (key: string) => `arn:aws:s3:::${bucket()}/${key}`;

  before(async () => {
    cloud = await sharedMini();
  });

  describe("a function", () => {
    it("puts where its role grants and is refused elsewhere, with S3's AccessDenied", async () => {
      const s3 = new S3Client({ ...cloud.clientConfig(principal("lambda", "mini-store")), forcePathStyle: true, maxAttempts: 1 });
      await s3.send(new PutObjectCommand({ Bucket: bucket(), Key: "items/denials-allowed.json", Body: "{}" }));
      expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket(), Key: "other/denials.json", Body: "{}" })))).to.deep.equal({
        name: "AccessDenied",
        message: refused("mini-store-role/mini-store", "s3:PutObject", object("other/denials.json")),
      });
    });
  });

  describe("an ECS task", () => {
    it("is refused, as its task role, a topic its role does not name, with SNS's AuthorizationError", async () => {
      const sns = new SNSClient({ ...cloud.clientConfig(principal("ecs-task", "mini-worker")), maxAttempts: 1 });
      expect(await failure(sns.send(new PublishCommand({ TopicArn: cloud.output("topicArn"), Message: "{}" })))).to.deep.equal({
        name: "AuthorizationErrorException",
        message: refused("mini-worker-task-role/mini-worker", "sns:Publish", cloud.output("topicArn")),
      });
    });

    it("does not start when its execution role may not read its secret, as ECS reports it", () => {
      const role = cloud.provider.ofType("aws:ecs/taskDefinition:TaskDefinition")[0].inputs.executionRoleArn as string;
      const execution = cloud.principals.issue("ecs-task", "mini-worker/execution", role);
      const parameter = cloud.ssm.get("/mini/api-key")!.arn;
      expect(() => cloud.taskSecret("/mini/api-key", execution)).to.throw(
        `ResourceInitializationError: unable to pull secrets or registry auth: unable to retrieve secrets from ssm: ${refused("mini-worker-exec-role/mini-worker/execution", "ssm:GetParameters", parameter)}`,
      );
    });
  });

  describe("a state machine", () => {
    const flow = () => principal("state-machine", "mini-flow");

    it("fails the execution when its role loses sqs:SendMessage, naming the denied call", async () => {
      const restore = cloud.iam.revoke(flow(), "sqs:SendMessage");
      try {
        const execution = await cloud.run("mini-flow", { scenario: "queue", id: "denied-1" });
        // The integration's error name (see fidelity/step-functions-denials.test.ts); the cause is IAM's message and SQS's code.
        expect([execution.status, execution.error?.error]).to.deep.equal(["FAILED", "SQS.AmazonSQSException"]);
        expect(execution.error?.cause).to.match(
          new RegExp(`^${escape(refused("mini-flow-role/mini-flow", "sqs:SendMessage", cloud.sqs.queueArnFor(cloud.output("queueUrl"))))} \\(Service: AmazonSQS; Status Code: 403; Error Code: AccessDenied; `),
        );
        expect(cloud.sqs.messages(cloud.output("queueUrl")).filter((m) => m.body.includes("denied-1"))).to.deep.equal([]);
      } finally {
        restore();
      }
    });

    it("starts no task when RunTask's ecs:cluster is not the cluster its role names", async () => {
      const otherCluster = (docs: PolicyDocument[]) =>
        docs.map((doc) => ({
          ...doc,
          Statement: (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]).map((s: Statement) =>
            s.Condition?.ArnEquals?.["ecs:cluster"] ? { ...s, Condition: { ArnEquals: { "ecs:cluster": `arn:aws:ecs:${cloud.region}:${ACCOUNT}:cluster/other` } } } : s,
          ),
        }));
      const restore = cloud.iam.override(flow(), otherCluster);
      const tasksBefore = cloud.ecs.tasks.length;
      try {
        const execution = await cloud.run("mini-flow", { scenario: "ecs", mode: "succeed", job: {} });
        const taskDefinition = cloud.provider.ofType("aws:ecs/taskDefinition:TaskDefinition")[0].state.arn as string;
        // Do-ecs catches States.ALL.
        expect(execution.path).to.deep.equal(["Route", "Do-ecs", "Caught", "Done"]);
        const caught = (execution.output as { error: { Error: string; Cause: string } }).error;
        expect(caught.Error).to.equal("ECS.AccessDeniedException");
        expect(caught.Cause).to.match(new RegExp(`^${escape(refused("mini-flow-role/mini-flow", "ecs:RunTask", taskDefinition))} \\(Service: AmazonECS; Status Code: 400; Error Code: AccessDeniedException; `));
        expect(cloud.ecs.tasks.length, "no task started").to.equal(tasksBefore);
        const cluster = cloud.provider.ofType("aws:ecs/cluster:Cluster")[0].state.arn as string;
        expect(cloud.principals.accessLog.filter((a) => a.action === "ecs:RunTask").at(-1)).to.deep.include({ allowed: false, context: { "ecs:cluster": cluster } });
      } finally {
        restore();
      }
    });
  });

  describe("the request-context keys the runtimes supply, against the role the program wrote", () => {
    const flow = () => principal("state-machine", "mini-flow");
    const decide = (action: string, resource: string, context?: Record<string, string>) => cloud.iam.authorize({ principal: flow(), service: action.split(":")[0], action, resource, context });
    const noGrant = (action: string) => ({ allowed: false, reason: `because no identity-based policy allows the ${action} action`, matchedSid: undefined });

    it("allows RunTask only with the cluster the role names as ecs:cluster", () => {
      const taskDefinition = cloud.provider.ofType("aws:ecs/taskDefinition:TaskDefinition")[0].state.arn as string;
      const cluster = cloud.provider.ofType("aws:ecs/cluster:Cluster")[0].state.arn as string;
      expect(decide("ecs:RunTask", taskDefinition, { "ecs:cluster": cluster })).to.deep.equal({ allowed: true, reason: "allowed by statement (no Sid)", matchedSid: undefined, policy: "identity-based" });
      expect(decide("ecs:RunTask", taskDefinition, { "ecs:cluster": `${cluster}-other` })).to.deep.equal(noGrant("ecs:RunTask"));
      expect(decide("ecs:RunTask", taskDefinition)).to.deep.equal(noGrant("ecs:RunTask"));
    });

    it("allows PassRole of the task role only to ECS tasks as iam:PassedToService", () => {
      const taskRole = cloud.provider.ofType("aws:ecs/taskDefinition:TaskDefinition")[0].inputs.taskRoleArn as string;
      expect(decide("iam:PassRole", taskRole, { "iam:PassedToService": "ecs-tasks.amazonaws.com" })).to.deep.equal({ allowed: true, reason: "allowed by statement (no Sid)", matchedSid: undefined, policy: "identity-based" });
      expect(decide("iam:PassRole", taskRole, { "iam:PassedToService": "lambda.amazonaws.com" })).to.deep.equal(noGrant("iam:PassRole"));
      expect(decide("iam:PassRole", taskRole)).to.deep.equal(noGrant("iam:PassRole"));
    });
  });

  describe("S3 DeleteObjects, decided per key", () => {
    const store = () => principal("lambda", "mini-store");
    const s3 = () => new S3Client({ ...cloud.clientConfig(store()), forcePathStyle: true, maxAttempts: 1 });
    /**
     * Puts `keys` as the operator, then runs `body` while the store function may also delete under items/ (what a
     * program granting s3:DeleteObject there would give).
     */
    const withDelete = async (keys: string[], body: () => Promise<void>) => {
      const operator = new S3Client({ ...cloud.clientConfig(), forcePathStyle: true });
      for (const Key of keys) await operator.send(new PutObjectCommand({ Bucket: bucket(), Key, Body: "{}" }));
      const restore = cloud.iam.override(store(), (docs) => [...docs, { Version: "2012-10-17", Statement: [{ Sid: "DeleteItems", Effect: "Allow", Action: "s3:DeleteObject", Resource: object("items/*") }] }]);
      try {
        await body();
      } finally {
        restore();
      }
    };

    it("deletes the keys the caller may delete and answers AccessDenied for each other key, which stays", async () => {
      await withDelete(["items/del-a.json", "other/del-b.json", "other/del-c.json"], async () => {
        const out = await s3().send(new DeleteObjectsCommand({ Bucket: bucket(), Delete: { Objects: [{ Key: "items/del-a.json" }, { Key: "other/del-b.json" }, { Key: "other/del-c.json" }] } }));
        expect({ deleted: out.Deleted, errors: out.Errors }).to.deep.equal({
          deleted: [{ Key: "items/del-a.json" }],
          errors: [
            { Key: "other/del-b.json", Code: "AccessDenied", Message: "Access Denied" },
            { Key: "other/del-c.json", Code: "AccessDenied", Message: "Access Denied" },
          ],
        });
        expect(await cloud.s3.listKeys(bucket(), "items/del-")).to.deep.equal([]);
        expect(await cloud.s3.listKeys(bucket(), "other/del-")).to.deep.equal(["other/del-b.json", "other/del-c.json"]);
        expect(cloud.principals.accessLog.slice(-3).map((a) => [a.resource, a.allowed])).to.deep.equal([
          [object("items/del-a.json"), true],
          [object("other/del-b.json"), false],
          [object("other/del-c.json"), false],
        ]);
      });
    });

    it("makes the exporters' deleteObjects fail on a denied key, as it would on AWS", async () => {
      await withDelete(["items/quiet-a.json", "other/quiet-b.json"], async () => {
        // Quiet, as the exporters ask: only the failures come back.
        const error = await failure(deleteObjects(s3(), bucket(), ["items/quiet-a.json", "other/quiet-b.json"]));
        expect(error).to.deep.equal({ name: "Error", message: "could not delete 1 of 2 objects, e.g. other/quiet-b.json: AccessDenied Access Denied" });
        expect(await cloud.s3.listKeys(bucket(), "items/quiet-")).to.deep.equal([]);
      });
    });

    it("deletes every key when each is allowed", async () => {
      await withDelete(["items/all-a.json", "items/all-b.json"], async () => {
        const out = await s3().send(new DeleteObjectsCommand({ Bucket: bucket(), Delete: { Objects: [{ Key: "items/all-a.json" }, { Key: "items/all-b.json" }] } }));
        expect({ deleted: out.Deleted?.map((d) => d.Key).sort(), errors: out.Errors ?? [] }).to.deep.equal({ deleted: ["items/all-a.json", "items/all-b.json"], errors: [] });
        expect(await cloud.s3.listKeys(bucket(), "items/all-")).to.deep.equal([]);
      });
    });
  });
});
