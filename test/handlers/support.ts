import "./env";
import { ConditionalCheckFailedException, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PublishCommand } from "@aws-sdk/client-sns";
import { GetParameterCommand } from "@aws-sdk/client-ssm";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  DynamoDBDocumentClient,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { expect } from "chai";
import { sns, ssm } from "../../handlers/shared/clients";
import { dynamo } from "../../handlers/shared/dynamo";
import type { Order, PlacedOrderState } from "../../handlers/shared/order-state";
import { startPaymentGateway, type PaymentGateway } from "../../local/payment-gateway/server";

/*
 * One shared setup for the handler tests: the module-scope clients the handlers use are mocked here, once, by
 * instance (not by class, so tests that talk to dynalite with their own clients are unaffected).
 */
export const ddbMock = mockClient(dynamo as DynamoDBDocumentClient);
export const snsMock = mockClient(sns);
export const ssmMock = mockClient(ssm);

export const GATEWAY_KEY = "sk_test_handlers";
export const TOPIC_ARN = process.env.NOTIFICATIONS_TOPIC_ARN!;

/** Clears history and behaviour of every mock, then installs the defaults: the SSM key and a successful publish. */
export function resetMocks(): void {
  ddbMock.reset();
  snsMock.reset();
  ssmMock.reset();
  ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: process.env.PAYMENT_KEY_PARAMETER, Type: "SecureString", Value: GATEWAY_KEY } });
  snsMock.on(PublishCommand).resolves({ MessageId: "message-1" });
}

/** Every DynamoDB call that writes, in order: how tests prove "nothing else was written". */
export function dynamoWrites(): { command: string; input: any }[] {
  return ddbMock
    .calls()
    .filter((call) => [PutCommand, UpdateCommand, DeleteCommand, BatchWriteCommand].some((type) => call.args[0] instanceof type))
    .map((call) => ({ command: call.args[0].constructor.name, input: call.args[0].input }));
}

/**
 * A DocumentClient of the test's own and its mock, for what dynalite cannot be made to do on cue (keys left
 * unprocessed, a race lost between a write and its read, a throttled call). Reset before each test of the block.
 */
export function scriptedDynamo(): { readonly client: DynamoDBDocumentClient; readonly ddb: AwsClientStub<DynamoDBDocumentClient> } {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "eu-west-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } }));
  const ddb = mockClient(client);
  beforeEach(() => ddb.reset());
  after(() => ddb.restore());
  return { client, ddb };
}

export function conditionalCheckFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} });
}

export function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

let gateway: Promise<PaymentGateway> | undefined;
let gatewayPort = 0;

/**
 * The sandbox gateway shared by the payment and refund tests (one per run: the handlers read PAYMENT_GATEWAY_URL
 * once per container, so a later run in the same process — Stryker's mocha runner reruns the suites — listens on
 * the same port). Tests use distinct orderIds, so they do not see each other's charges.
 */
export function sandboxGateway(): Promise<PaymentGateway> {
  gateway ??= startPaymentGateway({ apiKey: GATEWAY_KEY, hangMs: 500, port: gatewayPort }).then((started) => {
    gatewayPort = started.port;
    process.env.PAYMENT_GATEWAY_URL = started.url;
    return started;
  });
  return gateway;
}

// Registered on the root suite: this module is loaded while mocha reads the spec files.
after(async () => {
  const running = gateway;
  gateway = undefined;
  if (running !== undefined) await (await running).close();
});

/** Awaits a promise that must reject, and returns the rejection for assertions. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(Error);
    return error as Error;
  }
  expect.fail("expected the call to fail, but it succeeded");
}

let sequence = 0;
/** A fresh orderId per test, so state kept by the sandbox gateway never leaks between tests. */
export function newOrderId(prefix = "order"): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}`;
}

export function anOrder(overrides: Partial<Order> = {}): Order {
  return {
    orderId: "order-1",
    customerId: "customer-7",
    email: "ada@example.com",
    items: [
      { sku: "SKU-BOOK", quantity: 2, unitPrice: 1250 },
      { sku: "SKU-PEN", quantity: 1, unitPrice: 300 },
    ],
    total: 2800,
    currency: "EUR",
    shipTo: { name: "Ada Lovelace", line1: "1 Analytical Way", city: "Berlin", postalCode: "10115", country: "DE" },
    createdAt: "2025-01-02T03:04:05.000Z",
    ...overrides,
  };
}

export function aPlacedState(order: Order = anOrder(), paymentToken = "tok_visa"): PlacedOrderState {
  return { formatVersion: 1, order, paymentToken };
}

/** Lambda's error as Step Functions puts it in `Cause`. */
export function lambdaCause(errorType: string, errorMessage: string): string {
  return JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, "    at handler (index.mjs:1:1)"] });
}

/**
 * A minimal stand-in for one table keyed by `key`: Get, and Put honouring `attribute_not_exists(<key>)`. Enough
 * for steps whose idempotency rests on conditional puts; update semantics are tested on dynalite.
 */
export function fakeTable(tableName: string, key: string, initial: Record<string, unknown>[] = []): Map<string, Record<string, unknown>> {
  const items = new Map(initial.map((item) => [String(item[key]), structuredClone(item)]));
  ddbMock.on(GetCommand, { TableName: tableName }).callsFake((input) => {
    const item = items.get(String(input.Key[key]));
    return { Item: item === undefined ? undefined : structuredClone(item) };
  });
  ddbMock.on(PutCommand, { TableName: tableName }).callsFake((input) => {
    const id = String(input.Item[key]);
    if (input.ConditionExpression === `attribute_not_exists(${key})` && items.has(id)) throw conditionalCheckFailed();
    if (input.ConditionExpression !== undefined && input.ConditionExpression !== `attribute_not_exists(${key})`) {
      throw new Error(`fakeTable does not understand the condition ${input.ConditionExpression}`);
    }
    items.set(id, structuredClone(input.Item));
    return {};
  });
  return items;
}

/** The catalogue as BatchGetItem returns it. */
export function fakeCatalogue(tableName: string, items: Record<string, unknown>[]): void {
  ddbMock.on(BatchGetCommand).callsFake((input) => {
    const keys: { sku: string }[] = input.RequestItems[tableName]?.Keys ?? [];
    return { Responses: { [tableName]: keys.map((k) => items.find((item) => item.sku === k.sku)).filter((item) => item !== undefined) } };
  });
}

/**
 * The orders table's status for the steps that end an order (UpdateItem only). `withItem` decides whether a
 * failed condition carries the current item (AWS, ReturnValuesOnConditionCheckFailure) or not (dynalite).
 */
export function fakeOrderStatus(initial: string | undefined, { withItem = true } = {}): { status: () => string | undefined } {
  let status = initial;
  ddbMock.on(UpdateCommand, { TableName: "orders" }).callsFake((input) => {
    const refused = () =>
      Object.assign(conditionalCheckFailed(), withItem && status !== undefined ? { Item: { status: { S: status } } } : {});
    const values = input.ExpressionAttributeValues;
    if (input.ConditionExpression === "#status = :placed") {
      if (status !== "PLACED") throw refused();
    } else if (input.ConditionExpression === "#status = :to") {
      if (status !== values[":to"]) throw refused();
    } else {
      throw new Error(`fakeOrderStatus does not understand the condition ${input.ConditionExpression}`);
    }
    status = values[":to"];
    return {};
  });
  return { status: () => status };
}
