import ignore from "@balena/dockerignore";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileDigest } from "../../../infra/content-hash";
import { LOCAL_STATE_DIR } from "../../state-dir";

/**
 * What `docker build` would send as the build context: the files under `context` that its .dockerignore keeps, but
 * the folders (relative to `context`) in `leaveOut`.
 * BuildKit reads `<Dockerfile>.dockerignore` beside the Dockerfile first, then `<context>/.dockerignore`
 * (https://docs.docker.com/build/concepts/context/#filename-and-location). Matching is @balena/dockerignore's port
 * of Docker's own rules.
 */
export function contextFiles(context: string, dockerfile: string, leaveOut: readonly string[] = []): string[] {
  const patterns = dockerignorePatterns(context, dockerfile);
  const ig = ignore().add(patterns);
  // A folder the rules ignore is still walked when a `!` rule may take something under it back.
  const reincluded = patterns.filter((p) => p.startsWith("!")).map((p) => literalPrefix(p.slice(1)));
  const mayHoldReincluded = (dir: string) => reincluded.some((prefix) => prefix === "" || prefix.startsWith(`${dir}/`) || prefix === dir || dir.startsWith(`${prefix}/`));
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(context, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (leaveOut.includes(child)) continue;
        if (!ig.ignores(child) || mayHoldReincluded(child)) walk(child);
      } else if (entry.isFile() && !ig.ignores(child)) out.push(child);
    }
  };
  walk("");
  return out.sort();
}

/**
 * Digest of an image's inputs: the Dockerfile, its ignore rules and every file of the build context but the local
 * cloud's own state folder (`.local`: the images it built, the compile cache its functions write while another boot
 * reads the context). Docker would send that folder when no ignore rule keeps it out; as an input it would change
 * with every boot, so every boot would build the image again.
 */
export function imageDigest(context: string, dockerfile: string): string {
  const hash = createHash("sha256");
  hash.update(`Dockerfile\0${fileDigest(dockerfile)}\n`);
  hash.update(`dockerignore\0${dockerignorePatterns(context, dockerfile).join("\n")}\n`);
  for (const rel of contextFiles(context, dockerfile, [LOCAL_STATE_DIR])) hash.update(`${rel}\0${fileDigest(path.join(context, rel))}\n`);
  return hash.digest("hex");
}

function dockerignorePatterns(context: string, dockerfile: string): string[] {
  for (const file of [`${dockerfile}.dockerignore`, path.join(context, ".dockerignore")]) {
    if (fs.existsSync(file)) {
      return fs
        .readFileSync(file, "utf8")
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"));
    }
  }
  return [];
}

// The folder part of a pattern before its first wildcard: "handlers/export/**" gives "handlers/export", "**/x" gives "".
function literalPrefix(pattern: string): string {
  const clean = pattern.replace(/^\/+/, "");
  const wildcard = clean.search(/[*?[\\]/);
  if (wildcard < 0) return clean.replace(/\/+$/, "");
  const before = clean.slice(0, wildcard);
  return before.slice(0, before.lastIndexOf("/") + 1).replace(/\/+$/, "");
}
