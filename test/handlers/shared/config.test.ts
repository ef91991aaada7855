import { expect } from "chai";
import { lazyConfig, readConfig } from "../../../handlers/shared/config";

describe("handler configuration", () => {
  const valid = {
    ORDERS_TABLE: "shop-dev-orders",
    NOTIFICATIONS_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:shop-dev-notifications",
    PAYMENT_GATEWAY_URL: "https://gateway.example.com/",
    PAYMENT_KEY_PARAMETER: "/shop/dev/payment-key",
    SUPPORTED_SHIP_COUNTRIES: "DE, fr,NL,,",
  };

  it("reads the variables a handler names, normalised, with the documented defaults", () => {
    const config = readConfig(
      ["ORDERS_TABLE", "NOTIFICATIONS_TOPIC_ARN", "PAYMENT_GATEWAY_URL", "PAYMENT_KEY_PARAMETER", "PAYMENT_TIMEOUT_MS", "CURRENCY", "SUPPORTED_SHIP_COUNTRIES"],
      valid,
    );

    expect(config).to.deep.equal({
      ORDERS_TABLE: "shop-dev-orders",
      NOTIFICATIONS_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:shop-dev-notifications",
      PAYMENT_GATEWAY_URL: "https://gateway.example.com",
      PAYMENT_KEY_PARAMETER: "/shop/dev/payment-key",
      PAYMENT_TIMEOUT_MS: 5000,
      CURRENCY: "EUR",
      SUPPORTED_SHIP_COUNTRIES: ["DE", "FR", "NL"],
    });
  });

  it("reads only the variables asked for", () => {
    expect(readConfig(["ORDERS_TABLE"], { ORDERS_TABLE: "orders" })).to.deep.equal({ ORDERS_TABLE: "orders" });
  });

  it("names every missing variable in one error, treating empty as missing", () => {
    expect(() => readConfig(["ORDERS_TABLE", "INVENTORY_TABLE", "PAYMENT_KEY_PARAMETER"], { INVENTORY_TABLE: "  " })).to.throw(
      Error,
      /^Invalid configuration: ORDERS_TABLE is not set; INVENTORY_TABLE is not set; PAYMENT_KEY_PARAMETER is not set$/,
    );
  });

  const malformed: [string, string, string][] = [
    ["PAYMENT_TIMEOUT_MS", "5s", 'PAYMENT_TIMEOUT_MS must be a whole number of milliseconds from 100 to 900000, got "5s"'],
    ["PAYMENT_TIMEOUT_MS", "50", "PAYMENT_TIMEOUT_MS must be a whole number of milliseconds from 100 to 900000, got 50"],
    ["CURRENCY", "eur", 'CURRENCY must be an ISO 4217 code such as EUR, got "eur"'],
    ["SUPPORTED_SHIP_COUNTRIES", "DE,DEU", 'SUPPORTED_SHIP_COUNTRIES lists "DEU", which is not an ISO 3166-1 alpha-2 code'],
    ["SUPPORTED_SHIP_COUNTRIES", " , ", "SUPPORTED_SHIP_COUNTRIES must list at least one ISO 3166-1 alpha-2 country code, e.g. DE,FR"],
    [
      "SUPPORTED_SHIP_COUNTRIES",
      "DEU,FR,FRA",
      'SUPPORTED_SHIP_COUNTRIES lists "DEU", which is not an ISO 3166-1 alpha-2 code, lists "FRA", which is not an ISO 3166-1 alpha-2 code',
    ],
    ["PAYMENT_GATEWAY_URL", "ftp://gateway", 'PAYMENT_GATEWAY_URL must be an http(s) base URL such as https://gateway.example.com, got "ftp://gateway"'],
    [
      "NOTIFICATIONS_TOPIC_ARN",
      "order-notifications",
      'NOTIFICATIONS_TOPIC_ARN must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got "order-notifications"',
    ],
  ];
  for (const [name, value, message] of malformed) {
    it(`refuses ${name}=${JSON.stringify(value)}, naming the variable and the rule`, () => {
      expect(() => readConfig([name as "CURRENCY"], { [name]: value })).to.throw(Error, `Invalid configuration: ${message}`);
    });
  }

  it("reads the environment once per container when lazy", () => {
    const env = process.env;
    const name = "SHIPMENTS_TABLE";
    const saved = env[name];
    try {
      env[name] = "first";
      const config = lazyConfig([name]);
      expect(config().SHIPMENTS_TABLE).to.equal("first");
      env[name] = "second";
      expect(config().SHIPMENTS_TABLE).to.equal("first");
    } finally {
      env[name] = saved;
    }
  });
});
