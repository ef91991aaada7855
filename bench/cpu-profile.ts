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
    let profile: Parameters<typeof consumersOf>[0];
    try {
      result = await work();
    } finally {
      ({ profile } = await session.post("Profiler.stop"));
    }
    const consumers = consumersOf(profile);
    const busyMs = consumers.reduce((sum, c) => sum + c.selfMs, 0);
    return { result, consumers: consumers.map((c) => ({ ...c, share: c.selfMs / busyMs })), busyMs };
  } finally {
    session.disconnect();
  }
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
}

function consumersOf(profile: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }): Array<{ name: string; selfMs: number; share: number }> {
  const owner = new Map(profile.nodes.map((node) => [node.id, ownerOf(node.callFrame)]));
  const selfUs = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const name = owner.get(samples[i]!) ?? "(unknown)";
    if (name === "(idle)") continue;
    // A sample's time is the gap to the next sample.
    selfUs.set(name, (selfUs.get(name) ?? 0) + (deltas[i + 1] ?? 0));
  }
  return [...selfUs].map(([name, us]) => ({ name, selfMs: us / 1000, share: 0 })).sort((a, b) => b.selfMs - a.selfMs);
}

function ownerOf({ functionName, url }: { functionName: string; url: string }): string {
  if (url === "") {
    // (garbage collector), (program), (idle), (root), or a native function (a binding such as fs's `read`).
    return functionName.startsWith("(") ? functionName : `native ${functionName || "(anonymous)"}`;
  }
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const file = url.startsWith("file://") ? new URL(url).pathname : url;
  const modules = file.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const [first, second] = file.slice(modules + "/node_modules/".length).split("/");
    return first!.startsWith("@") ? `${first}/${second}` : first!;
  }
  const relative = path.relative(PROJECT_ROOT, file);
  return relative.startsWith("..") ? file : relative;
}
