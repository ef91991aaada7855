import { expect } from "chai";
import { setupMocks, ofType, promiseOf, registered, settled } from "../mocks";
import { OrderPipeline, orderPipelineArgs } from "../../infra/order-pipeline";
import { stackSettings } from "../stacks";

const ACCOUNT = "000000000000";
const REGION = "eu-central-1";

async function build(stack: string): Promise<OrderPipeline> {
  await setupMocks();
  const pipeline = new OrderPipeline(
    `orders-${stack}`,
    orderPipelineArgs(stackSettings(stack), { namePrefix: `shop-${stack}`, paymentGatewayKey: "sk_test_123", alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:alarms` }),
  );
  await promiseOf(pipeline.stateMachine.arn);
  await settled();
  return pipeline;
}

function policyOf(roleName: string): any {
  const policy = registered.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs.name === roleName.replace(/-role$/, "-policy"));
  if (!policy) throw new Error(`no policy for ${roleName}`);
  return JSON.parse(policy.inputs.policy);
}

describe("OrderPipeline (Pulumi mocks)", function () {
  this.timeout(120_000);
  let dev: OrderPipeline;
  let prod: OrderPipeline;
  before(async () => {
    dev = await build("dev");
    prod = await build("prod");
  });

  const tableArn = (logical: string) => {
    const table = registered.find((r) => r.type === "aws:dynamodb/table:Table" && r.name === logical);
    return table!.state.arn as string;
  };
  const logStreams = (fn: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${fn}:*`;
  const common = (fn: string) => [
    { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [logStreams(fn)] },
    { Sid: "WriteTraces", Effect: "Allow", Action: ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], Resource: ["*"] },
  ];

  it("gives each of the nine functions its own role", async () => {
    const functions = ofType("aws:lambda/function:Function", "orders-dev-");
    expect(functions).to.have.length(9);
    const roles = new Set(functions.map((f) => f.inputs.role));
    expect(roles.size).to.equal(9);
    for (const f of functions) expect(f.inputs.role).to.equal(`arn:aws:iam::${ACCOUNT}:role/${f.inputs.name}-role`);
  });

  it("runs every function on nodejs24.x with X-Ray active, JSON logs to its own log group, published behind a live alias", async () => {
    for (const f of ofType("aws:lambda/function:Function", "orders-dev-")) {
      expect(f.inputs.runtime).to.equal("nodejs24.x");
      expect(f.inputs.tracingConfig).to.deep.equal({ mode: "Active" });
      // dev logs at DEBUG: Lambda must be told, or it sets AWS_LAMBDA_LOG_LEVEL=INFO and drops the DEBUG lines.
      expect(f.inputs.loggingConfig).to.deep.equal({ logFormat: "JSON", logGroup: `/aws/lambda/${f.inputs.name}`, applicationLogLevel: "DEBUG", systemLogLevel: "INFO" });
      expect(f.inputs.publish).to.equal(true);
    }
    const aliases = ofType("aws:lambda/alias:Alias", "orders-dev-");
    expect(aliases.map((a) => a.inputs.name)).to.deep.equal(Array(9).fill("live"));
    const groups = ofType("aws:cloudwatch/logGroup:LogGroup", "orders-dev-").filter((g) => g.inputs.name.startsWith("/aws/lambda/"));
    expect(groups.map((g) => g.inputs.retentionInDays)).to.deep.equal(Array(9).fill(14));
  });

  it("hands each function exactly the environment its handler reads", () => {
    const table = (logical: string) => registered.find((r) => r.type === "aws:dynamodb/table:Table" && r.name === logical)!.state.name as string;
    const topic = registered.find((r) => r.type === "aws:sns/topic:Topic" && r.name === "orders-dev-notifications")!.state.arn as string;
    const [orders, inventory, shipments] = [table("orders-dev-orders"), table("orders-dev-inventory"), table("orders-dev-shipments")];
    const ships = "DE,FR,NL,GB,US";
    const gateway = { PAYMENT_GATEWAY_URL: stackSettings("dev").paymentGatewayUrl, PAYMENT_KEY_PARAMETER: "/shop-dev/payment-gateway-key", PAYMENT_TIMEOUT_MS: "5000" };
    const expected: Record<string, Record<string, string>> = {
      "order-placement": { ORDERS_TABLE: orders, INVENTORY_TABLE: inventory, CURRENCY: "EUR", SUPPORTED_SHIP_COUNTRIES: ships },
      "payment-processing": gateway,
      "inventory-management": { INVENTORY_TABLE: inventory },
      shipping: { ORDERS_TABLE: orders, SHIPMENTS_TABLE: shipments, SUPPORTED_SHIP_COUNTRIES: ships },
      notification: { NOTIFICATIONS_TOPIC_ARN: topic },
      "handle-payment-failure": { ORDERS_TABLE: orders, NOTIFICATIONS_TOPIC_ARN: topic },
      "refund-payment": gateway,
      "release-inventory": { INVENTORY_TABLE: inventory },
      "cancel-order": { ORDERS_TABLE: orders, NOTIFICATIONS_TOPIC_ARN: topic },
    };
    const got = Object.fromEntries(
      ofType("aws:lambda/function:Function", "orders-dev-").map((f) => [f.inputs.name.replace("shop-dev-", ""), f.inputs.environment.variables as Record<string, string>]),
    );
    expect(got).to.deep.equal(
      Object.fromEntries(Object.entries(expected).map(([fn, env]) => [fn, { ...env, POWERTOOLS_LOG_LEVEL: "DEBUG", POWERTOOLS_SERVICE_NAME: `shop-dev-${fn}` }])),
    );
  });

  it("takes memory and timeout from the stack config: dev and prod differ", async () => {
    const pay = (stack: string) => ofType("aws:lambda/function:Function", `orders-${stack}-payment-processing`)[0].inputs;
    expect([pay("dev").memorySize, pay("dev").timeout]).to.deep.equal([256, 15]);
    expect([pay("prod").memorySize, pay("prod").timeout, pay("prod").reservedConcurrentExecutions]).to.deep.equal([512, 20, 100]);
    expect(pay("dev").reservedConcurrentExecutions).to.equal(-1);
    const provisioned = ofType("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig", "orders-prod-");
    expect(provisioned.map((p) => [p.inputs.functionName, p.inputs.provisionedConcurrentExecutions, p.inputs.qualifier]).sort()).to.deep.equal([
      ["shop-prod-order-placement", 5, "live"],
      ["shop-prod-payment-processing", 5, "live"],
    ]);
    expect(ofType("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig", "orders-dev-")).to.have.length(0);
  });

  it("lets OrderPlacement read the catalogue and create orders, nothing else", () => {
    expect(policyOf("shop-dev-order-placement-role")).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        ...common("shop-dev-order-placement"),
        { Sid: "ReadCatalogue", Effect: "Allow", Action: ["dynamodb:BatchGetItem"], Resource: [tableArn("orders-dev-inventory")] },
        { Sid: "CreateOrders", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem"], Resource: [tableArn("orders-dev-orders")] },
      ],
    });
  });

  it("lets PaymentProcessing and RefundPayment read only the payment key parameter, decrypting it only through SSM", () => {
    for (const fn of ["payment-processing", "refund-payment"]) {
      expect(policyOf(`shop-dev-${fn}-role`)).to.deep.equal({
        Version: "2012-10-17",
        Statement: [
          ...common(`shop-dev-${fn}`),
          { Sid: "ReadPaymentKey", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [`arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/shop-dev/payment-gateway-key`] },
          {
            Sid: "DecryptPaymentKey",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: [ofType("aws:kms/key:Key", "orders-dev-payment-key-kms")[0].state.arn],
            Condition: { StringEquals: { "kms:ViaService": `ssm.${REGION}.amazonaws.com` } },
          },
        ],
      });
    }
  });

  it("lets Notification publish to its topic with its key, nothing else", () => {
    const topic = ofType("aws:sns/topic:Topic", "orders-dev-notifications")[0].state.arn;
    const key = ofType("aws:kms/key:Key", "orders-dev-notifications-key")[0].state.arn;
    expect(policyOf("shop-dev-notification-role").Statement).to.deep.equal([
      ...common("shop-dev-notification"),
      { Sid: "PublishNotifications", Effect: "Allow", Action: ["sns:Publish"], Resource: [topic] },
      { Sid: "EncryptNotifications", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [key] },
    ]);
  });

  it("scopes the stock, shipping and status writers to exactly their tables and topic", () => {
    const inventory = tableArn("orders-dev-inventory");
    const orders = tableArn("orders-dev-orders");
    const shipments = tableArn("orders-dev-shipments");
    const topic = ofType("aws:sns/topic:Topic", "orders-dev-notifications")[0].state.arn;
    const key = ofType("aws:kms/key:Key", "orders-dev-notifications-key")[0].state.arn;
    const publish = [
      { Sid: "PublishNotifications", Effect: "Allow", Action: ["sns:Publish"], Resource: [topic] },
      { Sid: "EncryptNotifications", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [key] },
    ];
    const expected: Record<string, object[]> = {
      "inventory-management": [{ Sid: "ReserveStock", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: [inventory] }],
      "release-inventory": [{ Sid: "ReleaseStock", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [inventory] }],
      shipping: [
        { Sid: "RecordShipments", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem"], Resource: [shipments] },
        { Sid: "CompleteOrders", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [orders] },
      ],
      "handle-payment-failure": [{ Sid: "FailOrders", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [orders] }, ...publish],
      "cancel-order": [{ Sid: "CancelOrders", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [orders] }, ...publish],
    };
    for (const [fn, statements] of Object.entries(expected)) {
      expect(policyOf(`shop-dev-${fn}-role`), fn).to.deep.equal({ Version: "2012-10-17", Statement: [...common(`shop-dev-${fn}`), ...statements] });
    }
  });

  it("never grants a wildcard action, and * resources only for X-Ray", () => {
    for (const p of ofType("aws:iam/rolePolicy:RolePolicy", "orders-")) {
      for (const s of JSON.parse(p.inputs.policy).Statement) {
        for (const a of s.Action) expect(a, p.name).to.not.include("*");
        if (s.Resource.includes("*")) expect(s.Sid, p.name).to.be.oneOf(["WriteTraces", "DeliverExecutionLogs"]);
      }
    }
  });

  it("keeps the payment key out of environment variables", () => {
    for (const f of ofType("aws:lambda/function:Function", "orders-dev-")) {
      expect(JSON.stringify(f.inputs.environment)).to.not.include("sk_test_123");
    }
    const param = ofType("aws:ssm/parameter:Parameter", "orders-dev-payment-key")[0];
    expect(param.inputs.type).to.equal("SecureString");
    expect(param.inputs.keyId).to.equal(ofType("aws:kms/key:Key", "orders-dev-payment-key-kms")[0].state.keyId);
  });

  it("runs a Standard state machine, logging ALL with X-Ray, whose role invokes only the nine live aliases", async () => {
    const sm = ofType("aws:sfn/stateMachine:StateMachine", "orders-dev-")[0].inputs;
    expect(sm.type).to.equal("STANDARD");
    expect(sm.loggingConfiguration.level).to.equal("ALL");
    expect(sm.tracingConfiguration).to.deep.equal({ enabled: true });
    const statements = policyOf("shop-dev-orders-role").Statement;
    const invoke = statements.find((s: any) => s.Sid === "InvokeFunctions");
    const aliases = ofType("aws:lambda/alias:Alias", "orders-dev-").map((a) => a.state.arn).sort();
    expect(invoke.Resource).to.deep.equal(aliases);
    expect(invoke.Resource.every((r: string) => r.endsWith(":live"))).to.equal(true);
    const definition = JSON.parse(await promiseOf(dev.stateMachine.definition));
    const used = Object.values(definition.States as Record<string, any>).filter((s) => s.Resource?.startsWith("arn:aws:lambda")).map((s) => s.Resource);
    expect([...new Set(used)].sort()).to.deep.equal(aliases);
    expect(statements.map((s: any) => s.Sid)).to.deep.equal(["InvokeFunctions", "SendToQueues", "DeliverExecutionLogs", "WriteTraces"]);
  });

  it("alarms on failed and timed-out executions and on each function's errors", () => {
    const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm", "orders-dev-");
    expect(alarms.filter((a) => a.inputs.namespace === "AWS/Lambda")).to.have.length(9);
    expect(alarms.filter((a) => a.inputs.namespace === "AWS/States").map((a) => a.inputs.metricName).sort()).to.deep.equal(["ExecutionsFailed", "ExecutionsTimedOut"]);
  });

  it("creates on-demand tables with point-in-time recovery and encryption", () => {
    const tables = ofType("aws:dynamodb/table:Table", "orders-dev-");
    expect(tables).to.have.length(3);
    for (const t of tables) {
      expect([t.inputs.billingMode, t.inputs.pointInTimeRecovery, t.inputs.serverSideEncryption]).to.deep.equal(["PAY_PER_REQUEST", { enabled: true }, { enabled: true }]);
    }
  });

  it("protects prod's tables against deletion, and leaves dev's deletable (its `forceDestroy`)", () => {
    const protection = (prefix: string) => ofType("aws:dynamodb/table:Table", prefix).map((t) => [t.name, t.inputs.deletionProtectionEnabled]);
    expect(protection("orders-prod-")).to.deep.equal([
      ["orders-prod-orders", true],
      ["orders-prod-inventory", true],
      ["orders-prod-shipments", true],
    ]);
    expect(protection("orders-dev-").map(([, on]) => on)).to.deep.equal([false, false, false]);
  });

  it("gives every Task its function's timeout plus Lambda's 10 s init limit, so the function's own timeout decides", async () => {
    const definition = JSON.parse(await promiseOf(prod.stateMachine.definition));
    const timeoutOf = new Map(ofType("aws:lambda/function:Function", "orders-prod-").map((f) => [f.inputs.name as string, f.inputs.timeout as number]));
    const tasks = Object.entries(definition.States as Record<string, any>).filter(([, s]) => s.Resource?.startsWith("arn:aws:lambda"));
    expect(tasks).to.have.length.greaterThan(5);
    for (const [name, state] of tasks) {
      const fn = (state.Resource as string).split(":")[6]!;
      expect(state.TimeoutSeconds, name).to.equal(timeoutOf.get(fn)! + 10);
    }
    // prod's payment function runs 20 s: its Task waits 30.
    expect(definition.States.PaymentProcessing.TimeoutSeconds).to.equal(30);
  });

  it("exposes prod's state machine too (two stacks in one process stay apart)", async () => {
    expect(await promiseOf(prod.stateMachine.arn)).to.equal(`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:shop-prod-orders`);
  });
});
