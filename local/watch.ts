import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalCloud } from "./cloud";
import { functionSpecOf, recordProgram } from "./program/provider";
import { substitutableKeys } from "./program/stack-config";
import { LOCAL_STATE_DIR } from "./state-dir";

/**
 * `serve --watch`: the running cloud follows the program as it is edited, without a restart and without losing data.
 *
 * A change under handlers/, infra/ or containers/, to index.ts or to the stack's file runs the program again under
 * mocks that record its graph (graph-cache.ts replays it when nothing it reads changed; bundle.ts rebuilds only the
 * bundles whose inputs changed). The new graph is then compared with what the cloud runs:
 *
 * - a function whose code or configuration changed is updated as UpdateFunctionCode/Configuration would: invocations
 *   running finish, the next one cold-starts the new code (LambdaRuntime.update); a new function is created;
 * - a role policy whose document changed is replaced, and IAM decides with it from the next request;
 * - anything else that changed (tables, queues, state machines, the task definition, a removed function) is named in
 *   the reload's line as needing a restart: the local cloud does not replace those in place.
 *
 * Each reload is one line. The stack file is read again; the values the local cloud overrides (the sandbox gateway's
 * URL) stay as they were.
 */
export interface Reload {
  /** Files whose change started the reload, relative to the project. */
  readonly files: readonly string[];
  readonly updated: readonly string[];
  readonly created: readonly string[];
  readonly policies: readonly string[];
  /** Resources that changed in ways only a restart applies, as `type name`. */
  readonly restart: readonly string[];
  readonly ms: number;
}

/**
 * Top-level folders that hold no program source (dependencies, build output, the local cloud, tests, tooling): not
 * watched. Every other folder of the project is, with its subfolders, and the files at its root (index.ts, the stack
 * files).
 */
export const UNWATCHED = new Set(["node_modules", ".git", ".build", LOCAL_STATE_DIR, ".github", ".ci", ".stryker-tmp", "reports", "test", "bench", "local", "scripts", "examples"]);

/** Re-derives the graph and applies what changed to the running cloud (see the module comment). */
export async function reloadProgram(cloud: LocalCloud, files: readonly string[] = [], entry = "index.ts"): Promise<Reload> {
  const started = Date.now();
  const config = cloud.reloadConfig();
  const { resources } = await recordProgram({ entry, projectDir: cloud.projectDir, config, quiet: true, substitutable: substitutableKeys(config.project) });

  const updated: string[] = [];
  const created: string[] = [];
  for (const r of resources.filter((x) => x.type === "aws:lambda/function:Function")) {
    const outcome = cloud.lambda.update(functionSpecOf(r.state, r.inputs, cloud.projectDir));
    if (outcome === "updated") updated.push(r.state.name);
    if (outcome === "created") created.push(r.state.name);
  }

  const policies: string[] = [];
  for (const r of resources.filter((x) => x.type === "aws:iam/rolePolicy:RolePolicy")) {
    const roleName = String(r.inputs.role).replace(/^.*:role\/(?:.*\/)?/, "");
    const document = typeof r.inputs.policy === "string" ? JSON.parse(r.inputs.policy) : r.inputs.policy;
    const existing = cloud.provider.rolePolicies.find((p) => p.roleName === roleName && p.policyName === r.state.name);
    if (!existing) {
      cloud.provider.rolePolicies.push({ roleName, policyName: r.state.name, document });
      policies.push(roleName);
    } else if (JSON.stringify(existing.document) !== JSON.stringify(document)) {
      (existing as { document: unknown }).document = document;
      policies.push(roleName);
    }
  }
  if (policies.length) cloud.iam.policiesChanged();

  const handled = new Set(["aws:lambda/function:Function", "aws:iam/rolePolicy:RolePolicy"]);
  const before = new Map(cloud.provider.resources.map((r) => [`${r.type} ${r.name}`, JSON.stringify(r.inputs)]));
  const restart = resources
    .filter((r) => !handled.has(r.type) && before.get(`${r.type} ${r.name}`) !== JSON.stringify(r.inputs))
    // A new role needs nothing locally: a function's principal acts as whatever role its spec names.
    .filter((r) => !(r.type === "aws:iam/role:Role" && !before.has(`${r.type} ${r.name}`)))
    // Assets and archives carry paths that move with every bundle build; functions are compared above.
    .filter((r) => !r.type.startsWith("pulumi:"))
    .map((r) => `${r.type} ${r.name}`);
  return { files, updated, created, policies, restart, ms: Date.now() - started };
}

/** One line per reload, as serve prints it. */
export function describeReload(reload: Reload): string {
  const parts = [
    reload.updated.length ? `updated ${reload.updated.join(", ")}` : "",
    reload.created.length ? `created ${reload.created.join(", ")}` : "",
    reload.policies.length ? `policies of ${reload.policies.join(", ")}` : "",
    reload.restart.length ? `restart serve to apply ${reload.restart.join(", ")}` : "",
  ].filter(Boolean);
  return `reload (${reload.files.join(", ") || "program"}) in ${(reload.ms / 1000).toFixed(1)} s: ${parts.join("; ") || "nothing changed"}`;
}

/**
 * Watches the project and reloads after each burst of changes (100 ms quiet), one reload at a time; returns a function
 * that stops watching. `onReload` gets each reload's line, `onError` a reload that failed (a syntax error in a
 * handler): the cloud keeps running what it ran.
 */
export function watchProgram(cloud: LocalCloud, options: { readonly stack: string; readonly onLine: (line: string) => void; readonly debounceMs?: number }): () => void {
  const root = cloud.projectDir;
  const folders = fs.readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && !UNWATCHED.has(e.name) && !e.name.startsWith("."));
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const schedule = (file: string) => {
    if (stopped || !/\.(ts|mts|cts|js|mjs|cjs|json|ya?ml)$|Dockerfile$/.test(file)) return;
    pending.add(path.relative(root, file));
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...pending].sort();
      pending.clear();
      running = running.then(() =>
        reloadProgram(cloud, files).then(
          (reload) => options.onLine(describeReload(reload)),
          (err: unknown) => options.onLine(`reload (${files.join(", ")}) failed, still running the previous code: ${String((err as Error).message ?? err).split("\n")[0]}`),
        ),
      );
    }, options.debounceMs ?? 100);
  };
  const watchers = [
    // The project's own files (index.ts, Pulumi.<stack>.yaml), not its subfolders.
    fs.watch(root, (_event, name) => name && schedule(path.join(root, name.toString()))),
    ...folders.map((f) => fs.watch(path.join(root, f.name), { recursive: true }, (_event, name) => name && schedule(path.join(root, f.name, name.toString())))),
  ];
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
