import * as path from "node:path";

/**
 * The folder of a project where the local cloud keeps its own state (gitignored): the graph cache, V8's compile
 * cache, built images, the IAM log, serve's discovery files, the salt of generated secrets. Never part of the
 * program's sources, a bundle's inputs or an image's build context.
 */
export const LOCAL_STATE_DIR = ".local";

/** A path inside the project's local state folder. */
export function localStatePath(projectDir: string, ...parts: string[]): string {
  return path.join(projectDir, LOCAL_STATE_DIR, ...parts);
}
