import { ListStateMachinesCommand, SFNClient } from "@aws-sdk/client-sfn";
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CliIo, main } from "../../local/cli";
import { discoveryFile, findServe } from "../../local/serve";
import { MINI_PROGRAM } from "./support";

/** A CLI run in this process: its exit code (once it ends) and what it wrote so far. */
interface Run {
  readonly exit: Promise<number>;
  readonly out: { stdout: string; stderr: string };
}

/**
 * `npm run local -- serve` on the mini program, in this process: one serve for the whole file, stopped by the last
 * test as a signal would stop it. The other commands find it through the discovery file in a temporary folder.
 */
describe("local cloud serve", function () {
  this.timeout(60_000);
  let dir: string;
  let serve: Run;
  let stop: (signal: string) => void;
  let env: Record<string, string>;

  const run = (args: string[], extra: Partial<CliIo> = {}): Run => {
    const out = { stdout: "", stderr: "" };
    const io: CliIo = {
      stdout: { write: (t: string) => (out.stdout += t) },
      stderr: { write: (t: string) => (out.stderr += t) },
      readStdin: () => "",
      serveDir: path.join(dir, "serve"),
      iamLogFile: path.join(dir, "iam-log.json"),
      projectDir: MINI_PROGRAM,
      ...extra,
    };
    return { exit: main(args, io), out };
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-serve-"));
    serve = run(["serve", "--port", "0"], { stopSignal: new Promise((resolve) => (stop = resolve)) });
    // Ready once the environment is printed; a failed boot ends the command instead.
    while (!serve.out.stdout.includes("Current stack outputs")) {
      const ended = await Promise.race([serve.exit, new Promise((resolve) => setTimeout(resolve, 20, "serving"))]);
      if (ended !== "serving") throw new Error(`serve ended with ${ended}: ${serve.out.stderr}`);
    }
    env = Object.fromEntries([...serve.out.stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  });
  after(async () => {
    stop?.("SIGTERM");
    await serve?.exit;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("prints one export line per variable a client needs, then the stack outputs as pulumi stack output does", async () => {
    expect(Object.keys(env)).to.deep.equal(["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    expect(env.AWS_ENDPOINT_URL).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect([env.AWS_REGION, env.AWS_DEFAULT_REGION]).to.deep.equal(["eu-west-1", "eu-west-1"]);
    const discovery = (await findServe(path.join(dir, "serve"), "dev"))!;
    const outputs = Object.keys(discovery.outputs).sort();
    expect(serve.out.stdout).to.contain(`Current stack outputs (${outputs.length}):\n    OUTPUT`);
    for (const name of outputs) expect(serve.out.stdout).to.match(new RegExp(`^    ${name} +${String(discovery.outputs[name]).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
  });

  it("answers an SDK client configured only from the printed lines", async () => {
    const sfn = new SFNClient({ endpoint: env.AWS_ENDPOINT_URL, region: env.AWS_REGION, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
    try {
      const { stateMachines } = await sfn.send(new ListStateMachinesCommand({}));
      expect(stateMachines!.map((m) => m.name)).to.deep.equal(["mini-deadline", "mini-fidelity", "mini-flow"]);
    } finally {
      sfn.destroy();
    }
  });

  it("outputs: --json prints the served stack's outputs as one object; without it, the table, after naming the serve", async () => {
    const json = run(["outputs", "--json"]);
    expect(await json.exit, json.out.stderr).to.equal(0);
    const discovery = (await findServe(path.join(dir, "serve"), "dev"))!;
    expect(JSON.parse(json.out.stdout)).to.deep.equal(discovery.outputs);
    expect(json.out.stderr).to.equal("");
    const table = run(["outputs"]);
    expect(await table.exit).to.equal(0);
    expect(table.out.stderr).to.equal(`using the local cloud served at ${env.AWS_ENDPOINT_URL} (stack dev, process ${process.pid})\n`);
    expect(table.out.stdout).to.match(/^Current stack outputs \(\d+\):\n {4}OUTPUT +VALUE\n/);
  });

  it("outputs without a running serve of the stack boots the stack's cloud for it and prints the same outputs", async () => {
    const r = run(["outputs", "--json"], { serveDir: path.join(dir, "elsewhere") });
    expect(await r.exit, r.out.stderr).to.equal(0);
    expect(JSON.parse(r.out.stdout)).to.deep.equal((await findServe(path.join(dir, "serve"), "dev"))!.outputs);
    expect(r.out.stderr).to.equal("");
  });

  it("iam-report run against serve reports every decision the served cloud has made", async () => {
    const r = run(["iam-report", "--json"]);
    expect(await r.exit, r.out.stderr).to.equal(0);
    const report = JSON.parse(r.out.stdout) as { run: string; principals: Array<{ principal: string }> };
    expect(report.run).to.equal("serve");
    expect(report.principals.map((p) => p.principal)).to.include("lambda:mini-echo");
  });

  describe("refuses what it cannot do with a clear message (exit 2)", () => {
    it("a second serve of the same stack names the one running", async () => {
      const r = run(["serve", "--port", "0"]);
      expect(await r.exit).to.equal(2);
      expect(r.out.stderr).to.contain(`local: stack dev is already served at ${env.AWS_ENDPOINT_URL} by process ${process.pid}; stop it first`);
    });

    it("a port in use names the port", async () => {
      const port = new URL(env.AWS_ENDPOINT_URL).port;
      const r = run(["serve", "--port", port], { serveDir: path.join(dir, "elsewhere") });
      expect(await r.exit).to.equal(2);
      expect(r.out.stderr).to.contain(`local: port ${port} is already in use on 127.0.0.1 (another local cloud? choose another with --port)`);
    });
  });

  // Mocha runs a suite's own tests before its nested suites: in a suite of its own, this one runs last.
  describe("stopping", () => {
    it("stops on SIGTERM, says so, and withdraws: discovery file gone, port closed", async () => {
      stop("SIGTERM");
      expect(await serve.exit).to.equal(0);
      expect(serve.out.stderr).to.match(/SIGTERM: stopping the local cloud…\nlocal cloud for stack dev stopped: \d+ executions \(0 still running were aborted\), 0 Fargate tasks stopped, servers closed\n$/);
      expect(fs.existsSync(discoveryFile(path.join(dir, "serve"), "dev"))).to.equal(false);
      const refused = await fetch(env.AWS_ENDPOINT_URL).then(
        () => "answered",
        (err: Error) => (err.cause as NodeJS.ErrnoException)?.code,
      );
      expect(refused).to.equal("ECONNREFUSED");
    });
  });
});
