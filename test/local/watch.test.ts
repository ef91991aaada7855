import { expect } from "chai";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetItemCommand, PutItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PROJECT_DIR, startLocalCloud, type LocalCloud } from "../../local/cloud";
import { describeReload, reloadProgram, watchProgram } from "../../local/watch";
import { sharedCloud } from "./support";

const FIXTURE = path.join(__dirname, "fixtures", "watched");

/**
 * serve --watch: a copy of a small program (test/local/fixtures/watched) is served, edited, and reloaded; the running
 * cloud picks up the edits without a restart and keeps its data.
 */
describe("serve --watch (local/watch.ts)", function () {
  this.timeout(120_000);
  let dir: string;
  let cloud: LocalCloud;
  let db: DynamoDBClient;
  const invoke = async () => {
    const result = await cloud.lambda.invoke("watched-hello", {});
    if (!result.ok) throw new Error(`${result.error.errorType}: ${result.error.errorMessage}`);
    return result.payload as { version: number; memory: string };
  };
  const edit = (file: string, from: string | RegExp, to: string) => {
    const full = path.join(dir, file);
    fs.writeFileSync(full, fs.readFileSync(full, "utf8").replace(from, to));
  };

  before(async () => {
    // Outside the repository (its folder is not a git checkout, so every file counts as a source), with the
    // repository's packages linked in for the program to import. One folder per checkout, kept between runs with its
    // .local cache: each run starts from the same files and makes the same edits, so the program's graphs are
    // replayed from the cache after the first run, as serve replays them for content it has seen.
    dir = path.join(os.tmpdir(), `watched-${createHash("sha256").update(PROJECT_DIR).digest("hex").slice(0, 12)}`);
    fs.mkdirSync(dir, { recursive: true });
    for (const entry of fs.readdirSync(dir)) if (entry !== ".local") fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    fs.cpSync(FIXTURE, dir, { recursive: true });
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"), "dir");
    cloud = await startLocalCloud({ projectDir: dir, stack: "dev", timeScale: 0.01 });
    db = new DynamoDBClient(cloud.clientConfig());
  });
  after(async () => {
    db?.destroy();
    await cloud?.stop();
  });

  it("runs a handler's new code at the next invocation, with the tables' data kept", async () => {
    const TableName = cloud.output("tableName") as string;
    await db.send(new PutItemCommand({ TableName, Item: { pk: { S: "kept" } } }));
    expect((await invoke()).version).to.equal(1);
    edit("functions/hello/index.mjs", "version: 1", "version: 2");
    const reload = await reloadProgram(cloud, ["functions/hello/index.mjs"]);
    expect(reload).to.deep.include({ updated: ["watched-hello"], created: [], policies: [], restart: [] });
    expect((await invoke()).version).to.equal(2);
    expect((await db.send(new GetItemCommand({ TableName, Key: { pk: { S: "kept" } } }))).Item).to.deep.equal({ pk: { S: "kept" } });
  });

  it("applies a memory size changed in the stack file to the next cold start, and changes nothing when nothing changed", async () => {
    edit("Pulumi.dev.yaml", 'memorySize: "128"', 'memorySize: "256"');
    const reload = await reloadProgram(cloud, ["Pulumi.dev.yaml"]);
    expect(reload.updated).to.deep.equal(["watched-hello"]);
    expect((await invoke()).memory).to.equal("256");
    const again = await reloadProgram(cloud);
    expect(describeReload(again)).to.match(/^reload \(program\) in \d+\.\d s: nothing changed$/);
  });

  it("creates a function the program gains, and names what only a restart applies", async () => {
    fs.cpSync(path.join(dir, "functions", "hello"), path.join(dir, "functions", "second"), { recursive: true });
    edit("index.ts", 'export const functionName = fn("hello").name;', 'export const functionName = fn("hello").name;\nexport const second = fn("second").name;');
    edit("index.ts", '{ name: "pk", type: "S" }] });', '{ name: "pk", type: "S" }], tags: { edited: "yes" } });');
    const reload = await reloadProgram(cloud, ["index.ts"]);
    expect(reload.created).to.deep.equal(["watched-second"]);
    expect(reload.policies).to.deep.equal(["watched-second-role"]);
    expect(reload.restart).to.deep.equal(["aws:dynamodb/table:Table notes"]);
    const result = await cloud.lambda.invoke("watched-second", {});
    expect(result.ok && (result.payload as { version: number }).version).to.equal(2);
  });

  it("reloads on a save, one line per reload, and keeps running the previous code when the edit does not load", async () => {
    const lines: string[] = [];
    let seen: (line: string) => void = () => undefined;
    const next = () => new Promise<string>((resolve) => (seen = resolve));
    const stop = watchProgram(cloud, {
      stack: "dev",
      onLine: (line) => {
        lines.push(line);
        seen(line);
      },
    });
    try {
      let line = next();
      edit("functions/hello/index.mjs", "version: 2", "version: 3");
      // The table edited by the test before still waits for a restart, and each reload says so.
      expect(await line).to.match(/^reload \(functions\/hello\/index\.mjs\) in \d+\.\d s: updated watched-hello; restart serve to apply aws:dynamodb\/table:Table notes$/);
      expect((await invoke()).version).to.equal(3);
      line = next();
      edit("index.ts", "const config", "const config =");
      expect(await line).to.match(/^reload \(index\.ts\) failed, still running the previous code: /);
      expect((await invoke()).version).to.equal(3);
      expect(lines).to.have.length(2);
    } finally {
      stop();
    }
  });
});

describe("serve --watch on the real program", function () {
  this.timeout(120_000);

  it("finds nothing to change when nothing changed: no function, policy or resource differs from what is running", async () => {
    const cloud = await sharedCloud("watch");
    const reload = await reloadProgram(cloud);
    expect(reload).to.deep.include({ updated: [], created: [], policies: [], restart: [] });
  });
});
