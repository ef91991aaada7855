import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "../../local/cloud";
import { CliIo, main } from "../../local/cli";

/**
 * `npm run local -- ...` as a person runs it: exit codes, messages, and the --json contract. One test runs the CLI as
 * a process (the exit code and streams really reach the shell); the others call its `main` with the arguments a shell
 * would pass and capture what it writes, which is the same code path without a Node.js start per case.
 */
describe("local cloud CLI", function () {
  this.timeout(60_000);
  let dir: string;
  // Runs here leave their IAM log in the temporary folder, not in the developer's .local/, and never find the
  // developer's running serve (they would run in it).
  let iamLogFile: string;
  let serveDir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-cli-"));
    iamLogFile = path.join(dir, "iam-log.json");
    serveDir = path.join(dir, "serve");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, content: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };

  /** Runs the CLI's main with captured streams; resolves with the exit code and what it wrote. */
  const cli = async (args: string[], stdin = ""): Promise<{ status: number; stdout: string; stderr: string }> => {
    let stdout = "";
    let stderr = "";
    const io: CliIo = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, readStdin: () => stdin, iamLogFile, serveDir };
    const status = await main(args, io);
    return { status, stdout, stderr };
  };

  it("exits 2 from the shell with the message on stderr and nothing on stdout (a real process)", () => {
    const tsx = path.join(PROJECT_DIR, "node_modules", ".bin", "tsx");
    const r = spawnSync(tsx, [path.join(PROJECT_DIR, "local", "cli.ts"), "order", "--input", file("broken.json", '{"orderId": ')], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, LOCAL_IAM_LOG: iamLogFile, LOCAL_SERVE_DIR: serveDir },
    });
    expect(r.status, r.stderr).to.equal(2);
    expect(r.stderr).to.contain(`--input ${path.join(dir, "broken.json")} is not valid JSON`);
    expect(r.stdout).to.equal("");
  });

  describe("refuses bad input before starting anything (exit code 2)", () => {
    it("names a file that does not exist, and bad JSON on stdin", async () => {
      const missing = await cli(["export", "--input", path.join(dir, "nope.json")]);
      expect([missing.status, missing.stdout]).to.deep.equal([2, ""]);
      expect(missing.stderr).to.contain("no such file");
      const stdin = await cli(["order", "--input", "-"], "not json");
      expect(stdin.status).to.equal(2);
      expect(stdin.stderr).to.contain("--input (stdin) is not valid JSON");
    });

    it("names the inventory item and field that is wrong", async () => {
      const r = await cli(["order", "--input", file("one.json", "{}"), "--inventory", file("inv.json", '[{"sku":"A","stock":1,"price":12.5}]')]);
      expect(r.status).to.equal(2);
      expect(r.stderr).to.contain('item 0 (A): "price" must be an integer ≥ 0 in minor units');
    });

    it("refuses an export request without a document, an unknown command and an unknown stack", async () => {
      expect((await cli(["export", "--input", file("req.json", '{"format":"svg"}')])).stderr).to.contain('request 0 has no "documentKey" (or pass --document FILE)');
      const unknown = await cli(["deploy"]);
      expect([unknown.status, unknown.stderr.includes('unknown command "deploy"')]).to.deep.equal([2, true]);
      const stack = await cli(["order", "--input", file("two.json", "{}"), "--stack", "nosuchstack"]);
      expect(stack.status).to.equal(2);
      expect(stack.stderr).to.contain('stack "nosuchstack" has no config file');
    });

    it("refuses --input and --document both from stdin", async () => {
      const r = await cli(["export", "--input", "-", "--document", "-"], "{}");
      expect(r.status).to.equal(2);
      expect(r.stderr).to.contain("--input and --document cannot both read stdin");
    });
  });

  it("iam-report says there is no log yet and exits 2", async () => {
    const r = await cli(["iam-report"]);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain(`no IAM log at ${iamLogFile}: run \`npm start\``);
  });

  describe("against a running serve of the stack", () => {
    let stop: (signal: string) => void;
    let served: Promise<number>;
    let serveLog = "";

    before(async () => {
      const io: CliIo = { stdout: { write: (t: string) => (serveLog += t) }, stderr: { write: (t: string) => (serveLog += t) }, readStdin: () => "", iamLogFile, serveDir, stopSignal: new Promise((resolve) => (stop = resolve)) };
      served = main(["serve", "--port", "0"], io);
      while (!serveLog.includes("Serving stack dev")) {
        const ended = await Promise.race([served, new Promise((resolve) => setTimeout(resolve, 20, "serving"))]);
        if (ended !== "serving") throw new Error(`serve ended with ${ended}: ${serveLog}`);
      }
    });
    after(async () => {
      stop?.("SIGTERM");
      await served;
    });

    it("exports a document given with --document (read here, sent to serve) and relays the runtime and progress", async () => {
      const document = path.join(PROJECT_DIR, "examples", "documents", "invoice-1-page.json");
      const r = await cli(["export", "--input", file("export.json", JSON.stringify({ jobId: "cli-export", format: "svg" })), "--document", document, "--json"]);
      expect(r.status, r.stderr).to.equal(0);
      const [line, ...rest] = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      expect(rest).to.deep.equal([]);
      expect([line.status, line.runtime, line.error, line.output.outputKey]).to.deep.equal(["SUCCEEDED", "lambda", null, "exports/cli-export.svg"]);
      expect(line.path).to.include("ExportSvg");
      expect(r.stderr).to.contain("export cli-export: 1/1 pages done");
      // It ran in the serve: the serve logged the execution's end.
      expect(serveLog).to.match(/order-pipeline-dev-exports cli-export: SUCCEEDED in \d+ ms/);
    });

    it("refuses a second run of the same export id: the served cloud keeps its executions, as AWS does (exit 1)", async () => {
      const r = await cli(["export", "--input", "-", "--document", path.join(PROJECT_DIR, "examples", "documents", "invoice-1-page.json")], JSON.stringify({ jobId: "cli-export", format: "svg" }));
      expect([r.status, r.stdout]).to.deep.equal([1, ""]);
      expect(r.stderr).to.contain("Execution Already Exists: 'arn:aws:states:eu-central-1:000000000000:execution:order-pipeline-dev-exports:cli-export': the served cloud already ran an execution of that name; give the order or export another id");
    });
  });

  it("runs orders from stdin concurrently and prints one JSON line per execution", async function () {
    // Boots the real program in a new process: on a fresh clone under load, with the shared cloud bundling at the same
    // time, that took 31 s on a light load and over 60 s on a heavy one; the fault matrix's first boot gets 180 s too.
    this.timeout(180_000);
    const inventory = file("inventory.json", JSON.stringify([{ sku: "CLI-MUG", stock: 5, price: 1250 }]));
    const order = (orderId: string, token: string) => ({
      orderId,
      customerId: "c-1",
      email: "ada@example.com",
      items: [{ sku: "CLI-MUG", quantity: 1 }],
      payment: { token },
      shipTo: { name: "Ada", line1: "1 St", city: "Berlin", postalCode: "10115", country: "DE" },
    });
    const r = await cli(["order", "--input", "-", "--inventory", inventory, "--json"], JSON.stringify([order("cli-1", "tok_visa"), order("cli-2", "tok_chargeDeclined")]));
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).to.have.length(2);
    expect(lines.map((l) => Object.keys(l).sort())).to.deep.equal([
      ["error", "orderStatus", "output", "path", "status"],
      ["error", "orderStatus", "output", "path", "status"],
    ]);
    expect(lines.map((l) => [l.status, l.orderStatus, l.path.at(-1), l.error])).to.deep.equal([
      ["SUCCEEDED", "COMPLETED", "OrderCompleted", null],
      ["SUCCEEDED", "PAYMENT_FAILED", "PaymentFailed", null],
    ]);
  });

  it("iam-report reads the log the last run left: per principal grants, used pairs, unused grants, no denials", async () => {
    // Runs after the order run above, which wrote the log atomically at its end.
    const r = await cli(["iam-report", "--json"]);
    expect(r.status, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as { run: string; principals: Array<{ principal: string; used: Array<{ action: string }>; unused: unknown[]; denied: unknown[] }> };
    expect(report.run).to.equal("order");
    const placement = report.principals.find((p) => p.principal.endsWith("-order-placement"))!;
    expect(placement.used.map((u) => u.action)).to.include.members(["dynamodb:BatchGetItem", "dynamodb:PutItem"]);
    expect(placement.unused).to.not.deep.equal([]);
    expect(report.principals.flatMap((p) => p.denied)).to.deep.equal([]);
    const text = await cli(["iam-report"]);
    expect(text.stdout).to.match(/^IAM report — run "order" on stack dev/);
    expect(text.stdout).to.match(/\d+ principals · \d+ unused grants · 0 denied/);
  });
});
