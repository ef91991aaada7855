import { expect } from "chai";
import { sharedMini } from "../support";

/**
 * Between invocations Lambda freezes the execution environment: nothing runs until the next invocation thaws it,
 * when timers and promises left pending resume. An unhandled rejection fails the invocation in progress.
 * Sources: AWS Lambda docs, "Lambda execution environment lifecycle" (freeze and thaw) and "Define Lambda function
 * handler in Node.js" (async handlers; nodejs24.x removes callback handlers); the Node.js runtime interface client
 * fails an invocation with Runtime.UnhandledPromiseRejection, the reason's toString() as its message ("Error: yikes",
 * as an integration test against Lambda records it), and ends the process.
 */
describe("fidelity: frozen between invocations", function () {
  this.timeout(60_000);

  it("freezes the environment once it has answered, so work it left running waits for the next invocation", async () => {
    const cloud = await sharedMini();
    const first = await cloud.lambda.invoke("mini-forgetful", { start: true });
    expect(first.ok).to.equal(true);
    const [env] = cloud.lambda.environmentsOf("mini-forgetful");
    expect(env.frozen).to.equal(true);
    // Longer than the timer's 10 ms: a process left running would fire it now, between the two invocations.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const thawedAfter = Date.now();
    const second = await cloud.lambda.invoke("mini-forgetful", {});
    expect(second.ok).to.equal(true);
    const { firedAt } = (second.ok ? second.payload : {}) as { firedAt: number };
    expect(firedAt, "the timer fired only once the second invocation thawed the process").to.be.at.least(thawedAfter);
  });

  it("fails the invocation in progress on an unhandled rejection", async () => {
    const cloud = await sharedMini();
    const result = await cloud.lambda.invoke("mini-reject", {});
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.error.errorType).to.equal("Runtime.UnhandledPromiseRejection");
    expect(result.error.errorMessage).to.equal("Error: nobody awaited this");
    // Lambda's runtime ends the process after such an error: the next invocation starts a new environment.
    const next = await cloud.lambda.invoke("mini-reject", {});
    expect(next.record.cold, "the next invocation reused the environment the error broke").to.equal(true);
  });
});
