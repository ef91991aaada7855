import { createHash } from "node:crypto";
import * as fs from "node:fs";

/**
 * Content digests for the build caches (function bundles, the local cloud's graph and images). A file's digest is
 * memoised by its size and modification time within one process, so checking a bundle's few hundred inputs reads
 * each file once per process, not once per bundle.
 */
const memo = new Map<string, { size: number; mtimeMs: number; digest: string }>();

/** SHA-256 of a file's bytes (hex); with `missingOk`, "missing" for a file that does not exist. */
export function fileDigest(file: string, options: { missingOk?: boolean } = {}): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    if (options.missingOk && (err as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw err;
  }
  const known = memo.get(file);
  if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return known.digest;
  const digest = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  memo.set(file, { size: stat.size, mtimeMs: stat.mtimeMs, digest });
  return digest;
}
