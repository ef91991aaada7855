import { expect } from "chai";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { LocalCloud } from "../../../local/cloud";
import { LOCAL_ACCOUNT } from "../../../local/program/resource-state";
import { sdkFailure, sharedMini } from "../support";

/**
 * Smaller things AWS's endpoints enforce: the region a request is signed for (SigV4 credential scope; AWS General
 * Reference "Signature Version 4 signing process", S3's AuthorizationHeaderMalformed), SQS returning only the
 * attributes a ReceiveMessage names (SQS API reference, ReceiveMessage) and honouring the queue's DelaySeconds and
 * MaximumMessageSize (SetQueueAttributes), and SNS validating message attributes (SNS developer guide, "Amazon SNS
 * message attributes").
 */
describe("fidelity: regions, SQS attributes and SNS message attributes", function () {
  this.timeout(60_000);
  let cloud: LocalCloud;
  const otherRegion = () => (cloud.region === "us-east-1" ? "eu-west-1" : "us-east-1");
  const failure = sdkFailure;

  before(async () => {
    cloud = await sharedMini();
  });

  /** An SQS JSON-protocol request as SDK v3 sends it (no SQS client is a dependency of this project). */
  async function sqs(operation: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, any> }> {
    const res = await fetch(cloud.frontDoor.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": `AmazonSQS.${operation}`,
        authorization: `AWS4-HMAC-SHA256 Credential=${cloud.principals.operator.accessKeyId}/20260101/${cloud.region}/sqs/aws4_request, SignedHeaders=host, Signature=00`,
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  describe("a request signed for another region", () => {
    it("is refused by S3 with AuthorizationHeaderMalformed naming both regions", async () => {
      const s3 = new S3Client({ ...cloud.clientConfig(), region: otherRegion(), forcePathStyle: true });
      expect(await failure(s3.send(new ListBucketsCommand({})))).to.deep.equal({
        name: "AuthorizationHeaderMalformed",
        status: 400,
        message: `The authorization header is malformed; the region '${otherRegion()}' is wrong; expecting '${cloud.region}'`,
      });
    });

    it("is refused by DynamoDB with InvalidSignatureException and by SNS with SignatureDoesNotMatch", async () => {
      const db = new DynamoDBClient({ ...cloud.clientConfig(), region: otherRegion(), maxAttempts: 1 });
      expect(await failure(db.send(new ListTablesCommand({})))).to.deep.include({ name: "InvalidSignatureException", message: "Credential should be scoped to a valid region. " });
      const sns = new SNSClient({ ...cloud.clientConfig(), region: otherRegion() });
      expect(await failure(sns.send(new PublishCommand({ TopicArn: cloud.output("topicArn") as string, Message: "x" })))).to.deep.include({ name: "SignatureDoesNotMatch", status: 403 });
    });
  });

  describe("SQS", () => {
    const url = `http://sqs.local/${LOCAL_ACCOUNT}/fidelity-attributes`;
    before(() => {
      cloud.sqs.createQueue({ url, arn: `arn:aws:sqs:${cloud.region}:${LOCAL_ACCOUNT}:fidelity-attributes`, name: "fidelity-attributes", maxMessageSize: 1024 });
      cloud.sqs.createQueue({ url: `${url}-delayed`, arn: `arn:aws:sqs:${cloud.region}:${LOCAL_ACCOUNT}:fidelity-attributes-delayed`, name: "fidelity-attributes-delayed", delaySeconds: 900 });
    });

    it("returns no system or message attributes unless the receive names them", async () => {
      await sqs("SendMessage", { QueueUrl: url, MessageBody: "one", MessageAttributes: { "trace.id": { DataType: "String", StringValue: "t-1" }, kind: { DataType: "String", StringValue: "k" } } });
      const bare = await sqs("ReceiveMessage", { QueueUrl: url, VisibilityTimeout: 0 });
      expect(Object.keys(bare.body.Messages[0]).sort()).to.deep.equal(["Body", "MD5OfBody", "MessageId", "ReceiptHandle"]);
      const named = await sqs("ReceiveMessage", { QueueUrl: url, VisibilityTimeout: 0, MessageSystemAttributeNames: ["ApproximateReceiveCount"], MessageAttributeNames: ["trace.*"] });
      expect(named.body.Messages[0].Attributes).to.deep.equal({ ApproximateReceiveCount: "2" });
      expect(named.body.Messages[0].MessageAttributes).to.deep.equal({ "trace.id": { DataType: "String", StringValue: "t-1" } });
      const all = await sqs("ReceiveMessage", { QueueUrl: url, AttributeNames: ["All"], MessageAttributeNames: ["All"] });
      expect(Object.keys(all.body.Messages[0].Attributes).sort()).to.deep.equal(["ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount", "SenderId", "SentTimestamp"]);
      expect(Object.keys(all.body.Messages[0].MessageAttributes).sort()).to.deep.equal(["kind", "trace.id"]);
    });

    it("refuses a message over the queue's MaximumMessageSize and delays a message by the queue's DelaySeconds", async () => {
      const big = await sqs("SendMessage", { QueueUrl: url, MessageBody: "x".repeat(1025) });
      expect(big.status).to.equal(400);
      expect(big.body.message).to.equal("One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.");
      await sqs("SendMessage", { QueueUrl: `${url}-delayed`, MessageBody: "later" });
      const received = await sqs("ReceiveMessage", { QueueUrl: `${url}-delayed` });
      expect(received.body.Messages ?? []).to.deep.equal([]);
      expect(cloud.sqs.find(`${url}-delayed`)!.live).to.have.length(1);
    });
  });

  describe("SNS message attributes", () => {
    const publish = (MessageAttributes: Record<string, { DataType: string; StringValue?: string }>) =>
      failure(new SNSClient(cloud.clientConfig()).send(new PublishCommand({ TopicArn: cloud.output("topicArn") as string, Message: "{}", MessageAttributes })));

    it("accepts String, Number, String.Array and custom-suffixed types", async () => {
      expect(await publish({ a: { DataType: "String", StringValue: "x" }, b: { DataType: "Number", StringValue: "-1.25" }, c: { DataType: "String.Array", StringValue: '["x",1]' }, d: { DataType: "String.custom", StringValue: "y" } })).to.equal(undefined);
    });

    it("refuses an unknown type, an empty value, a non-number Number, a reserved name and an 11th attribute with InvalidParameterValue", async () => {
      const refused = [
        await publish({ a: { DataType: "Text", StringValue: "x" } }),
        await publish({ a: { DataType: "String", StringValue: "" } }),
        await publish({ a: { DataType: "Number", StringValue: "ten" } }),
        await publish({ "AWS.trace": { DataType: "String", StringValue: "x" } }),
        await publish(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: "String", StringValue: "x" }]))),
      ];
      expect(refused.map((e) => [e?.name, e?.status])).to.deep.equal(Array(5).fill(["InvalidParameterValueException", 400]));
      expect(refused[0]?.message).to.equal("The message attribute 'a' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.");
    });

    it("takes a message of 256 KiB and refuses one byte more with InvalidParameter, Message too long", async () => {
      const send = (bytes: number) => failure(new SNSClient(cloud.clientConfig()).send(new PublishCommand({ TopicArn: cloud.output("topicArn") as string, Message: "x".repeat(bytes) })));
      expect(await send(256 * 1024)).to.equal(undefined);
      const refused = await send(256 * 1024 + 1);
      expect([refused?.name, refused?.status, refused?.message]).to.deep.equal(["InvalidParameterException", 400, "Invalid parameter: Message too long"]);
    });
  });
});
