import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { LocalCloud } from "./cloud";
import type { ExecutionRecord } from "./runtimes/step-functions/runtime";

/**
 * What an operator does against the running local cloud — seed the catalogue, place orders, upload a document,
 * start an export, read results back — through the same APIs (and the operator's credentials) a client would use.
 * Tables, buckets and state machines are found through the program's stack outputs.
 */

export interface CatalogueEntry {
  readonly sku: string;
  readonly stock: number;
  /** Integer minor units (cents). */
  readonly price: number;
  readonly name?: string;
}

export interface OrderRun {
  readonly execution: ExecutionRecord;
  readonly orderId?: string;
  /** Status read back from the orders table after the execution ended. */
  readonly orderStatus: string | null;
}

export interface ExportRun {
  readonly execution: ExecutionRecord;
  readonly jobId?: string;
  /** Where the export ran: lambda | map | fargate (from the execution output). */
  readonly runtime: string | null;
}

export class Operator {
  readonly db: DynamoDBDocumentClient;
  readonly s3: S3Client;

  constructor(readonly cloud: LocalCloud) {
    this.db = DynamoDBDocumentClient.from(new DynamoDBClient(cloud.clientConfig()), { marshallOptions: { removeUndefinedValues: true } });
    this.s3 = new S3Client({ ...cloud.clientConfig(), forcePathStyle: true });
  }

  close(): void {
    this.db.destroy();
    this.s3.destroy();
  }

  /** The hash key attribute of a table, as the program declared it. */
  hashKeyOf(tableName: string): string {
    const table = this.cloud.dynamodb.tables.get(tableName);
    if (!table) throw new Error(`no table ${tableName} in the local cloud`);
    return table.hashKey;
  }

  /** Writes catalogue items in the shape the inventory handlers read (currency from the stack config). */
  async seedInventory(entries: readonly CatalogueEntry[]): Promise<void> {
    const table = this.cloud.output("inventoryTable");
    const key = this.hashKeyOf(table);
    const currency = this.cloud.config.values[`${this.cloud.config.project}:currency`] ?? "EUR";
    for (const e of entries) {
      await this.db.send(new PutCommand({ TableName: table, Item: { [key]: e.sku, sku: e.sku, name: e.name, stock: e.stock, price: e.price, currency, reservations: {} } }));
    }
  }

  /** Takes `quantity` units of a SKU, as another client's order would between two steps of a workflow. */
  async takeStock(sku: string, quantity: number): Promise<void> {
    const table = this.cloud.output("inventoryTable");
    await this.db.send(
      new UpdateCommand({
        TableName: table,
        Key: { [this.hashKeyOf(table)]: sku },
        UpdateExpression: "SET stock = stock - :q",
        ConditionExpression: "stock >= :q",
        ExpressionAttributeValues: { ":q": quantity },
      }),
    );
  }

  async stockOf(sku: string): Promise<number | undefined> {
    const table = this.cloud.output("inventoryTable");
    const { Item } = await this.db.send(new GetCommand({ TableName: table, Key: { [this.hashKeyOf(table)]: sku }, ConsistentRead: true }));
    return Item?.stock as number | undefined;
  }

  async order(orderId: string): Promise<Record<string, any> | undefined> {
    const table = this.cloud.output("ordersTable");
    const { Item } = await this.db.send(new GetCommand({ TableName: table, Key: { [this.hashKeyOf(table)]: orderId }, ConsistentRead: true }));
    return Item;
  }

  async shipment(orderId: string): Promise<Record<string, any> | undefined> {
    const table = this.cloud.output("shipmentsTable");
    const { Item } = await this.db.send(new GetCommand({ TableName: table, Key: { [this.hashKeyOf(table)]: orderId }, ConsistentRead: true }));
    return Item;
  }

  async exportJob(jobId: string): Promise<Record<string, any> | undefined> {
    const table = this.cloud.output("exportJobsTable");
    const { Item } = await this.db.send(new GetCommand({ TableName: table, Key: { [this.hashKeyOf(table)]: jobId }, ConsistentRead: true }));
    return Item;
  }

  /** Starts one execution per order, all at once, and waits for every one of them. */
  async placeOrders(orders: readonly unknown[]): Promise<OrderRun[]> {
    const arn = this.cloud.output("orderStateMachineArn");
    const started = orders.map((o) => ({ orderId: orderIdOf(o), execution: this.cloud.startExecution(arn, o, executionName(orderIdOf(o))) }));
    return Promise.all(
      started.map(async ({ orderId, execution }) => {
        const done = await execution.done;
        const record = orderId ? await this.order(orderId) : undefined;
        return { execution: done, orderId, orderStatus: (record?.status as string | undefined) ?? null };
      }),
    );
  }

  async uploadDocument(key: string, body: string | Buffer): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.cloud.output("documentsBucket"), Key: key, Body: body, ContentType: "application/json" }));
  }

  /** Starts one export execution per request, all at once (the job id names the execution, as in scripts/start-export.ts). */
  async runExports(requests: readonly Record<string, unknown>[]): Promise<ExportRun[]> {
    const arn = this.cloud.output("exportStateMachineArn");
    const started = requests.map((r) => ({ jobId: typeof r.jobId === "string" ? r.jobId : undefined, execution: this.cloud.startExecution(arn, r, executionName(r.jobId)) }));
    return Promise.all(
      started.map(async ({ jobId, execution }) => {
        const done = await execution.done;
        const output = done.output as { runtime?: string } | undefined;
        return { execution: done, jobId, runtime: output?.runtime ?? null };
      }),
    );
  }

  /** Reads an exported object straight from the bucket. */
  exportedObject(key: string): Promise<{ body: Buffer; contentType?: string; metadata: Record<string, string> }> {
    return this.cloud.s3.getObject(this.cloud.output("documentsBucket"), key);
  }
}

function orderIdOf(order: unknown): string | undefined {
  const id = (order as { orderId?: unknown } | null)?.orderId;
  return typeof id === "string" ? id : undefined;
}

/** Step Functions execution names: 1–80 of a restricted alphabet; other ids get a generated name. */
function executionName(id: unknown): string | undefined {
  return typeof id === "string" && /^[A-Za-z0-9_-]{1,80}$/.test(id) ? id : undefined;
}
