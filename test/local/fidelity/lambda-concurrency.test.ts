import { expect } from "chai";
import type { LocalCloud } from "../../../local/cloud";
import { sharedMini } from "../support";

/**
 * Reserved concurrency is a ceiling: "If there are no more available concurrency, invocations are throttled"
 * (Lambda developer guide, "Configuring reserved concurrency"; a synchronous invoke answers 429
 * TooManyRequestsException, Reason ReservedFunctionConcurrentInvocationLimitExceeded). Locally it throttles at its
 * value whatever this machine could run, and frees the slot when an invocation ends.
 */
describe("fidelity: reserved concurrency throttles at its value", function () {
  this.timeout(60_000);
  let cloud: LocalCloud;

  /** A copy of mini-sleep under another name with `reserved` concurrency. */
  function reservedCopy(name: string, reserved: number): string {
    const spec = cloud.lambda.functions().find((f) => f.name === "mini-sleep")!;
    cloud.lambda.register({ ...spec, name, arn: spec.arn.replace(/mini-sleep$/, name), timeoutSeconds: 10, reservedConcurrency: reserved });
    return name;
  }

  before(async () => {
    cloud = await sharedMini();
  });

  it("runs as many invocations at once as the reservation and throttles the others with TooManyRequestsException", async () => {
    for (const reserved of [1, 2]) {
      const name = reservedCopy(`fidelity-reserved-${reserved}`, reserved);
      const results = await Promise.all([1, 2, 3].map(() => cloud.lambda.invoke(name, { ms: 300 })));
      expect(results.map((r) => r.record.outcome)).to.deep.equal([...Array(reserved).fill("success"), ...Array(3 - reserved).fill("throttled")]);
      const throttled = results.find((r) => !r.ok);
      expect(throttled && !throttled.ok && throttled.error.errorType).to.equal("TooManyRequestsException");
    }
  });

  it("frees the slot when an invocation ends: invocations one after another all run", async () => {
    const name = reservedCopy("fidelity-reserved-serial", 1);
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) outcomes.push((await cloud.lambda.invoke(name, { ms: 10 })).record.outcome);
    expect(outcomes).to.deep.equal(["success", "success", "success"]);
  });
});
