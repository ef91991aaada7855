import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GraphCache } from "../../../local/program/graph-cache";

const GRAPH = { registrations: [], calls: [], outputs: { url: "http://127.0.0.1:1" }, substitutions: {} };
const KEY = "0123456789abcdef01234567";

/** Resolves with "pending" if `p` has not settled within `ms`: it cannot, while the lock it waits for is held. */
const stillPending = (p: Promise<unknown>, ms = 300) => Promise.race([p.then(() => "settled"), new Promise((resolve) => setTimeout(() => resolve("pending"), ms))]);

describe("GraphCache: one run of the program per graph at a time", () => {
  let dir: string;
  let cache: GraphCache;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "graph-cache-"));
    cache = new GraphCache(dir);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("lets the first boot record; a second one waits for its graph and replays it instead of running the program", async () => {
    const first = await cache.readOrClaim(KEY);
    expect(first).to.have.property("release");
    const second = cache.readOrClaim(KEY);
    expect(await stillPending(second)).to.equal("pending");

    cache.write(KEY, GRAPH);
    (first as { release: () => void }).release();
    const answer = await second;
    expect(answer).to.have.property("graph");
    expect((answer as { graph: { outputs: unknown } }).graph.outputs).to.deep.equal(GRAPH.outputs);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".lock"))).to.deep.equal([]);
  });

  it("hands the recording to a waiting boot when the first gives up without a graph", async () => {
    const first = (await cache.readOrClaim(KEY)) as { release: () => void };
    const second = cache.readOrClaim(KEY);
    expect(await stillPending(second)).to.equal("pending");
    first.release();
    expect(await second).to.have.property("release");
  });

  it("takes over a lock whose process has died, and waits on one whose process is alive", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    fs.writeFileSync(path.join(dir, `${KEY}.lock`), dead.stdout);
    expect(await cache.readOrClaim(KEY)).to.have.property("release");
    expect(fs.readFileSync(path.join(dir, `${KEY}.lock`), "utf8")).to.equal(String(process.pid));

    const other = "1111111111aaaaaaaaaaaaaa";
    fs.writeFileSync(path.join(dir, `${other}.lock`), String(process.ppid));
    const waiting = cache.readOrClaim(other);
    expect(await stillPending(waiting)).to.equal("pending");
    fs.rmSync(path.join(dir, `${other}.lock`));
    expect(await waiting).to.have.property("release");
  });

  it("answers a graph that is already written at once, without a lock", async () => {
    cache.write(KEY, GRAPH);
    const answer = await cache.readOrClaim(KEY);
    expect(answer).to.have.property("graph");
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".lock"))).to.deep.equal([]);
  });
});
