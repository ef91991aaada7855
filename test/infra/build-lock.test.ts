import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readOrClaim } from "../../infra/build-lock";

/** Resolves with "pending" if `p` has not settled within `ms`: it cannot, while the lock it waits for is held. */
const stillPending = (p: Promise<unknown>, ms = 150) => Promise.race([p.then(() => "settled"), new Promise((resolve) => setTimeout(() => resolve("pending"), ms))]);

describe("readOrClaim: one build of a thing at a time, across processes", () => {
  let dir: string;
  let result: string;
  let lock: string;
  const read = () => (fs.existsSync(result) ? fs.readFileSync(result, "utf8") : undefined);
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "build-lock-"));
    result = path.join(dir, "result.txt");
    lock = path.join(dir, "locks", "result.lock");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("lets the first build; a second waits for its result instead of building it again", async () => {
    const first = await readOrClaim(lock, read);
    expect(first).to.have.property("release");
    const second = readOrClaim(lock, read);
    expect(await stillPending(second)).to.equal("pending");

    fs.writeFileSync(result, "built once");
    (first as { release: () => void }).release();
    const answer = await second;
    expect(answer).to.include({ value: "built once" });
    expect((answer as { waitedMs: number }).waitedMs).to.be.above(0);
    expect(fs.existsSync(lock)).to.equal(false);
  });

  it("hands the build to a waiting one when the first gives up without a result", async () => {
    const first = (await readOrClaim(lock, read)) as { release: () => void };
    const second = readOrClaim(lock, read);
    expect(await stillPending(second)).to.equal("pending");
    first.release();
    expect(await second).to.have.property("release");
    expect(fs.readFileSync(lock, "utf8").split(" ")[0]).to.equal(String(process.pid));
  });

  it("takes over a lock whose process has died", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    fs.mkdirSync(path.dirname(lock));
    fs.writeFileSync(lock, dead.stdout);
    expect(await readOrClaim(lock, read)).to.have.property("release");
    expect(fs.readFileSync(lock, "utf8").split(" ")[0]).to.equal(String(process.pid));
  });

  it("waits on a lock another live process holds, and on one still being written (empty)", async () => {
    fs.mkdirSync(path.dirname(lock));
    for (const holder of [String(process.ppid), ""]) {
      fs.writeFileSync(lock, holder);
      const waiting = readOrClaim(lock, read);
      expect(await stillPending(waiting), `holder "${holder}"`).to.equal("pending");
      fs.rmSync(lock);
      const claimed = await waiting;
      expect(claimed).to.have.property("release");
      (claimed as { release: () => void }).release();
    }
  });

  it("takes over a lock its holder stopped refreshing, even when a process with its id is alive (a reused id)", async () => {
    fs.mkdirSync(path.dirname(lock));
    fs.writeFileSync(lock, String(process.ppid));
    const minuteAgo = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, minuteAgo, minuteAgo);
    expect(await readOrClaim(lock, read)).to.have.property("release");
  });

  it("keeps its own lock fresh while it builds, so a waiter with a short staleness bound still waits", async () => {
    const timings = { refreshMs: 20, staleMs: 10_000 };
    const first = (await readOrClaim(lock, read, timings)) as { release: () => void };
    const old = Date.now() - 60_000;
    fs.utimesSync(lock, new Date(old), new Date(old));
    // The holder's refresh brings the lock back to now: wait for it (bounded only by mocha's timeout), then look.
    while (fs.statSync(lock).mtimeMs < old + 30_000) await new Promise((resolve) => setTimeout(resolve, 10));
    const second = readOrClaim(lock, read, timings);
    expect(await stillPending(second)).to.equal("pending");
    first.release();
    expect(await second).to.have.property("release");
  });

  it("lets go of the lock when looking for the result after taking it fails, and passes the error on", async () => {
    let looks = 0;
    const failing = () => {
      looks += 1;
      if (looks === 2) throw new Error("ENOENT: the cached folder went away");
      return undefined;
    };
    const error = await readOrClaim(lock, failing).then(() => undefined, (err: Error) => err);
    expect(error?.message).to.equal("ENOENT: the cached folder went away");
    expect(fs.existsSync(lock), "the lock was left behind").to.equal(false);
  });

  it("leaves alone, on release, a lock that another process took over from it", async () => {
    const claimed = (await readOrClaim(lock, read)) as { release: () => void };
    fs.writeFileSync(lock, `${process.ppid} someone-else`);
    claimed.release();
    expect(fs.readFileSync(lock, "utf8")).to.equal(`${process.ppid} someone-else`);
  });

  it("says once on stderr whom it waits for when the wait is long", async () => {
    fs.mkdirSync(path.dirname(lock));
    fs.writeFileSync(lock, `${process.ppid} holder`);
    const said: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((text: string) => (said.push(String(text)), true)) as typeof process.stderr.write;
    try {
      const waiting = readOrClaim(lock, read, { label: "bundle of handlers/shipping.ts", noticeMs: 100 });
      while (said.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 200));
      fs.rmSync(lock);
      expect(await waiting).to.have.property("release");
    } finally {
      process.stderr.write = write;
    }
    expect(said).to.deep.equal([`waiting for process ${process.ppid}, which is building the same bundle of handlers/shipping.ts (lock ${lock})\n`]);
  });

  it("answers a result that is already there at once, without taking the lock", async () => {
    fs.writeFileSync(result, "cached");
    expect(await readOrClaim(lock, read)).to.deep.equal({ value: "cached", waitedMs: 0 });
    expect(fs.existsSync(lock)).to.equal(false);
  });
});
