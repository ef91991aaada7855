import { ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { Principal, PrincipalRegistry } from "../../iam/principals";
import { LOCAL_ACCOUNT, LOCAL_PARTITION } from "../../program/resource-state";
import { keepLog, LogLine, onLines } from "../log-lines";
import { ServiceError } from "../../services/errors";
import { CodeStore, writableDirFor } from "../code-store";
import { ProcessSampler } from "../process-limits";
import { imageDigest } from "./image-context";

/** A container definition as ECS takes it (the fields the local runtime uses). */
export interface ContainerDefinition {
  readonly name: string;
  readonly image: string;
  readonly essential?: boolean;
  readonly command?: string[];
  readonly entryPoint?: string[];
  readonly environment?: Array<{ name: string; value: string }>;
  readonly secrets?: Array<{ name: string; valueFrom: string }>;
  readonly memory?: number;
  readonly memoryReservation?: number;
  /** `uid[:gid]` the container runs as. */
  readonly user?: string;
  readonly readonlyRootFilesystem?: boolean;
  readonly mountPoints?: Array<{ sourceVolume?: string; containerPath: string; readOnly?: boolean }>;
  /** Seconds between SIGTERM and SIGKILL when the task is stopped (ECS default on Fargate: 30). */
  readonly stopTimeout?: number;
}

export interface TaskDefinitionSpec {
  readonly family: string;
  readonly revision: number;
  readonly arn: string;
  readonly containerDefinitions: ContainerDefinition[];
  readonly cpu?: string;
  readonly memory?: string;
  readonly taskRoleArn?: string;
  readonly executionRoleArn?: string;
  readonly requiresCompatibilities?: string[];
}

export interface ImageSpec {
  readonly name: string;
  readonly imageUri: string;
  /** Build context folder. */
  readonly context: string;
  /** Dockerfile path (absolute or relative to the context). */
  readonly dockerfile: string;
}

export interface RunTaskInput {
  readonly Cluster?: string;
  readonly TaskDefinition: string;
  readonly LaunchType?: string;
  readonly StartedBy?: string;
  readonly Overrides?: {
    readonly ContainerOverrides?: Array<{ Name: string; Environment?: Array<{ Name: string; Value: string }>; Command?: string[] }>;
  };
}

export interface TaskRecord {
  readonly taskArn: string;
  readonly taskId: string;
  readonly clusterArn: string;
  readonly taskDefinitionArn: string;
  readonly family: string;
  readonly startedBy?: string;
  readonly startedAt: number;
  /** The essential container's name. */
  readonly containerName: string;
  /** The task's CPU units and memory (MiB), as the task definition sets them. */
  readonly cpu?: string;
  readonly memory?: string;
  /** The RunTask overrides, as DescribeTasks returns them. */
  readonly overrides: NonNullable<RunTaskInput["Overrides"]>;
  lastStatus: "PROVISIONING" | "RUNNING" | "STOPPED";
  /** STOPPED once StopTask asked for it (the container may still be shutting down). */
  desiredStatus: "RUNNING" | "STOPPED";
  stoppedAt?: number;
  exitCode?: number | null;
  stoppedReason?: string;
  stopCode?: "TaskFailedToStart" | "EssentialContainerExited" | "UserInitiated";
  /** Last lines the container wrote to stderr, for the failure cause. */
  readonly stderrTail: string[];
  /** What the local run could not do as Fargate does (e.g. switch to the container's user without root). */
  readonly notes: string[];
  /** Resolves when the task has stopped. */
  readonly stopped: Promise<TaskRecord>;
}

/**
 * A failure injected into a running container (tests), at a point of its own progress — when it starts, or when it
 * writes a line containing `afterOutputIncludes` — never after a wall-clock delay, so a busy machine cannot move it:
 * - `crash`: SIGKILL (exit code 137, as ECS reports a killed container);
 * - `hang`: frozen for good (SIGSTOP: no more heartbeats or callbacks); the task's time is skipped to the end of its
 *   windows, since nothing can happen in it any more, and the process is killed `hangMs` later to free the machine;
 * - `stall`: frozen while the local cloud skips `stallSeconds` of the task's time (clock.ts), then let go on.
 *   The container's own clock does not see the skipped time: keep stalls below its own stall watchdog.
 */
export interface ContainerFault {
  /** Task definition family. */
  readonly family: string;
  readonly kind: "crash" | "hang" | "stall";
  /** Strike when the container writes a line containing this text (e.g. "export started"); at its start otherwise. */
  readonly afterOutputIncludes?: string;
  /** `stall`: seconds of the task's time the freeze lasts. */
  readonly stallSeconds?: number;
  /** `hang`: wall milliseconds before the frozen process is killed. @default 30000 */
  readonly hangMs?: number;
  /** Only tasks whose container override environment contains this text (e.g. a job id). */
  readonly environmentIncludes?: string;
  remaining?: number;
}

export interface RunTaskHooks {
  /**
   * Called with time the local cloud skips for this task (its simulated start-up, a stall, `Infinity` for a hang):
   * whoever waits on the task (a Step Functions task token) uses it up from its windows.
   */
  readonly onTimeSkipped?: (ms: number, reason: string) => void;
}

/** What the image build of a Dockerfile folder yields: the folder to run the container's command in. */
interface BuiltImage {
  readonly dir: string;
  readonly command: string[];
  /** The image's ENV (a container's environment starts from it). */
  readonly env: Record<string, string>;
}

/**
 * Runs ECS tasks as local child processes. The image is found through the `awsx:ecr:Image` whose imageUri the
 * container definition names; its Dockerfile folder's `build.mjs` (the same esbuild build the Dockerfile runs)
 * produces the entry point, and the container's command runs under the Node.js that runs the local cloud, with the
 * task definition's environment, the container overrides, the endpoint variables and the task role's credentials.
 */
export class EcsRuntime extends EventEmitter {
  private readonly clusters = new Map<string, string>();
  private readonly taskDefinitions = new Map<string, TaskDefinitionSpec>();
  private readonly images = new Map<string, ImageSpec>();
  private readonly builds = new Map<string, Promise<BuiltImage>>();
  private readonly processes = new Map<string, ChildProcess>();
  /** Milliseconds between StopTask's SIGTERM and SIGKILL, per running task. */
  private readonly stopTimeouts = new Map<string, number>();
  /** Running tasks by id, for the agent endpoints (metadata, credentials). */
  private readonly agents = new Map<string, { task: TaskRecord; container: ContainerDefinition; taskRole?: Principal; td: TaskDefinitionSpec }>();
  private store?: CodeStore;
  readonly tasks: TaskRecord[] = [];
  readonly logs: LogLine[] = [];
  /** Injected container failures (tests). */
  readonly faults: ContainerFault[] = [];

  constructor(
    private readonly options: {
      readonly region: string;
      readonly principals: PrincipalRegistry;
      readonly baseEnv: () => Record<string, string>;
      /** Where image builds go (one folder per image). */
      readonly buildRoot: string;
      /** Resolves a container secret (`valueFrom`: SSM parameter ARN or name) as the execution role. */
      readonly resolveSecret: (valueFrom: string, executionRole: Principal) => string;
      /**
       * Seconds a Fargate task spends PROVISIONING and PENDING (ENI attachment, image pull) before its container
       * starts. AWS publishes no figure; reports range from ~30 s to minutes. Not waited: the time is skipped for
       * the task (clock.ts), so it counts against the heartbeat window and TimeoutSeconds as it would on AWS.
       * @default 60
       */
      readonly startupSeconds?: number;
      /** V8's compile cache for container processes (NODE_COMPILE_CACHE), as for Lambda environments. @default none */
      readonly compileCacheDir?: string;
      /** Where read-only copies of built images go (code-store.ts). @default /var/tmp/local-cloud/code */
      readonly codeStore?: CodeStore;
      /** The base URL of the local ECS agent endpoints (task metadata, task-role credentials) on the front door. */
      readonly agentUrl?: () => string;
    },
  ) {
    super();
  }

  registerCluster(name: string, arn: string): void {
    this.clusters.set(arn, name);
  }

  registerTaskDefinition(spec: TaskDefinitionSpec): void {
    this.taskDefinitions.set(spec.arn, spec);
    if (spec.taskRoleArn) this.options.principals.issue("ecs-task", spec.family, spec.taskRoleArn);
  }

  registerImage(spec: ImageSpec): void {
    this.images.set(spec.imageUri, spec);
  }

  taskDefinitionsList(): TaskDefinitionSpec[] {
    return [...this.taskDefinitions.values()];
  }

  /** Accepts a full ARN, an ARN without revision, `family:revision` or `family` (latest revision). */
  resolveTaskDefinition(ref: string): TaskDefinitionSpec | undefined {
    const direct = this.taskDefinitions.get(ref);
    if (direct) return direct;
    const tail = ref.replace(/^arn:[^:]+:ecs:[^:]+:\d+:task-definition\//, "");
    const [family, revision] = tail.split(":");
    const candidates = [...this.taskDefinitions.values()].filter((t) => t.family === family && (!revision || String(t.revision) === revision));
    return candidates.sort((a, b) => b.revision - a.revision)[0];
  }

  /** A cluster ARN or name; ECS runs in the "default" cluster when none is named. */
  resolveCluster(ref: string | undefined): string | undefined {
    const wanted = ref ?? "default";
    if (this.clusters.has(wanted)) return wanted;
    return [...this.clusters.entries()].find(([, name]) => name === wanted)?.[0];
  }

  /** Builds every registered image ahead of the first task (the cold start of a Fargate task is the image pull). */
  async buildAll(): Promise<void> {
    await Promise.all([...this.images.values()].map((img) => this.build(img)));
  }

  async runTask(input: RunTaskInput, hooks: RunTaskHooks = {}): Promise<TaskRecord> {
    const td = this.resolveTaskDefinition(input.TaskDefinition);
    if (!td) throw new ServiceError("ClientException", `TaskDefinition not found: ${input.TaskDefinition}`, 400);
    const clusterArn = this.resolveCluster(input.Cluster);
    if (!clusterArn) throw new ServiceError("ClusterNotFoundException", `Cluster not found: ${input.Cluster}`, 400);
    if (input.LaunchType === "FARGATE" && td.requiresCompatibilities && !td.requiresCompatibilities.includes("FARGATE")) {
      throw new ServiceError("InvalidParameterException", "Task definition does not support launch_type FARGATE.", 400);
    }
    const essential = td.containerDefinitions.filter((c) => c.essential !== false);
    if (essential.length !== 1) {
      throw new ServiceError("InvalidParameterException", `the local ECS runs task definitions with exactly one essential container (${td.family} has ${essential.length})`, 400);
    }
    const container = essential[0];
    const override = input.Overrides?.ContainerOverrides?.find((o) => o.Name === container.name);
    for (const o of input.Overrides?.ContainerOverrides ?? []) {
      if (!td.containerDefinitions.some((c) => c.name === o.Name)) throw new ServiceError("InvalidParameterException", `Override for container named ${o.Name} is not a container in the TaskDefinition.`, 400);
    }
    const image = this.findImage(container.image);
    if (!image) throw new ServiceError("CannotPullContainerError", `CannotPullContainerError: ${container.image}: not found (no awsx:ecr:Image in the program has this imageUri)`, 400);

    const taskId = randomUUID().replace(/-/g, "");
    const clusterName = clusterArn.split("/").pop();
    let settle!: (t: TaskRecord) => void;
    const task: TaskRecord = {
      taskArn: `arn:${LOCAL_PARTITION}:ecs:${this.options.region}:${LOCAL_ACCOUNT}:task/${clusterName}/${taskId}`,
      taskId,
      clusterArn,
      taskDefinitionArn: td.arn,
      family: td.family,
      startedBy: input.StartedBy,
      startedAt: Date.now(),
      containerName: container.name,
      cpu: td.cpu,
      memory: td.memory,
      overrides: input.Overrides ?? {},
      lastStatus: "PROVISIONING",
      desiredStatus: "RUNNING",
      stderrTail: [],
      notes: [],
      stopped: new Promise<TaskRecord>((resolve) => (settle = resolve)),
    };
    this.tasks.push(task);
    this.emit("task", task);

    void (async () => {
      try {
        const built = await this.build(image);
        if (task.desiredStatus === "STOPPED") {
          this.stop(task, null, task.stoppedReason ?? "Task stopped by user", settle, "UserInitiated");
          return;
        }
        const startup = this.options.startupSeconds ?? 60;
        if (startup > 0) hooks.onTimeSkipped?.(startup * 1000, `Fargate start-up (provisioning, image pull: ${startup} s)`);
        const taskRole = td.taskRoleArn ? this.options.principals.issue("ecs-task", td.family, td.taskRoleArn) : undefined;
        const executionRole = td.executionRoleArn ? this.options.principals.issue("ecs-task", `${td.family}/execution`, td.executionRoleArn) : undefined;
        const store = (this.store ??= this.options.codeStore ?? new CodeStore());
        const imageDir = store.materialize(built.dir, "image");
        const agent = this.options.agentUrl?.();
        this.agents.set(taskId, { task, container, taskRole, td });
        // What ECS gives a Fargate container: its region, the task metadata endpoint (v4, and v3), the task role's
        // credentials through the credentials endpoint (the SDK's container provider fetches them), the execution
        // environment. Nothing of the host's environment, and no ECS_TASK_ARN (ECS sets none).
        const env: Record<string, string> = {
          PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
          ...built.env,
          ...Object.fromEntries((container.environment ?? []).map((e) => [e.name, e.value])),
          ...Object.fromEntries((container.secrets ?? []).map((s) => [s.name, this.options.resolveSecret(s.valueFrom, executionRole ?? this.options.principals.operator)])),
          ...Object.fromEntries((override?.Environment ?? []).map((e) => [e.Name, e.Value])),
          ...this.options.baseEnv(),
          ...(agent
            ? {
                ECS_CONTAINER_METADATA_URI_V4: `${agent}/metadata/${taskId}`,
                ECS_CONTAINER_METADATA_URI: `${agent}/metadata/${taskId}`,
                ...(taskRole ? { AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent}/credentials/${taskId}` } : {}),
              }
            : taskRole
              ? PrincipalRegistry.credentialsEnv(taskRole)
              : {}),
          ...(this.options.compileCacheDir ? { NODE_COMPILE_CACHE: this.options.compileCacheDir } : {}),
          AWS_EXECUTION_ENV: "AWS_ECS_FARGATE",
        };
        const memoryMb = container.memory ?? (td.memory ? Number(td.memory) : undefined);
        const command = this.commandOf(container, override?.Command, { ...built, dir: imageDir });
        const [program, ...args] = command;
        const writable = containerWritablePaths(container, imageDir, store);
        if (writable.tmpdirEnv) env.TMPDIR = writable.tmpdirEnv;
        if (this.options.compileCacheDir) writable.paths.push(this.options.compileCacheDir);
        const nodeArgs =
          program === "node"
            ? [
                ...(memoryMb ? [`--max-old-space-size=${memoryMb}`] : []),
                // The image's file system: read anywhere, write only where the task definition allows it.
                "--permission",
                "--allow-fs-read=*",
                ...writable.paths.map((p) => `--allow-fs-write=${p}`),
                "--disable-warning=ExperimentalWarning",
                ...args,
              ]
            : args;
        const identity = userOf(container);
        const child = spawn(program === "node" ? process.execPath : program, nodeArgs, { cwd: imageDir, env, stdio: ["ignore", "pipe", "pipe"], ...identity.spawn });
        if (identity.note) task.notes.push(identity.note);
        this.processes.set(task.taskArn, child);
        task.lastStatus = "RUNNING";
        this.pipe(task, child.stdout!, "stdout");
        this.pipe(task, child.stderr!, "stderr");
        let killedForMemory = false;
        // Fargate kills a container whose memory passes the task's (or the container's) limit: exit code 137.
        const sampler = memoryMb
          ? ProcessSampler.start(child.pid, 50, (sample) => {
              if (sample.rssMb <= memoryMb) return undefined;
              killedForMemory = true;
              child.kill("SIGKILL");
              return true;
            })
          : undefined;
        child.on("error", (err) => this.stop(task, null, `CannotStartContainerError: ${err.message}`, settle, "TaskFailedToStart"));
        this.stopTimeouts.set(task.taskArn, (container.stopTimeout ?? 30) * 1000);
        child.on("exit", (code, signal) => {
          sampler?.stop();
          this.agents.delete(taskId);
          // A container killed by a signal exits with 128 + the signal's number, as ECS reports it (SIGKILL → 137).
          const exitCode = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : null);
          if (task.desiredStatus === "STOPPED" && !killedForMemory) {
            this.stop(task, exitCode, task.stoppedReason ?? "Task stopped by user", settle, "UserInitiated");
            return;
          }
          const reason = killedForMemory ? "OutOfMemoryError: Container killed due to memory usage" : signal ? `Essential container in task exited (signal ${signal})` : "Essential container in task exited";
          this.stop(task, exitCode, reason, settle);
        });
        this.injectFault(task, JSON.stringify(override?.Environment ?? []), child, hooks);
      } catch (err) {
        this.stop(task, null, `CannotPullContainerError: image build failed: ${(err as Error).message}`, settle, "TaskFailedToStart");
      }
    })();
    return task;
  }

  private injectFault(task: TaskRecord, environment: string, child: ChildProcess, hooks: RunTaskHooks): void {
    const fault = this.faults.find((f) => f.family === task.family && (f.remaining === undefined || f.remaining > 0) && (!f.environmentIncludes || environment.includes(f.environmentIncludes)));
    if (!fault) return;
    if (fault.remaining !== undefined) fault.remaining--;
    const strike = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (fault.kind === "crash") {
        child.kill("SIGKILL");
        return;
      }
      child.kill("SIGSTOP");
      if (fault.kind === "hang") {
        hooks.onTimeSkipped?.(Number.POSITIVE_INFINITY, "the container hangs (frozen by a test)");
        setTimeout(() => child.kill("SIGKILL"), fault.hangMs ?? 30_000).unref();
        return;
      }
      const seconds = fault.stallSeconds ?? 0;
      hooks.onTimeSkipped?.(seconds * 1000, `the container stalls for ${seconds} s (frozen by a test)`);
      child.kill("SIGCONT");
    };
    if (!fault.afterOutputIncludes) {
      strike();
      return;
    }
    const watch = (of: TaskRecord, line: string) => {
      if (of !== task || !line.includes(fault.afterOutputIncludes!)) return;
      this.off("line", watch);
      strike();
    };
    this.on("line", watch);
    child.once("exit", () => this.off("line", watch));
  }

  /**
   * ECS StopTask: the container gets SIGTERM, and SIGKILL after its `stopTimeout` (30 s by default on Fargate) if it
   * is still running; the task stops with stop code UserInitiated and the given reason. A task still provisioning
   * stops before its container starts. Undefined for a task this runtime never ran.
   */
  stopTask(taskArn: string, reason = "Task stopped by user"): TaskRecord | undefined {
    const task = this.tasks.find((t) => t.taskArn === taskArn);
    if (!task || task.lastStatus === "STOPPED" || task.desiredStatus === "STOPPED") return task;
    task.desiredStatus = "STOPPED";
    task.stoppedReason = reason;
    const child = this.processes.get(taskArn);
    if (child) {
      // A frozen container (a test's hang) cannot act on SIGTERM until it runs again.
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), this.stopTimeouts.get(taskArn) ?? 30_000).unref();
    }
    return task;
  }

  private stop(task: TaskRecord, exitCode: number | null, reason: string, settle: (t: TaskRecord) => void, stopCode: NonNullable<TaskRecord["stopCode"]> = "EssentialContainerExited"): void {
    if (task.lastStatus === "STOPPED") return;
    this.processes.delete(task.taskArn);
    this.stopTimeouts.delete(task.taskArn);
    task.lastStatus = "STOPPED";
    task.desiredStatus = "STOPPED";
    task.stopCode = stopCode;
    task.stoppedAt = Date.now();
    task.exitCode = exitCode;
    task.stoppedReason = reason;
    this.emit("task-stopped", task);
    settle(task);
  }

  /** ECS DescribeTasks' view of a task (what `runTask.sync` returns). */
  describe(task: TaskRecord): Record<string, unknown> {
    return {
      TaskArn: task.taskArn,
      ClusterArn: task.clusterArn,
      TaskDefinitionArn: task.taskDefinitionArn,
      LastStatus: task.lastStatus,
      DesiredStatus: task.desiredStatus,
      LaunchType: "FARGATE",
      StartedBy: task.startedBy,
      StartedAt: task.startedAt,
      StoppedAt: task.stoppedAt,
      StoppedReason: task.stoppedReason,
      StopCode: task.stopCode,
      Containers: [{ ExitCode: task.exitCode ?? undefined, LastStatus: task.lastStatus }],
    };
  }

  private findImage(uri: string): ImageSpec | undefined {
    const exact = this.images.get(uri);
    if (exact) return exact;
    // `repo:tag` or `repo@digest` naming the same repository as a registered image.
    const repo = uri.replace(/[@:][^/]*$/, "");
    return [...this.images.values()].find((i) => i.imageUri.replace(/[@:][^/]*$/, "") === repo);
  }

  /**
   * "docker build": runs the Dockerfile folder's build.mjs (exporting `buildWorker(outDir)`, or runnable as
   * `node build.mjs OUTDIR`) into `<buildRoot>/<name>-<digest>/`. The digest covers the Dockerfile, its ignore rules
   * and every file of the build context they keep (image-context.ts): an image whose inputs did not change since an
   * earlier boot is reused, not rebuilt. The command is the Dockerfile's exec-form CMD/ENTRYPOINT.
   */
  private build(image: ImageSpec): Promise<BuiltImage> {
    let pending = this.builds.get(image.imageUri);
    if (!pending) {
      pending = (async () => {
        const dockerfile = path.isAbsolute(image.dockerfile) ? image.dockerfile : path.join(image.context, image.dockerfile);
        const folder = path.dirname(dockerfile);
        const script = path.join(folder, "build.mjs");
        if (!fs.existsSync(script)) throw new Error(`${script} does not exist (the local cloud builds images with their folder's build.mjs)`);
        const text = fs.readFileSync(dockerfile, "utf8");
        const built: BuiltImage = { dir: "", command: dockerCommand(text) ?? ["node", "main.mjs"], env: dockerEnv(text) };
        const outDir = path.join(this.options.buildRoot, `${image.name}-${imageDigest(image.context, dockerfile).slice(0, 16)}`);
        const marker = path.join(outDir, ".built");
        if (fs.existsSync(marker)) return { ...built, dir: outDir };
        fs.mkdirSync(this.options.buildRoot, { recursive: true });
        const staging = fs.mkdtempSync(path.join(this.options.buildRoot, `.staging-${image.name}-`));
        try {
          const mod = (await import(pathToFileURL(script).href)) as { buildWorker?: (outDir: string) => unknown; default?: { buildWorker?: (outDir: string) => unknown } };
          const buildWorker = mod.buildWorker ?? mod.default?.buildWorker;
          if (buildWorker) await buildWorker(staging);
          else await runToCompletion(process.execPath, [script, staging], folder);
          fs.writeFileSync(path.join(staging, ".built"), new Date().toISOString());
          fs.rmSync(outDir, { recursive: true, force: true });
          try {
            fs.renameSync(staging, outDir);
          } catch (err) {
            // Another boot built the same inputs first: same image, keep theirs.
            if (!fs.existsSync(marker)) throw err;
          }
        } finally {
          fs.rmSync(staging, { recursive: true, force: true });
        }
        return { ...built, dir: outDir };
      })();
      this.builds.set(image.imageUri, pending);
      pending.catch(() => this.builds.delete(image.imageUri));
    }
    return pending;
  }

  /** The container's command: task definition entryPoint/command over the image's, paths made local to the build. */
  private commandOf(container: ContainerDefinition, overrideCommand: string[] | undefined, built: BuiltImage): string[] {
    const command = overrideCommand ?? container.command;
    let full = container.entryPoint ? [...container.entryPoint, ...(command ?? [])] : command ?? built.command;
    // Node images (official and distroless) have `node` as their entrypoint: CMD names only the script.
    if (/\.(m|c)?js$/.test(full[0] ?? "")) full = ["node", ...full];
    // The image copies the build output to its WORKDIR; locally the build folder is the working directory.
    return full.map((arg, i) => (i > 0 && !arg.startsWith("-") && fs.existsSync(path.join(built.dir, path.basename(arg))) ? path.join(built.dir, path.basename(arg)) : arg));
  }

  private pipe(task: TaskRecord, stream: NodeJS.ReadableStream, kind: "stdout" | "stderr"): void {
    onLines(stream, (line) => {
      if (kind === "stderr") {
        task.stderrTail.push(line);
        if (task.stderrTail.length > 20) task.stderrTail.shift();
      }
      keepLog(this.logs, this, { source: `${task.family}/${task.taskId}`, stream: kind, line, time: Date.now() });
      this.emit("line", task, line);
    });
  }

  /**
   * The ECS agent's endpoints a container calls (served by the front door under /_local/ecs/): the task metadata
   * endpoint v4 (`${ECS_CONTAINER_METADATA_URI_V4}` for the container, `/task` for the task) and the task role's
   * credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI). Undefined for a path that names no running task.
   */
  agent(kind: "metadata" | "credentials", taskId: string, rest: string): unknown {
    const entry = this.agents.get(taskId);
    if (!entry) return undefined;
    const { task, container, taskRole, td } = entry;
    if (kind === "credentials") {
      if (!taskRole) return undefined;
      return {
        AccessKeyId: taskRole.accessKeyId,
        SecretAccessKey: taskRole.secretAccessKey,
        Token: `local-session-${taskId}`,
        Expiration: new Date(Date.now() + 6 * 3600 * 1000).toISOString(),
        RoleArn: taskRole.roleArn,
      };
    }
    const containerMetadata = {
      DockerId: `${taskId}-0`,
      Name: container.name,
      Image: container.image,
      Labels: { "com.amazonaws.ecs.cluster": task.clusterArn, "com.amazonaws.ecs.task-arn": task.taskArn, "com.amazonaws.ecs.task-definition-family": td.family, "com.amazonaws.ecs.task-definition-version": String(td.revision) },
      DesiredStatus: "RUNNING",
      KnownStatus: task.lastStatus,
      Limits: { CPU: Number(td.cpu ?? 0), Memory: Number(container.memory ?? td.memory ?? 0) },
      Type: "NORMAL",
    };
    if (rest === "" || rest === "/") return containerMetadata;
    if (rest === "/task") {
      return {
        Cluster: task.clusterArn,
        TaskARN: task.taskArn,
        Family: td.family,
        Revision: String(td.revision),
        DesiredStatus: "RUNNING",
        KnownStatus: task.lastStatus,
        Limits: { CPU: Number(td.cpu ?? 0) / 1024, Memory: Number(td.memory ?? 0) },
        LaunchType: "FARGATE",
        Containers: [containerMetadata],
      };
    }
    return undefined;
  }

  async stopAll(): Promise<void> {
    const waits = [...this.processes.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    );
    await Promise.all(waits);
  }
}

/** The exec-form CMD (after ENTRYPOINT) of a Dockerfile's last stage, e.g. ["node", "main.mjs"]. */
export function dockerCommand(dockerfile: string): string[] | undefined {
  let entrypoint: string[] | undefined;
  let cmd: string[] | undefined;
  for (const raw of dockerfile.split(/\r?\n/)) {
    const line = raw.trim();
    if (/^FROM\s/i.test(line)) {
      entrypoint = undefined;
      cmd = undefined;
    }
    const m = line.match(/^(CMD|ENTRYPOINT)\s+(\[.*\])\s*$/i);
    if (!m) continue;
    try {
      const parsed = JSON.parse(m[2]) as string[];
      if (m[1].toUpperCase() === "CMD") cmd = parsed;
      else entrypoint = parsed;
    } catch {
      // shell form is not supported locally; fall back to the default command
    }
  }
  const full = [...(entrypoint ?? []), ...(cmd ?? [])];
  return full.length ? full : undefined;
}

/** The ENV of a Dockerfile's last stage (`ENV K=V K2=V2` and `ENV K V`). */
export function dockerEnv(dockerfile: string): Record<string, string> {
  let env: Record<string, string> = {};
  for (const raw of dockerfile.split(/\r?\n/)) {
    const line = raw.trim();
    if (/^FROM\s/i.test(line)) env = {};
    const m = line.match(/^ENV\s+(.+)$/i);
    if (!m) continue;
    const body = m[1].trim();
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(body)) {
      for (const pair of body.match(/[A-Za-z_][A-Za-z0-9_]*=("[^"]*"|\S*)/g) ?? []) {
        const eq = pair.indexOf("=");
        env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, "$1");
      }
    } else {
      const [key, ...rest] = body.split(/\s+/);
      env[key] = rest.join(" ");
    }
  }
  return env;
}

function runToCompletion(program: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${args[0]} exited with ${code}`))));
  });
}

/**
 * Where a container may write: with `readonlyRootFilesystem`, only its writable mount points (the export worker's
 * `/tmp` volume); otherwise anywhere. The container's `/tmp` is the machine's, as long as the image copies do not live
 * under it (code-store.ts).
 */
function containerWritablePaths(container: ContainerDefinition, imageDir: string, store: CodeStore): { paths: string[]; tmpdirEnv?: string } {
  if (!container.readonlyRootFilesystem) return { paths: ["*"] };
  const mounts = (container.mountPoints ?? []).filter((m) => !m.readOnly).map((m) => m.containerPath);
  const paths: string[] = [];
  let tmpdirEnv: string | undefined;
  for (const mount of mounts) {
    if (mount === "/tmp") {
      const tmp = writableDirFor(store, `task-${path.basename(imageDir)}`);
      paths.push(tmp.dir);
      tmpdirEnv = tmp.tmpdirEnv;
    }
    // Other mount points have no local counterpart: writes there are refused, as on a missing volume.
  }
  return { paths, tmpdirEnv };
}

/**
 * The container's `user` (`uid[:gid]`): switched to when this process may (running as root), as ECS does; otherwise
 * the task runs as the current user, with a note in the task record.
 */
function userOf(container: ContainerDefinition): { spawn: { uid?: number; gid?: number }; note?: string } {
  if (!container.user) return { spawn: {} };
  const [uid, rawGid] = container.user.split(":").map(Number);
  if (!Number.isInteger(uid)) return { spawn: {}, note: `user "${container.user}" is not numeric: ran as the current user` };
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    return { spawn: {}, note: `ran as uid ${process.getuid?.() ?? "?"}, not ${container.user}: switching user needs root` };
  }
  const gid = Number.isInteger(rawGid) ? rawGid : uid;
  // The container's Node is this machine's (an image has its own): a checkout under a folder closed to other users
  // (a 0700 temporary folder) would make every task fail to start, for a reason no ECS task has.
  if (!mayExecute(process.execPath, uid!, gid!)) {
    return { spawn: {}, note: `ran as uid 0, not ${container.user}: that user cannot reach ${process.execPath} (a folder on the way is closed to it)` };
  }
  return { spawn: { uid, gid } };
}

/** Whether `uid`:`gid` may run `file`: every folder on its real path searchable and the file executable for them. */
export function mayExecute(file: string, uid: number, gid: number): boolean {
  const allows = (stat: fs.Stats) => ((stat.mode >> (stat.uid === uid ? 6 : stat.gid === gid ? 3 : 0)) & 0o1) !== 0;
  const real = fs.realpathSync(file);
  for (let dir = path.dirname(real); ; dir = path.dirname(dir)) {
    if (!allows(fs.statSync(dir))) return false;
    if (dir === path.dirname(dir)) break;
  }
  return allows(fs.statSync(real));
}
