import { expect } from "chai";
import { cpuShare, lambdaHeapFlags } from "../../../local/runtimes/lambda/environment";
import { sharedMini } from "../support";

/**
 * Lambda ends an environment that uses more memory than its memory size — the whole process, Buffers included, not
 * only the JavaScript heap — and reports `Runtime.OutOfMemory`.
 * Sources: AWS Lambda docs, "Configure Lambda function memory"; the errorType and message recorded against AWS in
 * localstack/localstack tests/aws/services/lambda_ snapshots ("Runtime exited with error: signal: killed"). V8's
 * limits follow the Node.js runtime's bootstrap (`/var/runtime/bootstrap`: a tenth of the memory for the young
 * generation, the rest for the old).
 */
describe("fidelity: Lambda memory is the process's, not the heap's", function () {
  this.timeout(60_000);

  it("sets V8's limits from the memory size as Lambda's Node.js bootstrap does", () => {
    expect(lambdaHeapFlags(128)).to.deep.equal(["--max-semi-space-size=6", "--max-old-space-size=116"]);
    expect(lambdaHeapFlags(1769)).to.deep.equal(["--max-semi-space-size=88", "--max-old-space-size=1593"]);
    expect(cpuShare(1769)).to.equal(1);
    expect(cpuShare(10_240)).to.be.closeTo(5.79, 0.01);
  });

  it("ends a function that fills its memory with Buffers (outside the heap) with Runtime.OutOfMemory, and replaces the environment", async () => {
    const cloud = await sharedMini();
    const result = await cloud.lambda.invoke("mini-buffers", {});
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect([result.kind, result.error.errorType]).to.deep.equal(["out-of-memory", "Runtime.OutOfMemory"]);
    expect(result.error.errorMessage).to.match(/Runtime exited with error: signal: killed \(resident memory reached \d+ MB; memory size 128 MB\)/);
    // The next invocation gets a new environment.
    expect(cloud.lambda.environmentsOf("mini-buffers")).to.deep.equal([]);
  });
});
