import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ExecutionEnvironment } from "../../../../local/runtimes/lambda/environment";

/**
 * One execution environment on its own, without a local cloud: how the runtime and the process talk (one pipe in, one
 * out, both read and written synchronously by bootstrap.mjs).
 */
describe("ExecutionEnvironment (one function process)", function () {
  this.timeout(30_000);
  let dir: string;
  let env: ExecutionEnvironment | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "environment-"));
    fs.mkdirSync(path.join(dir, "code"));
    fs.mkdirSync(path.join(dir, "tmp"));
    fs.writeFileSync(path.join(dir, "code", "index.mjs"), "export const handler = async (event) => ({ got: event, pid: process.pid });\n");
    env = new ExecutionEnvironment({
      functionName: "environment-test",
      handler: "index.handler",
      runtime: "nodejs24.x",
      memorySize: 128,
      timeoutSeconds: 3,
      codeDir: path.join(dir, "code"),
      writableDir: path.join(dir, "tmp"),
      env: { PATH: process.env.PATH ?? "" },
    });
  });
  afterEach(() => {
    env?.kill("test over");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const context = { functionName: "environment-test", functionVersion: "$LATEST", invokedFunctionArn: "arn:aws:lambda:eu-central-1:000000000000:function:environment-test", memoryLimitInMB: "128", awsRequestId: "r-1", logGroupName: "/aws/lambda/environment-test", logStreamName: "s" };

  it("is frozen once ready and after each answer, and runs invocations one after another in the same process", async () => {
    expect(await env!.ready).to.include({ ok: true });
    expect(env!.isFrozen).to.equal(true);
    const first = await env!.invoke("r-1", JSON.stringify({ n: 1 }), context);
    const second = await env!.invoke("r-2", JSON.stringify({ n: 2, text: "zürich\nline" }), { ...context, awsRequestId: "r-2" });
    expect([first.kind, second.kind]).to.deep.equal(["success", "success"]);
    expect(JSON.parse(first.payload!)).to.deep.equal({ got: { n: 1 }, pid: env!.process.pid });
    expect(JSON.parse(second.payload!)).to.deep.equal({ got: { n: 2, text: "zürich\nline" }, pid: env!.process.pid });
    expect(env!.isFrozen).to.equal(true);
  });

  it("ends its process when the runtime that started it goes away (its invocation pipe closes): none is left behind", async () => {
    expect(await env!.ready).to.include({ ok: true });
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => env!.process.once("exit", (code, signal) => resolve([code, signal])));
    (env!.process.stdio[3] as NodeJS.WritableStream).end();
    expect(await exited).to.deep.equal([0, null]);
  });
});
