import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FunctionSizing, Settings } from "./config";
import { createFunctionSet, FunctionSpec, invokeArns, taskTimeoutsOf } from "./function-set";
import { LambdaFunction } from "./lambda-function";
import { OrderFunctionArns, orderWorkflow } from "./order-workflow";
import { PolicyStatement } from "./policy";
import { denyInsecureTransport, resourcePolicy } from "./resource-policies";
import { StateMachine } from "./state-machine";

type OrderFunctionKey = keyof OrderFunctionArns;

/**
 * Plain values rather than `pulumi.Input`s where they size or name things: they come from stack config, and the
 * component validates them before it creates anything (an Output cannot be checked at that point).
 */
export interface OrderPipelineArgs {
  /** Prefix of physical names, e.g. `order-pipeline-dev`; keeps stacks apart in one account. */
  readonly namePrefix: string;
  /** Memory, timeout and concurrency per function, from stack config. */
  readonly sizing: Record<OrderFunctionKey, FunctionSizing>;
  /** Payment gateway base URL (the sandbox in dev, the live gateway in prod). */
  readonly paymentGatewayUrl: string;
  /** The gateway API key (secret config); stored as an SSM SecureString, never in an environment variable. */
  readonly paymentGatewayKey: pulumi.Input<string>;
  /** Client-side timeout for a gateway call, below the payment function's timeout. */
  readonly paymentTimeoutMs: number;
  /** ISO 4217 currency of the catalogue's prices. */
  readonly currency: string;
  /** Countries the carrier ships to; others fail at Shipping and are compensated. */
  readonly supportedShipCountries: readonly string[];
  /** Upper bound for one order execution. */
  readonly workflowTimeoutSeconds: number;
  /** Days every log group of the pipeline keeps its logs (a CloudWatch retention value). */
  readonly logRetentionDays: number;
  /** Level of the handlers' structured logger: DEBUG, INFO, WARN or ERROR. */
  readonly logLevel: string;
  /** Topic the alarms notify. */
  readonly alarmTopicArn: pulumi.Input<string>;
  /** Let `pulumi destroy` (or a replacement) delete the tables; without it they carry DynamoDB's deletion protection. @default false */
  readonly forceDestroy?: boolean;
}

/** The pipeline's arguments as a stack's settings give them, plus what other components provide. */
export function orderPipelineArgs(
  settings: Settings,
  wiring: { readonly namePrefix: string; readonly paymentGatewayKey: pulumi.Input<string>; readonly alarmTopicArn: pulumi.Input<string> },
): OrderPipelineArgs {
  return {
    namePrefix: wiring.namePrefix,
    sizing: settings.functions,
    paymentGatewayUrl: settings.paymentGatewayUrl,
    paymentGatewayKey: wiring.paymentGatewayKey,
    paymentTimeoutMs: settings.paymentTimeoutMs,
    currency: settings.currency,
    supportedShipCountries: settings.supportedShipCountries,
    workflowTimeoutSeconds: settings.orderWorkflowTimeoutSeconds,
    logRetentionDays: settings.logRetentionDays,
    logLevel: settings.logLevel,
    alarmTopicArn: wiring.alarmTopicArn,
    forceDestroy: settings.forceDestroy,
  };
}

/**
 * The order pipeline: orders, catalogue and shipments tables, the customer-notification topic (with a queue that
 * keeps failed notifications), the payment key, nine functions — each with only its own privileges — and the
 * Standard state machine that runs them.
 *
 * @example
 * const orders = new OrderPipeline("orders", { namePrefix: "order-pipeline-dev", sizing, paymentGatewayUrl, ... });
 */
export class OrderPipeline extends pulumi.ComponentResource {
  public readonly ordersTable: aws.dynamodb.Table;
  public readonly inventoryTable: aws.dynamodb.Table;
  public readonly shipmentsTable: aws.dynamodb.Table;
  public readonly notificationsTopic: aws.sns.Topic;
  public readonly notificationsKey: aws.kms.Key;
  public readonly failedNotificationsQueue: aws.sqs.Queue;
  public readonly paymentKeyParameter: aws.ssm.Parameter;
  public readonly paymentKeyEncryptionKey: aws.kms.Key;
  public readonly functions: Record<OrderFunctionKey, LambdaFunction>;
  public readonly stateMachine: StateMachine;

  constructor(name: string, args: OrderPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("order-pipeline:orders:OrderPipeline", name, {}, opts);
    validate(args);
    this.ordersTable = this.createTable(`${name}-orders`, "orderId", args);
    this.inventoryTable = this.createTable(`${name}-inventory`, "sku", args);
    this.shipmentsTable = this.createTable(`${name}-shipments`, "orderId", args);
    this.notificationsKey = new aws.kms.Key(
      `${name}-notifications-key`,
      { description: "Encrypts customer notifications at rest in SNS", enableKeyRotation: true, deletionWindowInDays: 30 },
      { parent: this },
    );
    this.notificationsTopic = new aws.sns.Topic(`${name}-notifications`, { kmsMasterKeyId: this.notificationsKey.id }, { parent: this });
    this.failedNotificationsQueue = new aws.sqs.Queue(
      `${name}-failed-notifications`,
      { sqsManagedSseEnabled: true, messageRetentionSeconds: 14 * 24 * 3600 },
      { parent: this },
    );
    this.createTransportPolicies(name);
    // Its own key: with the AWS-managed aws/ssm key anyone in the account allowed ssm:GetParameter could read the
    // gateway key; with this one a reader also needs kms:Decrypt on it, which only the two payment roles get.
    this.paymentKeyEncryptionKey = new aws.kms.Key(
      `${name}-payment-key-kms`,
      { description: "Encrypts the payment gateway key parameter", enableKeyRotation: true, deletionWindowInDays: 30 },
      { parent: this },
    );
    this.paymentKeyParameter = new aws.ssm.Parameter(
      `${name}-payment-key`,
      {
        name: `/${args.namePrefix}/payment-gateway-key`,
        type: "SecureString",
        keyId: this.paymentKeyEncryptionKey.keyId,
        value: args.paymentGatewayKey,
        description: "Payment gateway API key",
      },
      { parent: this },
    );
    this.functions = this.createFunctions(name, args);
    this.stateMachine = this.createStateMachine(name, args);
    this.registerOutputs({
      ordersTable: this.ordersTable.name,
      inventoryTable: this.inventoryTable.name,
      stateMachineArn: this.stateMachine.arn,
    });
  }

  /** TLS only for the topic and the queue; access itself comes from the identity policies of our roles. */
  private createTransportPolicies(name: string): void {
    new aws.sns.TopicPolicy(
      `${name}-notifications-policy`,
      { arn: this.notificationsTopic.arn, policy: resourcePolicy([denyInsecureTransport("sns:Publish", [this.notificationsTopic.arn])]) },
      { parent: this },
    );
    new aws.sqs.QueuePolicy(
      `${name}-failed-notifications-policy`,
      { queueUrl: this.failedNotificationsQueue.url, policy: resourcePolicy([denyInsecureTransport("sqs:*", [this.failedNotificationsQueue.arn])]) },
      { parent: this },
    );
  }

  private createTable(name: string, hashKey: string, args: OrderPipelineArgs): aws.dynamodb.Table {
    return new aws.dynamodb.Table(
      name,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey,
        attributes: [{ name: hashKey, type: "S" }],
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        // AWS refuses DeleteTable while it is on: a `pulumi destroy`, or a change that replaces the table (a new key,
        // a renamed component), stops there instead of deleting the orders. Point-in-time recovery does not cover a
        // deleted table beyond its one system backup.
        deletionProtectionEnabled: !(args.forceDestroy ?? false),
      },
      { parent: this },
    );
  }

  /** Each function gets exactly the grants its handler uses (see handlers/*.ts), on exact ARNs. */
  private createFunctions(name: string, args: OrderPipelineArgs): Record<OrderFunctionKey, LambdaFunction> {
    const orders = this.ordersTable.arn;
    const inventory = this.inventoryTable.arn;
    const publish: PolicyStatement[] = [
      { sid: "PublishNotifications", actions: ["sns:Publish"], resources: [this.notificationsTopic.arn] },
      // SNS encrypts with the topic's key on the publisher's behalf, with the publisher's permissions.
      { sid: "EncryptNotifications", actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: [this.notificationsKey.arn] },
    ];
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const readPaymentKey: PolicyStatement[] = [
      { sid: "ReadPaymentKey", actions: ["ssm:GetParameter"], resources: [this.paymentKeyParameter.arn] },
      {
        sid: "DecryptPaymentKey",
        actions: ["kms:Decrypt"],
        resources: [this.paymentKeyEncryptionKey.arn],
        condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`ssm.${region}.amazonaws.com` } },
      },
    ];
    const gateway = {
      PAYMENT_GATEWAY_URL: args.paymentGatewayUrl,
      PAYMENT_KEY_PARAMETER: this.paymentKeyParameter.name,
      PAYMENT_TIMEOUT_MS: String(args.paymentTimeoutMs),
    };
    const specs: Record<OrderFunctionKey, FunctionSpec> = {
      orderPlacement: {
        entry: "handlers/order-placement.ts",
        description: "Validates and prices an order, stores it once",
        grants: [
          { sid: "ReadCatalogue", actions: ["dynamodb:BatchGetItem"], resources: [inventory] },
          { sid: "CreateOrders", actions: ["dynamodb:GetItem", "dynamodb:PutItem"], resources: [orders] },
        ],
        environment: { ORDERS_TABLE: this.ordersTable.name, INVENTORY_TABLE: this.inventoryTable.name, CURRENCY: args.currency, SUPPORTED_SHIP_COUNTRIES: args.supportedShipCountries.join(",") },
      },
      paymentProcessing: {
        entry: "handlers/payment-processing.ts",
        description: "Charges the order through the payment gateway (idempotent per order)",
        grants: readPaymentKey,
        environment: gateway,
      },
      inventoryManagement: {
        entry: "handlers/inventory-management.ts",
        description: "Reserves stock with conditional updates",
        grants: [{ sid: "ReserveStock", actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"], resources: [inventory] }],
        environment: { INVENTORY_TABLE: this.inventoryTable.name },
      },
      shipping: {
        entry: "handlers/shipping.ts",
        description: "Records the shipment and completes the order",
        grants: [
          { sid: "RecordShipments", actions: ["dynamodb:GetItem", "dynamodb:PutItem"], resources: [this.shipmentsTable.arn] },
          { sid: "CompleteOrders", actions: ["dynamodb:UpdateItem"], resources: [orders] },
        ],
        environment: {
          SHIPMENTS_TABLE: this.shipmentsTable.name,
          ORDERS_TABLE: this.ordersTable.name,
          SUPPORTED_SHIP_COUNTRIES: args.supportedShipCountries.join(","),
        },
      },
      notification: {
        entry: "handlers/notification.ts",
        description: "Tells the customer the order shipped",
        grants: publish,
        environment: { NOTIFICATIONS_TOPIC_ARN: this.notificationsTopic.arn },
      },
      handlePaymentFailure: {
        entry: "handlers/handle-payment-failure.ts",
        description: "Marks the order PAYMENT_FAILED and tells the customer",
        grants: [{ sid: "FailOrders", actions: ["dynamodb:UpdateItem"], resources: [orders] }, ...publish],
        environment: { ORDERS_TABLE: this.ordersTable.name, NOTIFICATIONS_TOPIC_ARN: this.notificationsTopic.arn },
      },
      refundPayment: {
        entry: "handlers/refund-payment.ts",
        description: "Compensation: refunds the order's charge (idempotent per order)",
        grants: readPaymentKey,
        environment: gateway,
      },
      releaseInventory: {
        entry: "handlers/release-inventory.ts",
        description: "Compensation: releases the order's stock reservations",
        grants: [{ sid: "ReleaseStock", actions: ["dynamodb:UpdateItem"], resources: [inventory] }],
        environment: { INVENTORY_TABLE: this.inventoryTable.name },
      },
      cancelOrder: {
        entry: "handlers/cancel-order.ts",
        description: "Marks the order CANCELLED and tells the customer",
        grants: [{ sid: "CancelOrders", actions: ["dynamodb:UpdateItem"], resources: [orders] }, ...publish],
        environment: { ORDERS_TABLE: this.ordersTable.name, NOTIFICATIONS_TOPIC_ARN: this.notificationsTopic.arn },
      },
    };
    return createFunctionSet(this, name, specs, args.sizing, args);
  }

  private createStateMachine(name: string, args: OrderPipelineArgs): StateMachine {
    const arns = invokeArns(this.functions);
    const timeouts = taskTimeoutsOf(Object.keys(this.functions) as OrderFunctionKey[], args.sizing);
    const workflow = pulumi
      .all([arns, this.failedNotificationsQueue.url, this.failedNotificationsQueue.arn])
      .apply(([functions, url, arn]) =>
        orderWorkflow({ functions, timeouts, notificationDlq: { url, arn }, timeoutSeconds: args.workflowTimeoutSeconds }),
      );
    return new StateMachine(
      `${name}-workflow`,
      { stateMachineName: `${args.namePrefix}-orders`, workflow, logRetentionDays: args.logRetentionDays, alarmTopicArn: args.alarmTopicArn },
      { parent: this },
    );
  }
}

function validate(args: OrderPipelineArgs): void {
  if (!/^[a-z0-9-]{1,32}$/.test(args.namePrefix)) {
    throw new Error(`\`namePrefix\` "${args.namePrefix}" must be 1–32 lowercase letters, digits or - (it prefixes every function and role name)`);
  }
  if (args.paymentTimeoutMs >= args.sizing.paymentProcessing.timeoutSeconds * 1000) {
    throw new Error("`paymentTimeoutMs` must be below the paymentProcessing function's timeout");
  }
  if (args.supportedShipCountries.length === 0) throw new Error("`supportedShipCountries` must name at least one country");
}
