import { expect } from "chai";
import * as path from "node:path";
import type { LocalCloud } from "../../../local/cloud";
import { sharedMini } from "../support";

const FIXTURE = path.join(__dirname, "..", "fixtures", "lambda-env");

/**
 * What a function finds in its environment, as Lambda sets it (Lambda developer guide, "Defined runtime environment
 * variables": the reserved variables a function cannot set, TZ=:UTC, no variable of the host), and how a callback
 * handler's `callbackWaitsForEmptyEventLoop` decides when the invocation ends ("Define Lambda function handler in
 * Node.js": with true, the default, Lambda waits for the event loop to be empty; with false it answers at the
 * callback and freezes the rest). nodejs24.x refuses callback handlers (Runtime.CallbackHandlerDeprecated).
 */
describe("fidelity: a function's environment as Lambda sets it", function () {
  this.timeout(60_000);
  let cloud: LocalCloud;

  function deploy(name: string, handler: string, runtime: string, environment: Record<string, string> = {}, timeoutSeconds = 3): string {
    const spec = cloud.lambda.functions().find((f) => f.name === "mini-echo")!;
    cloud.lambda.register({ ...spec, name, arn: spec.arn.replace(/mini-echo$/, name), codeDir: FIXTURE, handler, runtime, environment, timeoutSeconds, version: "$LATEST" });
    return name;
  }

  before(async () => {
    cloud = await sharedMini();
  });

  it("sets the reserved variables, keeps the function's own, lets it not override a reserved one, and passes nothing of the host", async () => {
    const name = deploy("fidelity-env", "index.handler", "nodejs24.x", { GREETING: "hi", AWS_LAMBDA_FUNCTION_NAME: "spoofed", TZ: "Europe/Paris" });
    const result = await cloud.lambda.invoke(name, {});
    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    const { env, cwd } = result.payload as { env: Record<string, string>; cwd: string };
    expect(env).to.include({
      GREETING: "hi",
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(cloud.lambda.functions().find((f) => f.name === name)!.memorySize),
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/mini-echo`,
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
      AWS_REGION: cloud.region,
      AWS_DEFAULT_REGION: cloud.region,
      TZ: ":UTC",
      _HANDLER: "index.handler",
    });
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).to.match(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(env.AWS_ACCESS_KEY_ID).to.equal(cloud.principals.find("lambda", name)?.accessKeyId);
    expect(env.LAMBDA_TASK_ROOT, "the code's folder is the working directory").to.equal(cwd);
    for (const host of ["HOME", "npm_lifecycle_event", "NODE_OPTIONS", "INIT_CWD"]) expect(env, host).to.not.have.property(host);
  });

  it("ends a callback handler's invocation when its event loop is empty, or at the callback when callbackWaitsForEmptyEventLoop is false", async () => {
    // The timer outlives the 2 s timeout: waiting for the empty event loop times out, not waiting answers.
    const name = deploy("fidelity-callback", "index.callback", "nodejs22.x", {}, 2);
    const waits = await cloud.lambda.invoke(name, { wait: true, timerMs: 30_000 });
    expect([waits.ok, waits.record.outcome]).to.deep.equal([false, "timeout"]);
    const answers = await cloud.lambda.invoke(name, { wait: false, timerMs: 30_000 });
    expect(answers.ok && answers.payload).to.deep.equal({ called: true });
  });

  it("refuses a callback handler on nodejs24.x with Runtime.CallbackHandlerDeprecated", async () => {
    const name = deploy("fidelity-callback-24", "index.callback", "nodejs24.x");
    const result = await cloud.lambda.invoke(name, { wait: false, timerMs: 1 });
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.error.errorType).to.equal("Runtime.CallbackHandlerDeprecated");
  });
});
