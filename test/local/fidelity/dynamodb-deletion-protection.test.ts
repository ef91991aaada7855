import { DeleteTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { LocalDynamoDb } from "../../../local/services/dynamodb";

/**
 * Deletion protection (`deletionProtectionEnabled`, on every table of a stack without `forceDestroy`): DynamoDB
 * refuses DeleteTable with a ValidationException (message as recorded against AWS in moto's tests), and a Pulumi
 * replacement of such a table — its keys changed — fails at that delete. dynalite knows neither; LocalDynamoDb adds
 * both.
 */
describe("local DynamoDB: deletion protection", function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-dynamodb-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const byPk = { hashKey: "pk", attributes: [{ name: "pk", type: "S" }] };
  const byId = { hashKey: "id", attributes: [{ name: "id", type: "S" }] };

  /** The table service behind a server that serves as the front door does: the request read, then handed over. */
  async function start(persist?: string) {
    const db = new LocalDynamoDb("eu-west-1", persist);
    await db.start();
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => db.serve(req.headers, req.url ?? "/", Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = new DynamoDBClient({ region: "eu-west-1", endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    const close = async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.stop();
    };
    return { db, client, close };
  }

  it("refuses DeleteTable on a protected table with DynamoDB's ValidationException, and deletes an unprotected one", async () => {
    const { db, client, close } = await start();
    try {
      await db.createTable("guarded", { ...byPk, deletionProtectionEnabled: true });
      await db.createTable("open", { ...byPk, deletionProtectionEnabled: false });
      const refusal = await client.send(new DeleteTableCommand({ TableName: "guarded" })).then(
        () => undefined,
        (err: Error) => [err.name, err.message],
      );
      expect(refusal).to.deep.equal(["ValidationException", "1 validation error detected: Table 'guarded' can't be deleted while DeletionProtectionEnabled is set to True"]);
      expect((await client.send(new DeleteTableCommand({ TableName: "open" }))).TableDescription?.TableName).to.equal("open");
      // The refused table is still there and usable.
      await client.send(new PutItemCommand({ TableName: "guarded", Item: { pk: { S: "a" } } }));
      expect((await client.send(new GetItemCommand({ TableName: "guarded", Key: { pk: { S: "a" } } }))).Item).to.deep.equal({ pk: { S: "a" } });
    } finally {
      await close();
    }
  });

  it("fails the boot, keeping the items, when a kept protected table's keys changed (a replacement AWS would refuse)", async () => {
    const first = await start(dir);
    try {
      await first.db.createTable("orders", { ...byPk, deletionProtectionEnabled: true });
      await first.client.send(new PutItemCommand({ TableName: "orders", Item: { pk: { S: "kept" } } }));
    } finally {
      await first.close();
    }
    const second = await start(dir);
    try {
      const refusal = await second.db.createTable("orders", { ...byId, deletionProtectionEnabled: true }).then(
        () => undefined,
        (err: Error) => err.message,
      );
      expect(refusal).to.equal(
        "table orders: its keys or indexes changed, so Pulumi replaces it, and AWS refuses to delete the old one: " +
          "1 validation error detected: Table 'orders' can't be deleted while DeletionProtectionEnabled is set to True. " +
          `Its items are kept in ${dir}; copy them to the new table yourself, or set the stack's forceDestroy to let the table go`,
      );
      // Unchanged keys: the same folder boots with the item.
      await second.db.createTable("orders", { ...byPk, deletionProtectionEnabled: true });
      expect((await second.client.send(new GetItemCommand({ TableName: "orders", Key: { pk: { S: "kept" } } }))).Item).to.deep.equal({ pk: { S: "kept" } });
    } finally {
      await second.close();
    }
  });
});
