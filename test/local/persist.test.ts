import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { LocalCloud } from "../../local/cloud";
import { LocalDynamoDb } from "../../local/services/dynamodb";
import { bootMini } from "./support";

/**
 * `serve --persist DIR` (local/persist.ts): what one boot of the mini program leaves in the folder, the next boot has
 * — items, objects, queue messages, ended executions with their histories — and the program's own resources are
 * provisioned over it, not beside it.
 */
describe("local cloud --persist", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-persist-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const clients = (cloud: LocalCloud) => ({ dynamodb: new DynamoDBClient(cloud.clientConfig()), s3: new S3Client({ ...cloud.clientConfig(), forcePathStyle: true }), sfn: new SFNClient(cloud.clientConfig()) });

  it("boots a second time with the first boot's items, objects, queue messages and ended executions", async () => {
    // GIVEN a first boot that writes an item and an object, queues a message and runs executions
    const first = await bootMini({ persistDir: path.join(dir, "mini") });
    let queued: { executionArn: string; events: unknown[]; output: unknown };
    let holding: string;
    const a = clients(first);
    try {
      await a.dynamodb.send(new PutItemCommand({ TableName: first.output("tableName"), Item: { pk: { S: "kept" }, note: { S: "from the first boot" } } }));
      await a.s3.send(new PutObjectCommand({ Bucket: first.output("bucketName"), Key: "kept.txt", Body: "from the first boot" }));
      const e = await first.run(first.output("stateMachineArn"), { scenario: "queue", id: "kept" }, "persist-queue");
      queued = { executionArn: e.executionArn, events: (await a.sfn.send(new GetExecutionHistoryCommand({ executionArn: e.executionArn }))).events!, output: e.output };
      // Still running when the cloud stops: it ends ABORTED, as the service would end it.
      holding = first.startExecution(first.output("fidelityStateMachineArn"), { scenario: "hold" }, "persist-hold").executionArn;
    } finally {
      Object.values(a).forEach((c) => c.destroy());
      await first.stop();
    }

    // WHEN the cloud boots again on the same folder
    const second = await bootMini({ persistDir: path.join(dir, "mini") });
    const b = clients(second);
    try {
      // THEN what the first boot left is there
      const { Item } = await b.dynamodb.send(new GetItemCommand({ TableName: second.output("tableName"), Key: { pk: { S: "kept" } } }));
      expect(Item).to.deep.equal({ pk: { S: "kept" }, note: { S: "from the first boot" } });
      expect((await second.s3.getObject(second.output("bucketName"), "kept.txt")).body.toString()).to.equal("from the first boot");
      const received = second.sqs.handleJson("ReceiveMessage", { QueueUrl: second.output("queueUrl"), MaxNumberOfMessages: 10 }, "operator") as { Messages: Array<{ Body: string }> };
      expect(received.Messages.map((m) => JSON.parse(m.Body))).to.deep.equal([{ id: "kept", formatVersion: 1 }]);
      const described = await b.sfn.send(new DescribeExecutionCommand({ executionArn: queued.executionArn }));
      expect([described.status, JSON.parse(described.output!)]).to.deep.equal(["SUCCEEDED", queued.output]);
      expect((await b.sfn.send(new GetExecutionHistoryCommand({ executionArn: queued.executionArn }))).events).to.deep.equal(queued.events);
      expect((await b.sfn.send(new DescribeExecutionCommand({ executionArn: holding }))).status).to.equal("ABORTED");
      const listed = (await b.sfn.send(new ListExecutionsCommand({ stateMachineArn: second.output("stateMachineArn") }))).executions!.map((e) => e.name);
      expect(listed).to.include("persist-queue");
      // and a name used before this boot is still taken, as on AWS
      const again = b.sfn.send(new StartExecutionCommand({ stateMachineArn: second.output("stateMachineArn"), name: "persist-queue", input: "{}" }));
      expect(await again.then(() => "started", (err: Error) => err.name)).to.equal("ExecutionAlreadyExists");
    } finally {
      Object.values(b).forEach((c) => c.destroy());
      await second.stop();
    }
  });

  it("keeps a table whose keys the program still declares and replaces, empty, one whose keys changed", async () => {
    const store = path.join(dir, "tables");
    const boot = async () => {
      const db = new LocalDynamoDb("eu-west-1", store);
      await db.start();
      const client = new DynamoDBClient({ region: "eu-west-1", endpoint: db.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
      return { db, client, close: async () => (client.destroy(), await db.stop()) };
    };
    const byPk = { hashKey: "pk", attributes: [{ name: "pk", type: "S" }] };
    const byId = { hashKey: "id", attributes: [{ name: "id", type: "S" }] };
    const first = await boot();
    try {
      await first.db.createTable("kept", byPk);
      await first.db.createTable("rekeyed", byPk);
      for (const TableName of ["kept", "rekeyed"]) await first.client.send(new PutItemCommand({ TableName, Item: { pk: { S: "a" }, id: { S: "a" } } }));
    } finally {
      await first.close();
    }
    const second = await boot();
    try {
      await second.db.createTable("kept", byPk);
      await second.db.createTable("rekeyed", byId);
      expect((await second.client.send(new GetItemCommand({ TableName: "kept", Key: { pk: { S: "a" } } }))).Item).to.deep.equal({ pk: { S: "a" }, id: { S: "a" } });
      expect((await second.client.send(new GetItemCommand({ TableName: "rekeyed", Key: { id: { S: "a" } } }))).Item).to.equal(undefined);
    } finally {
      await second.close();
    }
  });
});
