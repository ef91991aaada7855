import { GetFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, ListAliasesCommand, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { expect } from "chai";
import type { LocalCloud } from "../../../local/cloud";
import { sharedMini } from "../support";

/**
 * The Lambda API as the AWS SDK v3 client calls it (REST JSON under /2015-03-31/functions), against the front door
 * `serve` publishes (the shared mini cloud's). Status codes, headers and error codes per the Lambda API Reference
 * (API_Invoke: 200 with X-Amz-Function-Error for a function's own error, 202 for Event, 404
 * ResourceNotFoundException; API_ListFunctions: MaxItems up to 50, NextMarker).
 */
describe("Lambda API (SDK v3 against the front door)", function () {
  this.timeout(60_000);
  let cloud: LocalCloud;
  let lambda: LambdaClient;
  before(async () => {
    cloud = await sharedMini();
    lambda = new LambdaClient(cloud.clientConfig());
  });
  after(() => lambda?.destroy());

  const text = (payload: Uint8Array | undefined) => Buffer.from(payload ?? []).toString("utf8");
  const errorOf = (p: Promise<unknown>) => p.then(() => "no error", (err: Error & { $metadata?: { httpStatusCode?: number } }) => `${err.name} ${err.$metadata?.httpStatusCode}`);

  describe("Invoke", () => {
    it("RequestResponse on an alias runs the function and answers its result, the version the alias names and, asked, the log's tail", async () => {
      const r = await lambda.send(new InvokeCommand({ FunctionName: "mini-echo", Qualifier: "live", Payload: JSON.stringify({ who: "sdk" }), LogType: "Tail" }));
      expect([r.StatusCode, r.ExecutedVersion, r.FunctionError]).to.deep.equal([200, "1", undefined]);
      expect(JSON.parse(text(r.Payload))).to.include({ who: "sdk", greeting: "hello", functionName: "mini-echo" });
      const log = Buffer.from(r.LogResult!, "base64").toString("utf8");
      expect(log).to.match(/^START RequestId: [0-9a-f-]{36} Version: 1\n/);
      expect(log).to.match(/\nREPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tMemory Size: 128 MB\n$/);
    });

    it("names the function by ARN too, and an unqualified call runs $LATEST", async () => {
      const arn = "arn:aws:lambda:eu-west-1:000000000000:function:mini-echo";
      const r = await lambda.send(new InvokeCommand({ FunctionName: arn, Payload: "{}" }));
      expect([r.StatusCode, r.ExecutedVersion]).to.deep.equal([200, "$LATEST"]);
      const aliased = await lambda.send(new InvokeCommand({ FunctionName: `${arn}:live`, Payload: "{}" }));
      expect(aliased.ExecutedVersion).to.equal("1");
    });

    it("answers a function's own error with 200, X-Amz-Function-Error Unhandled and the error document", async () => {
      const r = await lambda.send(new InvokeCommand({ FunctionName: "mini-fail", Payload: JSON.stringify({ who: "sdk" }) }));
      expect([r.StatusCode, r.FunctionError]).to.deep.equal([200, "Unhandled"]);
      expect(JSON.parse(text(r.Payload))).to.include({ errorType: "Boom", errorMessage: "it went boom for sdk" });
    });

    it("Event queues the invocation (202, no payload) and runs it", async () => {
      const echoes = () => cloud.lambda.invocations.filter((i) => i.functionName === "mini-echo").length;
      const before = echoes();
      const r = await lambda.send(new InvokeCommand({ FunctionName: "mini-echo", InvocationType: "Event", Payload: "{}" }));
      expect([r.StatusCode, text(r.Payload)]).to.deep.equal([202, ""]);
      // Recorded when it ends; Lambda gives an asynchronous caller nothing more to wait on.
      while (echoes() === before) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(cloud.lambda.invocations.filter((i) => i.functionName === "mini-echo").at(-1)!.outcome).to.equal("success");
    });

    it("refuses a function or qualifier that does not exist (404), a body that is not JSON (400), and a caller without lambda:InvokeFunction (403)", async () => {
      expect(await errorOf(lambda.send(new InvokeCommand({ FunctionName: "mini-nope", Payload: "{}" })))).to.equal("ResourceNotFoundException 404");
      expect(await errorOf(lambda.send(new InvokeCommand({ FunctionName: "mini-echo", Qualifier: "staging", Payload: "{}" })))).to.equal("ResourceNotFoundException 404");
      expect(await errorOf(lambda.send(new InvokeCommand({ FunctionName: "mini-echo", Payload: "{not json" })))).to.equal("InvalidRequestContentException 400");
      // mini-echo's own role may write to its table, nothing else.
      const asEcho = new LambdaClient(cloud.clientConfig(cloud.principals.find("lambda", "mini-echo")!));
      try {
        expect(await errorOf(asEcho.send(new InvokeCommand({ FunctionName: "mini-fail", Payload: "{}" })))).to.equal("AccessDeniedException 403");
      } finally {
        asEcho.destroy();
      }
    });
  });

  describe("functions and aliases", () => {
    it("refuses a payload over 6 MB with 413 RequestTooLargeException, running nothing", async () => {
      const before = cloud.lambda.invocations.filter((r) => r.functionName === "mini-bulk" && r.durationMs > 0).length;
      const payload = JSON.stringify({ blob: "x".repeat(6 * 1024 * 1024) });
      expect(await errorOf(lambda.send(new InvokeCommand({ FunctionName: "mini-bulk", Payload: payload })))).to.equal("RequestTooLargeException 413");
      expect(cloud.lambda.invocations.filter((r) => r.functionName === "mini-bulk" && r.durationMs > 0)).to.have.length(before);
    });

    it("ListFunctions lists every function with its configuration, MaxItems at a time with NextMarker", async () => {
      const all = (await lambda.send(new ListFunctionsCommand({}))).Functions!;
      expect(all.map((f) => f.FunctionName)).to.deep.equal(cloud.lambda.functions().map((f) => f.name).sort());
      expect(all.find((f) => f.FunctionName === "mini-spin-large")).to.deep.include({ MemorySize: 1769, Timeout: 2, Runtime: "nodejs24.x", Handler: "index.handler", Version: "$LATEST" });
      const pages: string[][] = [];
      let Marker: string | undefined;
      do {
        const page = await lambda.send(new ListFunctionsCommand({ MaxItems: 5, Marker }));
        pages.push(page.Functions!.map((f) => f.FunctionName!));
        Marker = page.NextMarker;
      } while (Marker);
      expect(pages.flat()).to.deep.equal(all.map((f) => f.FunctionName));
      expect(pages.every((p) => p.length <= 5) && pages.length === Math.ceil(all.length / 5)).to.equal(true);
    });

    it("GetFunction and GetFunctionConfiguration report what the program deployed: memory, timeout, role, environment", async () => {
      const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "mini-echo" }));
      expect(configuration).to.deep.include({
        FunctionName: "mini-echo",
        FunctionArn: "arn:aws:lambda:eu-west-1:000000000000:function:mini-echo",
        Role: "arn:aws:iam::000000000000:role/mini-echo-role",
        MemorySize: 128,
        Timeout: 3,
        State: "Active",
        PackageType: "Zip",
      });
      expect(configuration.Environment!.Variables).to.deep.equal({ GREETING: "hello", PAGES: "3" });
      const fn = await lambda.send(new GetFunctionCommand({ FunctionName: "mini-echo", Qualifier: "live" }));
      expect([fn.Configuration!.FunctionArn, fn.Configuration!.Version, fn.Configuration!.CodeSha256]).to.deep.equal([
        "arn:aws:lambda:eu-west-1:000000000000:function:mini-echo:live",
        "1",
        configuration.CodeSha256,
      ]);
      expect(await errorOf(lambda.send(new GetFunctionCommand({ FunctionName: "mini-nope" })))).to.equal("ResourceNotFoundException 404");
    });

    it("ListAliases lists the function's aliases with the version each points to", async () => {
      const { Aliases } = await lambda.send(new ListAliasesCommand({ FunctionName: "mini-echo" }));
      expect(Aliases!.map((a) => [a.Name, a.FunctionVersion, a.AliasArn])).to.deep.equal([["live", "1", "arn:aws:lambda:eu-west-1:000000000000:function:mini-echo:live"]]);
      expect((await lambda.send(new ListAliasesCommand({ FunctionName: "mini-echo", FunctionVersion: "7" }))).Aliases).to.deep.equal([]);
    });
  });
});
