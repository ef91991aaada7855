import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import * as zlib from "node:zlib";
import { CreateTableCommand, CreateTableCommandInput, DeleteTableCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { LOCAL_ACCOUNT, LOCAL_PARTITION } from "../program/resource-state";
import { Access } from "./errors";

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: Record<string, unknown>) => Server = require("dynalite");

/**
 * DynamoDB backed by dynalite (an in-memory implementation of the DynamoDB API on LevelDB). The front door hands
 * each already-read request to dynalite's HTTP handler in-process, saving a second hop.
 */
export class LocalDynamoDb {
  private server?: Server;
  private handler?: (req: IncomingMessage, res: ServerResponse) => void;
  private client?: DynamoDBClient;
  /** Tables by name, with the key schema and deletion protection the program declared. */
  readonly tables = new Map<string, { name: string; arn: string; hashKey: string; rangeKey?: string; deletionProtection: boolean }>();

  constructor(
    private readonly region: string,
    /** A folder to keep the tables in (LevelDB) across boots; in memory without it. */
    private readonly persistPath?: string,
  ) {}

  async start(): Promise<void> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(this.persistPath ? { path: this.persistPath } : {}) });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.handler = server.listeners("request")[0] as (req: IncomingMessage, res: ServerResponse) => void;
    this.client = new DynamoDBClient({
      region: this.region,
      endpoint: this.endpoint,
      credentials: { accessKeyId: "provisioner", secretAccessKey: "provisioner" },
    });
  }

  async stop(): Promise<void> {
    this.client?.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** dynalite's own endpoint, behind the front door: no IAM check (the provisioner's and the tests' way in). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  tableArn(name: string): string {
    return `arn:${LOCAL_PARTITION}:dynamodb:${this.region}:${LOCAL_ACCOUNT}:table/${name}`;
  }

  /** Creates a table from `aws:dynamodb/table:Table` inputs (hashKey, rangeKey, attributes, indexes). */
  async createTable(name: string, inputs: Record<string, any>): Promise<void> {
    const attributes = (inputs.attributes ?? []) as Array<{ name: string; type: "S" | "N" | "B" }>;
    const key = (hash: string, range?: string) => [
      { AttributeName: hash, KeyType: "HASH" as const },
      ...(range ? [{ AttributeName: range, KeyType: "RANGE" as const }] : []),
    ];
    const projection = (i: Record<string, any>) => ({
      ProjectionType: i.projectionType ?? "ALL",
      ...(i.nonKeyAttributes?.length ? { NonKeyAttributes: i.nonKeyAttributes } : {}),
    });
    const input: CreateTableCommandInput = {
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: attributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
      KeySchema: key(inputs.hashKey, inputs.rangeKey),
      ...(inputs.globalSecondaryIndexes?.length
        ? {
            GlobalSecondaryIndexes: inputs.globalSecondaryIndexes.map((i: Record<string, any>) => ({
              IndexName: i.name,
              KeySchema: key(i.hashKey ?? i.keySchemas?.[0]?.attributeName, i.rangeKey),
              Projection: projection(i),
            })),
          }
        : {}),
      ...(inputs.localSecondaryIndexes?.length
        ? {
            LocalSecondaryIndexes: inputs.localSecondaryIndexes.map((i: Record<string, any>) => ({
              IndexName: i.name,
              KeySchema: key(inputs.hashKey, i.rangeKey),
              Projection: projection(i),
            })),
          }
        : {}),
    };
    const entry = { name, arn: this.tableArn(name), hashKey: inputs.hashKey, rangeKey: inputs.rangeKey, deletionProtection: inputs.deletionProtectionEnabled === true };
    if (await this.keptTable(input, entry.deletionProtection)) {
      this.tables.set(name, entry);
      return;
    }
    await this.client!.send(new CreateTableCommand(input));
    // CreateTable answers CREATING; the Pulumi provider reports the table created only once it is ACTIVE, and writes
    // to a CREATING table fail with ResourceNotFoundException. dynalite flips it on a later turn of the event loop.
    for (let turn = 0; ; turn++) {
      const { Table } = await this.client!.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === "ACTIVE") break;
      if (turn >= 10_000) throw new Error(`table ${name} is still ${Table?.TableStatus} after ${turn} checks`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.tables.set(name, entry);
  }

  /**
   * A table kept from an earlier boot (--persist) is used as it is when its keys and indexes are the ones the program
   * declares now; otherwise it is deleted and created again, empty, as Pulumi replaces a table whose keys change —
   * unless the table is under deletion protection: AWS refuses the replaced table's DeleteTable, so the boot fails
   * and the items stay. dynalite keeps no protection flag, so the program's current declaration stands for the kept
   * table's (they differ only when one change both re-keys a table and turns its protection off).
   */
  private async keptTable(input: CreateTableCommandInput, protectedTable: boolean): Promise<boolean> {
    if (!this.persistPath) return false;
    let table;
    try {
      ({ Table: table } = await this.client!.send(new DescribeTableCommand({ TableName: input.TableName })));
    } catch (err) {
      if ((err as Error).name === "ResourceNotFoundException") return false;
      throw err;
    }
    const indexes = (list?: Array<{ IndexName?: string; KeySchema?: unknown }>) => JSON.stringify((list ?? []).map((i) => [i.IndexName, i.KeySchema]).sort());
    const same =
      JSON.stringify(table?.KeySchema) === JSON.stringify(input.KeySchema) &&
      indexes(table?.GlobalSecondaryIndexes) === indexes(input.GlobalSecondaryIndexes) &&
      indexes(table?.LocalSecondaryIndexes) === indexes(input.LocalSecondaryIndexes);
    if (same) return true;
    if (protectedTable) {
      throw new Error(
        `table ${input.TableName}: its keys or indexes changed, so Pulumi replaces it, and AWS refuses to delete the old one: ` +
          `${deletionProtectedMessage(input.TableName!)}. Its items are kept in ${this.persistPath}; ` +
          "copy them to the new table yourself, or set the stack's forceDestroy to let the table go",
      );
    }
    await this.client!.send(new DeleteTableCommand({ TableName: input.TableName }));
    for (;;) {
      try {
        await this.client!.send(new DescribeTableCommand({ TableName: input.TableName }));
      } catch (err) {
        if ((err as Error).name === "ResourceNotFoundException") return false;
        throw err;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  describe(operation: string, body: Record<string, any>): Access[] {
    const action = `dynamodb:${operation}`;
    if (operation === "BatchGetItem" || operation === "BatchWriteItem") {
      return Object.keys(body.RequestItems ?? {}).map((t) => ({ action, resource: this.tableArn(t) }));
    }
    if (operation === "TransactWriteItems" || operation === "TransactGetItems") {
      const perItem: Record<string, string> = { Put: "PutItem", Update: "UpdateItem", Delete: "DeleteItem", ConditionCheck: "ConditionCheckItem", Get: "GetItem" };
      return (body.TransactItems ?? []).flatMap((item: Record<string, any>) =>
        Object.entries(item).map(([kind, op]) => ({ action: `dynamodb:${perItem[kind] ?? kind}`, resource: this.tableArn(op.TableName) })),
      );
    }
    if (!body.TableName) return [{ action, resource: "*" }];
    const table = this.tableArn(body.TableName);
    return [{ action, resource: body.IndexName ? `${table}/index/${body.IndexName}` : table }];
  }

  /** Serves an already-read request through dynalite's handler. */
  serve(headers: IncomingHttpHeaders, url: string, body: Buffer, res: ServerResponse): void {
    const operation = String(headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    if (operation === "DeleteTable" && this.refuseProtectedDelete(body, res)) return;
    if (operation === "PutItem" || operation === "UpdateItem" || operation === "DeleteItem") this.returnItemOnConditionFailure(body, res);
    const req = Object.assign(new EventEmitter(), { headers, method: "POST", url }) as unknown as IncomingMessage;
    this.handler!(req, res);
    if (body.length) req.emit("data", body);
    req.emit("end");
  }

  /** dynalite deletes any table; DynamoDB refuses a table under deletion protection. */
  private refuseProtectedDelete(body: Buffer, res: ServerResponse): boolean {
    let name: unknown;
    try {
      name = (JSON.parse(body.toString("utf8")) as { TableName?: unknown }).TableName;
    } catch {
      return false;
    }
    if (typeof name !== "string" || !this.tables.get(name)?.deletionProtection) return false;
    const json = JSON.stringify({ __type: "com.amazon.coral.validate#ValidationException", message: deletionProtectedMessage(name) });
    res.writeHead(400, { "content-type": "application/x-amz-json-1.0", "content-length": Buffer.byteLength(json), "x-amz-crc32": zlib.crc32(json) >>> 0, "x-amzn-requestid": randomUUID() });
    res.end(json);
    return true;
  }

  /**
   * `ReturnValuesOnConditionCheckFailure: ALL_OLD`: DynamoDB puts the item as it stood into the
   * ConditionalCheckFailedException (API reference, PutItem/UpdateItem/DeleteItem); dynalite ignores the option, so
   * its refusal is completed here with the item read right after it. Unlike DynamoDB, a write landing between the
   * refusal and that read would show in the item.
   */
  private returnItemOnConditionFailure(body: Buffer, res: ServerResponse): void {
    let input: { TableName?: string; Key?: Record<string, AttributeValue>; Item?: Record<string, AttributeValue>; ReturnValuesOnConditionCheckFailure?: string };
    try {
      input = JSON.parse(body.toString("utf8"));
    } catch {
      return;
    }
    if (input.ReturnValuesOnConditionCheckFailure !== "ALL_OLD" || !input.TableName) return;
    const table = this.tables.get(input.TableName);
    const key = input.Key ?? (table && input.Item ? Object.fromEntries([table.hashKey, table.rangeKey].filter((k): k is string => !!k).map((k) => [k, input.Item![k]])) : undefined);
    if (!key) return;
    const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
    res.end = ((chunk?: string) => {
      if (res.statusCode !== 400 || typeof chunk !== "string" || !chunk.includes("ConditionalCheckFailedException")) return end(chunk);
      this.client!.send(new GetItemCommand({ TableName: input.TableName, Key: key, ConsistentRead: true })).then(
        (current) => {
          const error = { ...JSON.parse(chunk), ...(current.Item ? { Item: current.Item } : {}) };
          const json = JSON.stringify(error);
          res.setHeader("x-amz-crc32", zlib.crc32(json) >>> 0);
          res.setHeader("Content-Length", Buffer.byteLength(json));
          end(json);
        },
        () => end(chunk),
      );
      return res;
    }) as ServerResponse["end"];
  }
}

/** DynamoDB's refusal of DeleteTable on a protected table (ValidationException; as recorded against AWS in moto's tests). */
function deletionProtectedMessage(table: string): string {
  return `1 validation error detected: Table '${table}' can't be deleted while DeletionProtectionEnabled is set to True`;
}
