import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileDigest } from "../../infra/content-hash";
import { readOrClaim } from "../../infra/build-lock";
import type { RegistrationArgs } from "./host";
import { LOCAL_STATE_DIR } from "../state-dir";

/**
 * The resource graph a program registered, kept by content: the registrations in the order the provider received
 * them, the provider calls and the program's outputs. When nothing the program reads has changed (its files, the
 * stack config, the dependencies, the local provider's own code), the local cloud replays these registrations into
 * its provider instead of running the program again: the same resources are provisioned from the same inputs, the
 * program simply does not run. This is what makes an unchanged boot take about a second instead of the program's run.
 *
 * The program must be a function of its files and its config (ours is: it reads nothing else). Config values the
 * local cloud chooses per boot — the sandbox gateway's URL, with its port — are left out of the key and substituted
 * on replay (`substitutable`): the recorded value is replaced wherever it appears in the recorded inputs and outputs.
 */
export interface RecordedGraph {
  readonly version: number;
  readonly registrations: RegistrationArgs[];
  readonly calls: Array<{ token: string; inputs: unknown }>;
  readonly outputs: Record<string, unknown>;
  /** Config key → the value it had when the graph was recorded, for the keys substituted on replay. */
  readonly substitutions: Record<string, string>;
}

export interface GraphKeyInputs {
  readonly projectDir: string;
  readonly entry: string;
  readonly stack: string;
  /** The config the program sees (namespaced keys). */
  readonly config: Record<string, string>;
  readonly secretKeys: readonly string[];
  /** Keys whose values change per boot and are substituted on replay instead of being part of the key. */
  readonly substitutable: readonly string[];
}

const FORMAT_VERSION = 1;

/** Folders never part of a program's sources (dependencies, build output, local state, mutation-test sandboxes). */
const IGNORED_DIRS = new Set(["node_modules", ".git", ".build", LOCAL_STATE_DIR, ".stryker-tmp", "reports"]);
/** The repository root: its lockfile pins the dependencies every program here loads. */
const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..");

export class GraphCache {
  constructor(private readonly dir: string) {}

  /** The key of a program run: the digest of its sources, its entry, stack and config (minus substituted keys). */
  key(inputs: GraphKeyInputs): string {
    const config = Object.fromEntries(Object.entries(inputs.config).map(([k, v]) => [k, inputs.substitutable.includes(k) ? "<substituted>" : v]));
    return createHash("sha256")
      .update(JSON.stringify([FORMAT_VERSION, sourcesDigest(inputs.projectDir), inputs.entry, inputs.stack, sortKeys(config), [...inputs.secretKeys].sort()]))
      .digest("hex")
      .slice(0, 24);
  }

  /** The recorded graph for `key`, if there is one whose files (bundles, build contexts) are all still there. */
  read(key: string): RecordedGraph | undefined {
    let graph: RecordedGraph;
    try {
      graph = JSON.parse(fs.readFileSync(this.file(key), "utf8")) as RecordedGraph;
    } catch {
      return undefined;
    }
    if (graph.version !== FORMAT_VERSION) return undefined;
    const missing = referencedPaths(graph.registrations).find((p) => !fs.existsSync(p));
    return missing ? undefined : graph;
  }

  /**
   * The recorded graph for `key`, or the right to record it (`release` once written or failed): a boot that finds
   * another recording the same graph waits for it and replays it, instead of running the program a second time.
   */
  readOrClaim(key: string): ReturnType<typeof readOrClaim<RecordedGraph>> {
    return readOrClaim(path.join(this.dir, `${key}.lock`), () => this.read(key), { label: "resource graph of the program" });
  }

  write(key: string, graph: Omit<RecordedGraph, "version">): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = this.file(key);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ version: FORMAT_VERSION, ...graph }));
    fs.renameSync(tmp, file);
    this.prune(file);
  }

  private file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  /** Keeps the 20 most recent graphs: every stack and test configuration of a checkout fits. */
  private prune(keep: string): void {
    const entries = fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => path.join(this.dir, f))
      .filter((f) => f !== keep)
      .map((f) => ({ f, mtime: fs.statSync(f).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const { f } of entries.slice(19)) fs.rmSync(f, { force: true });
  }
}

/** Replaces every recorded substitutable value with this boot's, wherever it appears in a string. */
export function substitute<T>(value: T, replacements: ReadonlyArray<readonly [string, string]>): T {
  const active = replacements.filter(([from, to]) => from && from !== to);
  if (!active.length) return value;
  const visit = (v: unknown): unknown => {
    if (typeof v === "string") return active.reduce((s, [from, to]) => s.split(from).join(to), v);
    if (Array.isArray(v)) return v.map(visit);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, visit(inner)]));
    return v;
  };
  return visit(value) as T;
}

/** Paths of the assets and archives a graph's inputs name (function bundles, image build contexts). */
function referencedPaths(registrations: readonly RegistrationArgs[]): string[] {
  const out: string[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if ((o.$kind === "FileArchive" || o.$kind === "FileAsset") && typeof o.path === "string") out.push(o.path);
      else Object.values(o).forEach(visit);
    }
  };
  registrations.forEach((r) => visit(r.inputs));
  return out;
}

/**
 * Digest of every source file of the project: the files git tracks or would track (untracked but not ignored) when
 * the folder is in a git checkout, every file but dependencies and build output otherwise; plus the repository's
 * lockfile and the local provider's own code, which shape the graph as much as the program does.
 */
export function sourcesDigest(projectDir: string): string {
  const hash = createHash("sha256");
  const files = new Set(listSources(projectDir).map((f) => path.resolve(projectDir, f)));
  files.add(path.join(REPOSITORY_ROOT, "package-lock.json"));
  for (const f of fs.readdirSync(__dirname)) files.add(path.join(__dirname, f));
  for (const file of [...files].sort()) {
    const digest = fileDigest(file, { missingOk: true });
    // A tracked file deleted in the working tree is simply absent from the program.
    if (digest !== "missing") hash.update(`${path.relative(projectDir, file)}\0${digest}\n`);
  }
  return hash.digest("hex");
}

function listSources(projectDir: string): string[] {
  try {
    const out = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: projectDir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return out.split("\0").filter((f) => f && !f.split("/").some((part) => IGNORED_DIRS.has(part)));
  } catch {
    return walk(projectDir, "");
  }
}

function walk(root: string, rel: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    if (IGNORED_DIRS.has(entry.name)) continue;
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walk(root, child));
    else if (entry.isFile()) out.push(child);
  }
  return out;
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
