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
  // Short, so the timeout test is quick; the handler's behaviour does not depend on the value.
  PAYMENT_TIMEOUT_MS: "1500",
  CURRENCY: "EUR",
  SUPPORTED_SHIP_COUNTRIES: "DE,FR,NL,GB,US",
  POWERTOOLS_SERVICE_NAME: "order-pipeline-test",
  POWERTOOLS_LOG_LEVEL: "SILENT",
});
