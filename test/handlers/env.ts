/**
 * Environment for the handler tests, set before any handler module is loaded (imported first by ./support.ts).
 * The names are what infra would set; PAYMENT_GATEWAY_URL is set by `sandboxGateway()` once it is listening.
 */
Object.assign(process.env, {
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  ORDERS_TABLE: "orders",
  INVENTORY_TABLE: "inventory",
  SHIPMENTS_TABLE: "shipments",
  NOTIFICATIONS_TOPIC_ARN: "arn:aws:sns:eu-west-1:000000000000:order-notifications",
  PAYMENT_KEY_PARAMETER: "/order-pipeline/payment-gateway-key",
  // Long enough for any answer on a busy machine: the first fetch of a process loads its HTTP client inside this
  // window (2 s measured under load). Calls the sandbox never answers end sooner, when it drops them after its
  // hangMs (./support.ts), with the charge already recorded; the timeout test sets its own short value.
  PAYMENT_TIMEOUT_MS: "10000",
  CURRENCY: "EUR",
  SUPPORTED_SHIP_COUNTRIES: "DE,FR,NL,GB,US",
  POWERTOOLS_SERVICE_NAME: "order-pipeline-test",
  POWERTOOLS_LOG_LEVEL: "SILENT",
});
