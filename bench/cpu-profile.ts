import type { SourceMap } from "node:module";
import * as path from "node:path";
import { Session } from "node:inspector/promises";

/** Where a share of the main thread's CPU went: a package, a file of this project, Node's own code, or the GC. */
export interface Consumer {
  readonly name: string;
  readonly selfMs: number;
  readonly share: number;
}

const PROJECT_ROOT = path.resolve(__dirname, "..");

/**
 * Runs `work` under V8's sampling profiler on this thread and groups the samples' self time by who spent it: the npm
 * package (`dynalite`, `aws-local-stepfunctions`, `@smithy/...`), the project file (`local/front-door.ts`), Node's
 * internals by module, the garbage collector. Idle time is left out; shares are of the busy time.
 */
export async function profileMainThread<T>(work: () => Promise<T>, samplingIntervalUs = 500): Promise<{ result: T; consumers: Consumer[]; busyMs: number }> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
    await session.post("Profiler.start");
    let result: T;
    let profile: Profile;
    try {
      result = await work();
    } finally {
      ({ profile } = await session.post("Profiler.stop"));
    }
    return { result, ...ranked(addSelfTime(new Map(), profile, new Map(profile.nodes.map((node) => [node.id, ownerOf(node.callFrame)])))) };
  } finally {
    session.disconnect();
  }
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
  readonly children?: readonly number[];
}

export interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples?: number[];
  readonly timeDeltas?: number[];
}

/** Consumers by self time, largest first, each with its share of the busy time. */
function ranked(selfUs: ReadonlyMap<string, number>): { consumers: Consumer[]; busyMs: number } {
  const busyMs = [...selfUs.values()].reduce((sum, us) => sum + us, 0) / 1000;
  const consumers = [...selfUs].map(([name, us]) => ({ name, selfMs: us / 1000, share: us / 1000 / busyMs }));
  return { consumers: consumers.sort((a, b) => b.selfMs - a.selfMs), busyMs };
}

/** Adds each sample's time (the gap to the next sample) to its node's owner; owners `(idle)` and undefined are left out. */
function addSelfTime(selfUs: Map<string, number>, profile: Profile, owner: Map<number, string | undefined>): Map<string, number> {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const name = owner.get(samples[i]!);
    if (name === undefined || name === "(idle)") continue;
    selfUs.set(name, (selfUs.get(name) ?? 0) + (deltas[i + 1] ?? 0));
  }
  return selfUs;
}

/**
 * Where the function environments' CPU went, from the profiles `--cpu-prof` wrote (local/runtimes/lambda,
 * `cpuProfileDir`), summed over every environment. A bundle's code is named by the package or project file it came
 * from where `sourceMaps` has the bundle's map (bundle-source-maps.ts), otherwise by function (esbuild keeps names);
 * Node's own code by module as on the main thread. Time blocked reading the next invocation
 * (bootstrap.mjs `nextInvocation`, the freeze) is left out, as idle time is.
 */
export function environmentConsumers(profiles: readonly Profile[], sourceMaps: ReadonlyMap<string, SourceMap> = new Map()): { consumers: Consumer[]; busyMs: number } {
  const selfUs = new Map<string, number>();
  for (const profile of profiles) {
    // Every node under bootstrap.mjs's nextInvocation, found once from its frames down.
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const frozen = new Set<number>();
    const todo = profile.nodes.filter((n) => n.callFrame.functionName === "nextInvocation" && n.callFrame.url.endsWith("/bootstrap.mjs")).map((n) => n.id);
    for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
      if (frozen.has(id)) continue;
      frozen.add(id);
      todo.push(...(byId.get(id)!.children ?? []));
    }
    const owner = new Map(
      profile.nodes.map((node) => {
        const { functionName, url } = node.callFrame;
        if (frozen.has(node.id)) return [node.id, undefined];
        if (url.endsWith("/bootstrap.mjs")) return [node.id, "the runtime (bootstrap.mjs)"];
        if (url.startsWith("file://") && !url.includes("/node_modules/")) {
          const source = sourceMaps.get(new URL(url).pathname)?.findEntry(node.callFrame.lineNumber, node.callFrame.columnNumber);
          return [node.id, source && "originalSource" in source ? ownerOf({ functionName, url: source.originalSource }) : `${functionName || "(anonymous)"} (bundle)`];
        }
        return [node.id, ownerOf(node.callFrame)];
      }),
    );
    addSelfTime(selfUs, profile, owner);
  }
  return ranked(selfUs);
}

function ownerOf({ functionName, url }: { functionName: string; url: string }): string {
  if (url === "") {
    // (garbage collector), (program), (idle), (root), or a native function (a binding such as fs's `read`).
    return functionName.startsWith("(") ? functionName : `native ${functionName || "(anonymous)"}`;
  }
  if (url.startsWith("node:")) {
    // node:internal/crypto/hash → node:internal/crypto: "internal" alone would lump Node's modules, streams and
    // crypto together.
    const [first, second] = url.slice(5).split("/");
    return first === "internal" && second ? `node:internal/${second}` : `node:${first}`;
  }
  const file = url.startsWith("file://") ? new URL(url).pathname : url;
  const modules = file.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const [first, second] = file.slice(modules + "/node_modules/".length).split("/");
    return first!.startsWith("@") ? `${first}/${second}` : first!;
  }
  const relative = path.relative(PROJECT_ROOT, file);
  return relative.startsWith("..") ? file : relative;
}
