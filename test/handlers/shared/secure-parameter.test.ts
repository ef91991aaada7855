import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { secureParameterCache } from "../../../handlers/shared/secure-parameter";
import { rejectionOf } from "../support";

describe("secureParameterCache", () => {
  // Its own client instance: the handlers' shared SSM client is mocked elsewhere.
  const client = new SSMClient({ region: "eu-west-1" });
  const ssm = mockClient(client);

  beforeEach(() => ssm.reset());
  after(() => ssm.restore());

  it("reads a parameter once, decrypted, and serves later calls from memory", async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: "key-1" } });
    const cache = secureParameterCache(client);

    const values = await Promise.all([cache.get("/shop/payment-key"), cache.get("/shop/payment-key")]);
    values.push(await cache.get("/shop/payment-key"));

    expect(values).to.deep.equal(["key-1", "key-1", "key-1"]);
    expect(ssm.commandCalls(GetParameterCommand).map((call) => call.args[0].input)).to.deep.equal([
      { Name: "/shop/payment-key", WithDecryption: true },
    ]);
  });

  it("reads again after invalidate, so a rotated key is picked up", async () => {
    ssm.on(GetParameterCommand).resolvesOnce({ Parameter: { Value: "old" } }).resolves({ Parameter: { Value: "new" } });
    const cache = secureParameterCache(client);

    expect(await cache.get("/k")).to.equal("old");
    cache.invalidate("/k");
    expect(await cache.get("/k")).to.equal("new");
  });

  it("does not cache a failed read", async () => {
    ssm.on(GetParameterCommand).rejectsOnce(new Error("throttled")).resolves({ Parameter: { Value: "key" } });
    const cache = secureParameterCache(client);

    expect((await rejectionOf(cache.get("/k"))).message).to.equal("throttled");
    expect(await cache.get("/k")).to.equal("key");
  });

  it("refuses a parameter without a value", async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: "/k" } });

    expect((await rejectionOf(secureParameterCache(client).get("/k"))).message).to.equal("SSM parameter /k has no value");
  });

  it("refuses a parameter whose value is empty", async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: "/k", Value: "" } });

    expect((await rejectionOf(secureParameterCache(client).get("/k"))).message).to.equal("SSM parameter /k has no value");
  });
});
