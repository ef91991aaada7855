import { expect } from "chai";
import { LambdaFunction, LambdaFunctionArgs } from "../../infra/lambda-function";
import { StateMachine } from "../../infra/state-machine";
import { ofType, promiseOf, setupMocks } from "../mocks";

const base: LambdaFunctionArgs = {
  entry: "bench/fixtures/empty-handler.ts",
  functionName: "unit-empty",
  description: "test",
  memorySize: 128,
  timeoutSeconds: 3,
  logRetentionDays: 7,
};

describe("LambdaFunction (Pulumi mocks)", () => {
  before(setupMocks);

  it("refuses bad arguments before creating anything, naming the argument", () => {
    const cases: [Partial<LambdaFunctionArgs>, string][] = [
      [{ functionName: "x".repeat(60) }, "at most 59 characters"],
      [{ functionName: "bad name" }, "must be letters, digits, - or _"],
      [{ memorySize: 64 }, "`memorySize` must be an integer 128–10240 MB, got 64"],
      [{ timeoutSeconds: 901 }, "`timeoutSeconds` must be an integer 1–900 (Lambda's 15-minute limit), got 901"],
      [{ reservedConcurrency: 0 }, "`reservedConcurrency` must be an integer ≥ 1, got 0"],
      [{ reservedConcurrency: 2, provisionedConcurrency: 3 }, "`provisionedConcurrency` (3) cannot exceed `reservedConcurrency` (2)"],
      [{ logRetentionDays: 0 }, "`logRetentionDays` must be a positive integer"],
    ];
    for (const [override, message] of cases) {
      expect(() => new LambdaFunction(`invalid-${message.length}`, { ...base, ...override }), message).to.throw(message);
    }
    expect(ofType("aws:lambda/function:Function", "invalid-")).to.have.length(0);
  });

  it("bundles the handler and hands Lambda the folder with index.mjs", async () => {
    const fn = new LambdaFunction("unit-empty", base);
    const bundle = await promiseOf(fn.bundle);
    expect(bundle.dir).to.match(/\.build\/lambda\/unit-empty\/[0-9a-f]{16}$/);
    expect(bundle.bytes).to.be.greaterThan(0).and.lessThan(2048);
    expect(await promiseOf(fn.invokeArn)).to.equal("arn:aws:lambda:eu-central-1:000000000000:function:unit-empty:live");
  });

  it("refuses a state machine name whose role name would pass IAM's 64 characters", () => {
    expect(() => new StateMachine("sm-long", { stateMachineName: "s".repeat(60), workflow: { definition: { StartAt: "A", States: {} }, statements: [] }, logRetentionDays: 7 })).to.throw(
      "at most 59 characters",
    );
  });
});
