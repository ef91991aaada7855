import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mayExecute } from "../../../../local/runtimes/ecs/runtime";

describe("a container user's access to this machine's Node (local/runtimes/ecs/runtime.ts mayExecute)", () => {
  let root: string;
  // An id that owns nothing here: only the "other" permission bits apply to it.
  const stranger = 54_321;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "may-execute-"));
    fs.chmodSync(root, 0o755);
    for (const [dir, mode] of [["open", 0o755], ["closed", 0o700]] as const) {
      fs.mkdirSync(path.join(root, dir, "bin"), { recursive: true });
      fs.chmodSync(path.join(root, dir), mode);
      fs.writeFileSync(path.join(root, dir, "bin", "node"), "");
      fs.chmodSync(path.join(root, dir, "bin", "node"), 0o755);
    }
    fs.writeFileSync(path.join(root, "open", "bin", "private"), "");
    fs.chmodSync(path.join(root, "open", "bin", "private"), 0o700);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("lets any user run a program every folder above which is searchable", () => {
    expect(mayExecute(path.join(root, "open", "bin", "node"), stranger, stranger)).to.equal(true);
  });

  it("refuses a program under a folder closed to the user, or not executable by it, and allows its owner", () => {
    expect(mayExecute(path.join(root, "closed", "bin", "node"), stranger, stranger)).to.equal(false);
    expect(mayExecute(path.join(root, "open", "bin", "private"), stranger, stranger)).to.equal(false);
    const { uid, gid } = fs.statSync(path.join(root, "closed"));
    expect(mayExecute(path.join(root, "closed", "bin", "node"), uid, gid)).to.equal(true);
  });
});
