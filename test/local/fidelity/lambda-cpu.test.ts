import { expect } from "chai";
import { sharedMini } from "../support";

/**
 * Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB. The local cloud projects an
 * invocation's CPU time — not its wall time, which a busy machine stretches — to that share, and stops one whose
 * projection passes the timeout with Sandbox.Timedout, as Lambda would have.
 * Sources: AWS Lambda docs, "Configure Lambda function memory" (1,769 MB = one vCPU); Sandbox.Timedout as recorded
 * against AWS in localstack/localstack tests/aws/services/lambda_/test_lambda.snapshot.json.
 */
describe("fidelity: CPU scales with memory", function () {
  this.timeout(60_000);

  it("stops 200 ms of CPU at 128 MB (a 0.072 vCPU share: ~2.8 s) at its 2 s timeout, with Sandbox.Timedout", async () => {
    const cloud = await sharedMini();
    const result = await cloud.lambda.invoke("mini-spin", { cpuMs: 200 });
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect([result.kind, result.error.errorType]).to.deep.equal(["timeout", "Sandbox.Timedout"]);
    expect(result.error.errorMessage).to.match(/Task timed out after 2\.00 seconds \(.*CPU.* at 128 MB's 0\.072 vCPU\)/);
  });

  it("runs the same 200 ms of CPU at 1,769 MB (one vCPU), and records the projection", async () => {
    const cloud = await sharedMini();
    const result = await cloud.lambda.invoke("mini-spin-large", { cpuMs: 200 });
    expect(result.ok).to.equal(true);
    expect(result.record.cpuMs).to.be.at.least(200);
    // One vCPU: the projection is the CPU time itself.
    expect(result.record.projectedMs).to.equal(result.record.cpuMs);
  });
});
