import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileDigest } from "../../infra/content-hash";

/**
 * Read-only copies of deployed code — function bundles, built images — where the runtimes run them: outside the
 * repository, so a module the bundle left out cannot be found in the repository's node_modules (it fails with
 * "Cannot find module", as on Lambda), and outside the writable `/tmp` a function or container gets.
 *
 * Copies are content-addressed (one folder per digest of the source folder), shared by every environment and every
 * boot, and made read-only. A function may still read them; it may not write beside its code (Node's permission
 * model, see the Lambda and ECS runtimes).
 */
export class CodeStore {
  constructor(readonly root: string = defaultRoot()) {}

  /** The read-only copy of `source` (a folder), made once. */
  materialize(source: string, kind: "lambda" | "image"): string {
    const digest = folderDigest(source);
    const target = path.join(this.root, kind, digest.slice(0, 20));
    if (fs.existsSync(path.join(target, ".complete"))) return target;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const staging = fs.mkdtempSync(`${target}.staging-`);
    try {
      fs.cpSync(source, staging, { recursive: true, dereference: true });
      fs.writeFileSync(path.join(staging, ".complete"), "");
      readOnly(staging);
      try {
        fs.renameSync(staging, target);
      } catch (err) {
        // Another boot copied the same content first.
        if (!fs.existsSync(path.join(target, ".complete"))) throw err;
      }
    } finally {
      if (fs.existsSync(staging)) {
        writable(staging);
        fs.rmSync(staging, { recursive: true, force: true });
      }
    }
    return target;
  }
}

/**
 * `/var/tmp/local-cloud/code` where there is one: not under `/tmp`, which functions may write to. Elsewhere the OS
 * temporary folder, and functions then get a private writable folder instead of all of it (see writableDirFor).
 */
function defaultRoot(): string {
  const varTmp = "/var/tmp";
  try {
    fs.accessSync(varTmp, fs.constants.W_OK);
    return path.join(varTmp, "local-cloud", "code");
  } catch {
    return path.join(os.tmpdir(), "local-cloud", "code");
  }
}

/** The folder a function or container may write to: `/tmp` as on AWS, unless the code copies live under it. */
export function writableDirFor(store: CodeStore, environmentId: string): { dir: string; tmpdirEnv?: string } {
  const tmp = os.tmpdir();
  if (process.platform !== "win32" && !isInside(store.root, tmp) && tmp === "/tmp") return { dir: "/tmp" };
  const dir = path.join(tmp, "local-cloud", "tmp", environmentId);
  fs.mkdirSync(dir, { recursive: true });
  return { dir, tmpdirEnv: dir };
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

function folderDigest(folder: string): string {
  const hash = createHash("sha256");
  const walk = (dir: string, rel: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(full, name);
      else hash.update(`${name}\0${fileDigest(full)}\n`);
    }
  };
  walk(folder, "");
  return hash.digest("hex");
}

function readOnly(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) readOnly(full);
    else fs.chmodSync(full, 0o444);
  }
  fs.chmodSync(dir, 0o555);
}

function writable(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) writable(full);
  }
}
