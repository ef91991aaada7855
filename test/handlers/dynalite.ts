import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: Record<string, unknown>) => Server = require("dynalite");

export interface LocalTables {
  readonly db: DynamoDBDocumentClient;
  /** Creates a table keyed by one string attribute, e.g. `createTable("inventory", "sku")`. */
  createTable(name: string, hashKey: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * An in-memory DynamoDB (dynalite, the engine the local cloud uses) for the repository tests: condition and update
 * expressions are evaluated by a real engine rather than by assumptions written into a mock.
 */
export async function startDynalite(): Promise<LocalTables> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = new DynamoDBClient({
    region: "eu-west-1",
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  return {
    db: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    async createTable(name, hashKey) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [{ AttributeName: hashKey, AttributeType: "S" }],
          KeySchema: [{ AttributeName: hashKey, KeyType: "HASH" }],
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
      // Even with createTableMs: 0, dynalite answers CREATING first and flips to ACTIVE on a later tick.
      for (let attempt = 0; attempt < 50; attempt++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === "ACTIVE") return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error(`dynalite table ${name} did not become ACTIVE`);
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One dynalite for the enclosing describe block, started before its first test and closed after its last. */
function dynaliteForBlock(): () => LocalTables {
  let tables: LocalTables | undefined;
  before(async () => {
    tables = await startDynalite();
  });
  after(async () => {
    await tables?.close();
  });
  return () => tables!;
}

/** One dynalite with table `name` (keyed by `hashKey`) for the enclosing describe block; call the result inside a test. */
export function dynaliteTable(name: string, hashKey: string): () => LocalTables {
  const tables = dynaliteForBlock();
  before(() => tables().createTable(name, hashKey));
  return tables;
}

/**
 * One dynalite for the enclosing describe block and a new, empty table per test (`<prefix>-1`, `<prefix>-2`, …, keyed
 * by `hashKey`), so no test sees another's items. Register seeding in a `beforeEach` after this call.
 */
export function dynaliteTablePerTest(prefix: string, hashKey: string): { readonly tables: () => LocalTables; readonly name: () => string } {
  const tables = dynaliteForBlock();
  let name = "";
  let count = 0;
  beforeEach(async () => {
    name = `${prefix}-${++count}`;
    await tables().createTable(name, hashKey);
  });
  return { tables, name: () => name };
}
