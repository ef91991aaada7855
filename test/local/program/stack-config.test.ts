import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadStackConfig, StackConfigError } from "../../../local/program/stack-config";

describe("local stack config", () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-config-"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      ["name: shop", "runtime: nodejs", "config:", "  apiKey:", "    type: string", "    secret: true", "  retries:", "    type: integer", "    default: 3"].join("\n"),
    );
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const stackFile = (stack: string, lines: string[]) => fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), lines.join("\n"));

  it("namespaces keys by project and hands structured values over as JSON, as the Pulumi CLI does", () => {
    stackFile("dev", ["config:", "  aws:region: eu-west-3", "  shop:currency: EUR", "  tier: small", "  shop:sizes:", "    small: 1", "  shop:countries: [DE, FR]"]);
    const config = loadStackConfig({ projectDir: dir });
    expect(config.project).to.equal("shop");
    expect(config.region).to.equal("eu-west-3");
    expect(config.values).to.include({ "shop:currency": "EUR", "shop:tier": "small", "shop:sizes": '{"small":1}', "shop:countries": '["DE","FR"]', "shop:retries": "3" });
  });

  it("replaces each secure value with a generated local secret and says so", () => {
    stackFile("prod", ["config:", "  shop:dbPassword:", "    secure: v1:abcdef=="]);
    const config = loadStackConfig({ projectDir: dir, stack: "prod" });
    expect(config.values["shop:dbPassword"]).to.match(/^local-[0-9a-f]{32}$/);
    expect(config.secretKeys).to.include("shop:dbPassword");
    expect(config.notes).to.include("shop:dbPassword: secure value cannot be decrypted locally; using a generated local secret");
  });

  it("generates a value for a secret the project declares but the stack does not set", () => {
    stackFile("dev", ["config:", "  shop:currency: EUR"]);
    const config = loadStackConfig({ projectDir: dir });
    expect(config.values["shop:apiKey"]).to.match(/^local-[0-9a-f]{32}$/);
    expect(config.secretKeys).to.deep.equal(["shop:apiKey"]);
    expect(config.notes[0]).to.contain("shop:apiKey: declared secret with no value in the stack");
  });

  it("applies overrides last and notes them", () => {
    stackFile("dev", ["config:", "  shop:gatewayUrl: https://gateway.example.com"]);
    const config = loadStackConfig({ projectDir: dir, overrides: { "shop:gatewayUrl": "http://127.0.0.1:1234" } });
    expect(config.values["shop:gatewayUrl"]).to.equal("http://127.0.0.1:1234");
    expect(config.notes.at(-1)).to.equal("shop:gatewayUrl: overridden for the local cloud (http://127.0.0.1:1234)");
  });

  it("names the missing stack file and a secure value it cannot place", () => {
    expect(() => loadStackConfig({ projectDir: dir, stack: "qa" })).to.throw(StackConfigError, `stack "qa" has no config file ${path.join(dir, "Pulumi.qa.yaml")}`);
    stackFile("dev", ["config:", "  shop:db:", "    password:", "      secure: v1:xyz"]);
    expect(() => loadStackConfig({ projectDir: dir })).to.throw(StackConfigError, "shop:db: secure values nested inside structured config are not supported locally");
  });

  it("reports invalid YAML with the file name", () => {
    stackFile("dev", ["config:", "  shop:a: [unclosed"]);
    expect(() => loadStackConfig({ projectDir: dir })).to.throw(StackConfigError, /Pulumi\.dev\.yaml is not valid YAML/);
  });
});
