import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GraphCache } from "../../../local/program/graph-cache";

describe("GraphCache", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "graph-cache-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("makes a second boot of the same graph wait for the first's recording and replay it (test/infra/build-lock.test.ts has the lock's cases)", async () => {
    const cache = new GraphCache(dir);
    const key = "0123456789abcdef01234567";
    const first = await cache.readOrClaim(key);
    expect(first).to.have.property("release");
    let settled = false;
    const second = cache.readOrClaim(key).then((answer) => ((settled = true), answer));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(settled, "the second boot did not wait for the recording").to.equal(false);

    const outputs = { url: "http://127.0.0.1:1" };
    cache.write(key, { registrations: [], calls: [], outputs, substitutions: {} });
    (first as { release: () => void }).release();
    const answer = await second;
    expect(answer).to.have.property("value");
    expect((answer as { value: { outputs: unknown } }).value.outputs).to.deep.equal(outputs);
  });
});
