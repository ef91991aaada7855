import { expect } from "chai";
import { createHash } from "node:crypto";
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { LocalCloud } from "../../local/cloud";
import { allowAll } from "../../local/iam/principals";
import { bootMini } from "./support";

/**
 * The local AWS front door: one endpoint that tells services and callers apart by the SigV4 credential, asks the
 * authorizer before serving, and answers in each service's protocol.
 */
describe("local AWS front door", function () {
  this.timeout(30_000);
  let cloud: LocalCloud;

  before(async () => {
    cloud = await bootMini({ buildImages: false });
  });
  afterEach(() => {
    cloud.principals.authorizer = allowAll;
    cloud.frontDoor.faults.length = 0;
  });
  after(async () => {
    await cloud?.stop();
  });

  /** A JSON-protocol request as SDK v3 sends it (the front door reads the credential, not the signature). */
  async function jsonRequest(service: string, target: string, body: unknown, accessKeyId = cloud.principals.operator.accessKeyId) {
    const res = await fetch(cloud.frontDoor.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": target,
        "x-amz-date": "20250101T000000Z",
        authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20250101/${cloud.region}/${service}/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00`,
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
  }

  describe("SQS (AWS JSON 1.0 protocol)", () => {
    it("sends, receives with MD5 and a receipt handle, hides the message while in flight, and deletes it", async () => {
      const QueueUrl = cloud.output("queueUrl");
      const sent = await jsonRequest("sqs", "AmazonSQS.SendMessage", { QueueUrl, MessageBody: '{"formatVersion":1}', MessageAttributes: { kind: { DataType: "String", StringValue: "test" } } });
      expect(sent.status).to.equal(200);
      expect(sent.body.MD5OfMessageBody).to.equal(createHash("md5").update('{"formatVersion":1}').digest("hex"));
      expect(sent.body.MD5OfMessageAttributes).to.match(/^[0-9a-f]{32}$/);

      const received = await jsonRequest("sqs", "AmazonSQS.ReceiveMessage", { QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] });
      const message = received.body.Messages.find((m: { MessageId: string }) => m.MessageId === sent.body.MessageId);
      expect(message).to.include({ Body: '{"formatVersion":1}', MD5OfBody: sent.body.MD5OfMessageBody });
      expect(message.MessageAttributes).to.deep.equal({ kind: { DataType: "String", StringValue: "test" } });

      const again = await jsonRequest("sqs", "AmazonSQS.ReceiveMessage", { QueueUrl, MaxNumberOfMessages: 10 });
      expect((again.body.Messages ?? []).map((m: { MessageId: string }) => m.MessageId)).not.to.include(sent.body.MessageId);

      const deleted = await jsonRequest("sqs", "AmazonSQS.DeleteMessage", { QueueUrl, ReceiptHandle: message.ReceiptHandle });
      expect(deleted.status).to.equal(200);
      expect(cloud.sqs.find(QueueUrl)!.live.map((m) => m.messageId)).not.to.include(sent.body.MessageId);
      expect(cloud.sqs.messages(QueueUrl).map((m) => m.messageId)).to.include(sent.body.MessageId);
    });

    it("answers an unknown queue with QueueDoesNotExist and the awsQuery-compatible error header", async () => {
      const res = await jsonRequest("sqs", "AmazonSQS.SendMessage", { QueueUrl: "https://sqs.eu-west-1.amazonaws.com/000000000000/nope", MessageBody: "x" });
      expect(res.status).to.equal(400);
      expect(res.body.__type).to.equal("com.amazonaws.sqs#QueueDoesNotExist");
      expect(res.headers.get("x-amzn-query-error")).to.equal("QueueDoesNotExist;Sender");
    });
  });

  describe("SNS (awsQuery protocol) through SDK v3", () => {
    it("records a published message with its attributes and the caller", async () => {
      const sns = new SNSClient(cloud.clientConfig());
      try {
        const out = await sns.send(
          new PublishCommand({
            TopicArn: cloud.output("topicArn"),
            Message: JSON.stringify({ formatVersion: 1, hello: "world" }),
            Subject: "greeting",
            MessageAttributes: { formatVersion: { DataType: "Number", StringValue: "1" } },
          }),
        );
        const recorded = cloud.sns.messages(cloud.output("topicArn")).at(-1)!;
        expect(recorded.messageId).to.equal(out.MessageId);
        expect(recorded).to.include({ subject: "greeting", publishedBy: "operator" });
        expect(recorded.attributes).to.deep.equal({ formatVersion: { DataType: "Number", StringValue: "1" } });
        const missing = await sns.send(new PublishCommand({ TopicArn: "arn:aws:sns:eu-west-1:000000000000:nope", Message: "x" })).catch((e: Error) => e);
        expect((missing as Error).name).to.equal("NotFoundException");
      } finally {
        sns.destroy();
      }
    });
  });

  describe("callers and authorization", () => {
    it("refuses an access key it never issued, as AWS does", async () => {
      const ddb = new DynamoDBClient({ ...cloud.clientConfig(), credentials: { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x" }, maxAttempts: 1 });
      try {
        const err = await ddb.send(new GetItemCommand({ TableName: cloud.output("tableName"), Key: { pk: { S: "a" } } })).catch((e: Error) => e);
        expect((err as Error).name).to.equal("UnrecognizedClientException");
      } finally {
        ddb.destroy();
      }
    });

    it("puts each request's IAM action and resource to the authorizer and answers a denial in the service's protocol", async () => {
      const asked: string[] = [];
      cloud.principals.authorizer = (r) => {
        asked.push(`${r.principal.name} ${r.action} ${r.resource}`);
        return { allowed: false, reason: "because no identity-based policy allows the action" };
      };
      const config = { ...cloud.clientConfig(), maxAttempts: 1 };
      const ddb = new DynamoDBClient(config);
      const s3 = new S3Client({ ...config, forcePathStyle: true });
      const ssm = new SSMClient(config);
      try {
        const denied = await Promise.all([
          ddb.send(new PutItemCommand({ TableName: cloud.output("tableName"), Item: { pk: { S: "a" } } })).catch((e: Error) => e),
          s3.send(new PutObjectCommand({ Bucket: cloud.output("bucketName"), Key: "a/b.txt", Body: "x" })).catch((e: Error) => e),
          ssm.send(new GetParameterCommand({ Name: "/mini/api-key" })).catch((e: Error) => e),
        ]);
        expect(denied.map((e) => (e as Error).name)).to.deep.equal(["AccessDeniedException", "AccessDenied", "AccessDeniedException"]);
        expect((denied[0] as Error).message).to.contain("User: arn:aws:iam::000000000000:user/local-operator is not authorized to perform: dynamodb:PutItem");
        expect(asked).to.have.members([
          `operator dynamodb:PutItem arn:aws:dynamodb:eu-west-1:000000000000:table/${cloud.output("tableName")}`,
          `operator s3:PutObject arn:aws:s3:::${cloud.output("bucketName")}/a/b.txt`,
          "operator ssm:GetParameter arn:aws:ssm:eu-west-1:000000000000:parameter/mini/api-key",
        ]);
        expect(cloud.principals.accessLog.filter((a) => !a.allowed)).to.have.length(3);
        const stored = await cloud.s3.listKeys(cloud.output("bucketName"), "a/");
        expect(stored).to.deep.equal([]);
      } finally {
        ddb.destroy();
        s3.destroy();
        ssm.destroy();
      }
    });

    it("answers an injected fault instead of serving, for the requests it matches only", async () => {
      cloud.frontDoor.faults.push({ service: "s3", action: "s3:GetObject", error: { code: "SlowDown", status: 503 }, remaining: 1 });
      const s3 = new S3Client({ ...cloud.clientConfig(), forcePathStyle: true, maxAttempts: 1 });
      try {
        await s3.send(new PutObjectCommand({ Bucket: cloud.output("bucketName"), Key: "f.txt", Body: "fine" }));
        const failed = await s3.send(new GetObjectCommand({ Bucket: cloud.output("bucketName"), Key: "f.txt" })).catch((e: Error) => e);
        expect((failed as Error).name).to.equal("SlowDown");
        const ok = await s3.send(new GetObjectCommand({ Bucket: cloud.output("bucketName"), Key: "f.txt" }));
        expect(await ok.Body!.transformToString()).to.equal("fine");
      } finally {
        s3.destroy();
      }
    });
  });

  describe("SSM and Step Functions APIs", () => {
    it("returns a SecureString decrypted only when asked to", async () => {
      const ssm = new SSMClient(cloud.clientConfig());
      try {
        const plain = await ssm.send(new GetParameterCommand({ Name: "/mini/api-key", WithDecryption: true }));
        const cipher = await ssm.send(new GetParameterCommand({ Name: "/mini/api-key" }));
        expect(plain.Parameter!.Value).to.equal(cloud.ssm.get("/mini/api-key")!.value);
        expect(cipher.Parameter!.Value).not.to.equal(plain.Parameter!.Value);
        const missing = await ssm.send(new GetParameterCommand({ Name: "/nope" })).catch((e: Error) => e);
        expect((missing as Error).name).to.equal("ParameterNotFound");
      } finally {
        ssm.destroy();
      }
    });

    it("starts and describes executions; a duplicate name is refused", async () => {
      const sfn = new SFNClient(cloud.clientConfig());
      try {
        const stateMachineArn = cloud.output("stateMachineArn");
        const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "api-1", input: JSON.stringify({ scenario: "queue", id: "api-1" }) }));
        await cloud.sfn.executions.get(executionArn!)!.done;
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        expect(described.status).to.equal("SUCCEEDED");
        expect(JSON.parse(described.output!)).to.have.property("MessageId");
        const dup = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "api-1", input: "{}" })).catch((e: Error) => e);
        expect((dup as Error).name).to.equal("ExecutionAlreadyExists");
      } finally {
        sfn.destroy();
      }
    });
  });
});
