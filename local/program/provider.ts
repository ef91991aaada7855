import { fork } from "node:child_process";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { StateMachineDefinition } from "aws-local-stepfunctions";
import { ContainerDefinition, EcsRuntime } from "../runtimes/ecs/runtime";
import { LambdaRuntime, type FunctionSpec } from "../runtimes/lambda/runtime";
import { PrincipalRegistry } from "../iam/principals";
import type { HostSetup, RegistrationArgs } from "./host";
import { GraphCache, substitute } from "./graph-cache";
import { invokeResult, LOCAL_PARTITION, resourceState } from "./resource-state";
import { LocalDynamoDb } from "../services/dynamodb";
import { LocalS3 } from "../services/s3";
import { LocalSns } from "../services/sns";
import { LocalSqs } from "../services/sqs";
import { LocalKms } from "../services/kms";
import { LocalSsm } from "../services/ssm";
import { SfnRuntime } from "../runtimes/step-functions/runtime";
import { StackConfig } from "./stack-config";
import { localStatePath } from "../state-dir";

/** One resource the program registered, with the state the provider answered. */
export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: Record<string, any>;
  readonly id: string;
  readonly state: Record<string, any>;
  /** True when the local cloud stood up something for it (a table, a function, ...); false when only recorded. */
  readonly provisioned: boolean;
}

export interface ProviderServices {
  readonly region: string;
  readonly projectDir: string;
  readonly principals: PrincipalRegistry;
  readonly dynamodb: LocalDynamoDb;
  readonly s3: LocalS3;
  readonly sns: LocalSns;
  readonly sqs: LocalSqs;
  readonly ssm: LocalSsm;
  readonly kms: LocalKms;
  readonly lambda: LambdaRuntime;
  readonly sfn: SfnRuntime;
  readonly ecs: EcsRuntime;
}

/** An inline policy as the program attached it to a role (input for the IAM check to come). */
export interface RolePolicyRecord {
  readonly roleName: string;
  readonly policyName: string;
  readonly document: { Statement?: unknown[] } | string;
}

/** A resource-based policy the program attached to a bucket, topic or queue, by the ARN of the resource it governs. */
export interface ResourcePolicyRecord {
  /** The policy resource's type token, e.g. `aws:s3/bucketPolicy:BucketPolicy`. */
  readonly type: string;
  /** The policy resource's name in the program. */
  readonly name: string;
  /** The bucket, topic or queue ARN; a bucket's policy also governs the objects under `<arn>/`. */
  readonly resourceArn: string;
  readonly document: { Statement?: unknown[] } | string;
}

/**
 * The local provider: answers the Pulumi program's registrations (through the mocks the program host sets) by
 * provisioning each resource in the local cloud according to its type, and computes the state AWS would return with
 * resourceState(). It knows AWS resource types and their inputs — nothing about this program's resources.
 */
export class LocalProvider {
  readonly resources: RegisteredResource[] = [];
  readonly calls: Array<{ token: string; inputs: unknown }> = [];
  readonly roles = new Map<string, { name: string; arn: string; assumeRolePolicy?: string }>();
  readonly rolePolicies: RolePolicyRecord[] = [];
  readonly resourcePolicies: ResourcePolicyRecord[] = [];
  private readonly provisionedConcurrency: Array<{ functionName: string; count: number }> = [];

  constructor(private readonly services: ProviderServices) {}

  /** Resources of one type token, e.g. `aws:dynamodb/table:Table`. */
  ofType(type: string): RegisteredResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  async register(args: RegistrationArgs): Promise<{ id: string; state: Record<string, any> }> {
    const { id, state } = resourceState({ type: args.type, name: args.name, inputs: args.inputs }, this.services.region);
    // Remote components (awsx:ecr:Image) register with custom=false like the program's own components; the type
    // decides, and component types have no case below.
    const provisioned = await this.provision(args.type, args.inputs, state, args.name);
    this.resources.push({ type: args.type, name: args.name, custom: args.custom, inputs: args.inputs, id, state, provisioned });
    return { id, state };
  }

  call(token: string, inputs: unknown): Record<string, unknown> {
    this.calls.push({ token, inputs });
    return invokeResult(token, this.services.region);
  }

  /** Work that must wait until every registration is in (warm environments for provisioned concurrency). */
  async afterDeploy(): Promise<void> {
    await Promise.all(this.provisionedConcurrency.map((p) => this.services.lambda.prewarm(p.functionName, p.count)));
  }

  /** A resource has one policy: a later one for the same resource replaces it, as PutBucketPolicy / SetTopicAttributes do. */
  private recordResourcePolicy(type: string, name: string, resourceArn: string, policy: unknown): boolean {
    const record = { type, name, resourceArn, document: (parseJson(policy) ?? policy) as ResourcePolicyRecord["document"] };
    const prior = this.resourcePolicies.findIndex((p) => p.resourceArn === resourceArn);
    if (prior >= 0) this.resourcePolicies.splice(prior, 1, record);
    else this.resourcePolicies.push(record);
    return true;
  }

  private async provision(type: string, inputs: Record<string, any>, state: Record<string, any>, name: string): Promise<boolean> {
    const s = this.services;
    switch (type) {
      case "aws:dynamodb/table:Table":
        await s.dynamodb.createTable(state.name, inputs);
        return true;
      case "aws:s3/bucket:Bucket":
      case "aws:s3/bucketV2:BucketV2":
        await s.s3.createBucket(state.bucket);
        return true;
      case "aws:ssm/parameter:Parameter":
        s.ssm.put(state.name, inputs.type ?? "String", String(inputs.value ?? inputs.insecureValue ?? ""), inputs.keyId);
        return true;
      case "aws:sns/topic:Topic":
        s.sns.createTopic(state.arn, state.name, !!inputs.fifoTopic, inputs.kmsMasterKeyId || undefined);
        return true;
      case "aws:kms/key:Key":
        s.kms.registerKey(state.keyId, state.arn, inputs.policy || undefined);
        return true;
      case "aws:kms/alias:Alias":
        s.kms.registerAlias(String(inputs.name), String(inputs.targetKeyId).replace(/^.*:key\//, ""));
        return true;
      case "aws:sqs/queue:Queue":
        s.sqs.createQueue({
          url: state.url,
          arn: state.arn,
          name: state.name,
          fifo: !!inputs.fifoQueue,
          contentBasedDeduplication: !!inputs.contentBasedDeduplication,
          visibilityTimeoutSeconds: inputs.visibilityTimeoutSeconds,
          delaySeconds: inputs.delaySeconds,
          maxMessageSize: inputs.maxMessageSize,
        });
        return true;
      case "aws:iam/role:Role":
        this.roles.set(state.name, { name: state.name, arn: state.arn, assumeRolePolicy: inputs.assumeRolePolicy });
        return true;
      case "aws:iam/rolePolicy:RolePolicy":
        this.rolePolicies.push({ roleName: String(inputs.role).replace(/^.*:role\/(?:.*\/)?/, ""), policyName: state.name, document: parseJson(inputs.policy) ?? inputs.policy });
        return true;
      case "aws:s3/bucketPolicy:BucketPolicy":
        return this.recordResourcePolicy(type, name, `arn:${LOCAL_PARTITION}:s3:::${inputs.bucket}`, inputs.policy);
      case "aws:sns/topicPolicy:TopicPolicy":
        return this.recordResourcePolicy(type, name, String(inputs.arn), inputs.policy);
      case "aws:sqs/queuePolicy:QueuePolicy":
        return this.recordResourcePolicy(type, name, s.sqs.queueArnFor(String(inputs.queueUrl)), inputs.policy);
      case "aws:lambda/function:Function":
        s.lambda.register(functionSpecOf(state, inputs, s.projectDir));
        return true;
      case "aws:lambda/alias:Alias":
        s.lambda.registerAlias({ functionName: String(inputs.functionName).replace(/^.*:function:/, ""), name: inputs.name, functionVersion: String(inputs.functionVersion ?? "$LATEST"), description: inputs.description });
        return true;
      case "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig":
        this.provisionedConcurrency.push({ functionName: String(inputs.functionName).replace(/^.*:function:/, ""), count: inputs.provisionedConcurrentExecutions ?? 0 });
        return true;
      case "aws:sfn/stateMachine:StateMachine": {
        const definition = parseJson(inputs.definition) as StateMachineDefinition | undefined;
        if (!definition) throw new Error(`state machine ${state.name}: \`definition\` is not valid JSON`);
        s.sfn.register({
          name: state.name,
          arn: state.arn,
          definition,
          roleArn: inputs.roleArn,
          type: inputs.type ?? "STANDARD",
          tags: stringMap(inputs.tags),
          loggingConfiguration: inputs.loggingConfiguration,
          tracingEnabled: !!inputs.tracingConfiguration?.enabled,
          creationDate: Date.now(),
        });
        return true;
      }
      case "aws:ecs/cluster:Cluster":
        s.ecs.registerCluster(state.name, state.arn);
        return true;
      case "aws:ecs/taskDefinition:TaskDefinition": {
        const containerDefinitions = parseJson(inputs.containerDefinitions) as ContainerDefinition[] | undefined;
        if (!Array.isArray(containerDefinitions)) throw new Error(`task definition ${state.family}: \`containerDefinitions\` is not a JSON array`);
        s.ecs.registerTaskDefinition({
          family: state.family,
          revision: state.revision,
          arn: state.arn,
          containerDefinitions,
          cpu: inputs.cpu,
          memory: inputs.memory,
          taskRoleArn: inputs.taskRoleArn,
          executionRoleArn: inputs.executionRoleArn,
          requiresCompatibilities: inputs.requiresCompatibilities,
        });
        return true;
      }
      case "awsx:ecr:Image": {
        // A relative context or Dockerfile is relative to the program's folder, where the Pulumi CLI runs it.
        const context = path.resolve(s.projectDir, String(inputs.context ?? "."));
        const dockerfile = path.resolve(context, String(inputs.dockerfile ?? "Dockerfile"));
        s.ecs.registerImage({ name: path.basename(path.dirname(dockerfile)), imageUri: state.imageUri, context, dockerfile });
        return true;
      }
      default:
        return false;
    }
  }
}

export interface DeployResult {
  readonly outputs: Record<string, unknown>;
  readonly durationMs: number;
  /** True when the graph was replayed from the cache (the program did not run). */
  readonly cached?: boolean;
  /** Of `durationMs`, the time spent waiting for another run of the program to record the graph. */
  readonly waitedMs?: number;
}

/** What answers the program host: the local provider (provisions), or the offline plan (only records). */
export interface ProgramRegistrar {
  register(args: RegistrationArgs): Promise<{ id: string; state: Record<string, any> }>;
  call(token: string, inputs: unknown): Record<string, unknown>;
}

export interface DeployOptions {
  readonly entry: string;
  readonly projectDir: string;
  readonly config: StackConfig;
  readonly quiet?: boolean;
}

/** A resource as the program registered it, with the state resourceState() computes for it: nothing provisioned. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: Record<string, any>;
  readonly state: Record<string, any>;
}

/**
 * The program's resource graph without provisioning anything (`npm run plan`, serve --watch): every registration
 * answered with the state resourceState() computes, the graph replayed from the cache when nothing changed.
 */
export async function recordProgram(options: DeployOptions & { readonly substitutable?: readonly string[] }): Promise<{ resources: RecordedResource[]; outputs: Record<string, unknown> }> {
  const region = options.config.region;
  const resources: RecordedResource[] = [];
  const recorder: ProgramRegistrar = {
    async register(args) {
      const result = resourceState({ type: args.type, name: args.name, inputs: args.inputs }, region);
      resources.push({ type: args.type, name: args.name, custom: args.custom, inputs: args.inputs as Record<string, any>, state: result.state });
      return result;
    },
    call: (token) => invokeResult(token, region),
  };
  const { outputs } = await deployProgramCached(recorder, options);
  return { resources, outputs };
}

/**
 * Runs the program, or replays the graph it registered last time when nothing it reads has changed (graph-cache.ts).
 * `substitutable`: config keys whose values change per boot (endpoints the local cloud picks), left out of the key.
 */
export async function deployProgramCached(registrar: ProgramRegistrar, options: DeployOptions & { readonly substitutable?: readonly string[] }): Promise<DeployResult> {
  const started = Date.now();
  const cache = new GraphCache(localStatePath(options.projectDir, "cache", "graphs"));
  const substitutable = options.substitutable ?? [];
  const key = cache.key({ projectDir: options.projectDir, entry: options.entry, stack: options.config.stack, config: options.config.values, secretKeys: options.config.secretKeys, substitutable });
  const claim = await cache.readOrClaim(key);
  if ("value" in claim) {
    const recorded = claim.value;
    const pairs = substitutable.map((k) => [recorded.substitutions[k] ?? "", options.config.values[k] ?? ""] as const);
    for (const registration of recorded.registrations) await registrar.register(substitute(registration, pairs));
    for (const call of recorded.calls) registrar.call(call.token, substitute(call.inputs, pairs));
    return { outputs: substitute(recorded.outputs, pairs), durationMs: Date.now() - started, cached: true, waitedMs: claim.waitedMs };
  }
  const registrations: RegistrationArgs[] = [];
  const calls: Array<{ token: string; inputs: unknown }> = [];
  const recording: ProgramRegistrar = {
    register: (args) => {
      registrations.push(args);
      return registrar.register(args);
    },
    call: (token, inputs) => {
      calls.push({ token, inputs });
      return registrar.call(token, inputs);
    },
  };
  try {
    const result = await deployProgram(recording, options);
    cache.write(key, { registrations, calls, outputs: result.outputs, substitutions: Object.fromEntries(substitutable.map((k) => [k, options.config.values[k] ?? ""])) });
    return { ...result, cached: false };
  } finally {
    claim.release();
  }
}

/**
 * Runs the program (`entry`) in a child process under Pulumi mocks that forward every registration to `provider`.
 * Resolves with the program's exported outputs once every registration has been answered.
 */
export function deployProgram(provider: ProgramRegistrar, options: DeployOptions): Promise<DeployResult> {
  const started = Date.now();
  const setup: HostSetup = {
    entry: path.resolve(options.projectDir, options.entry),
    project: options.config.project,
    stack: options.config.stack,
    config: options.config.values,
    secretKeys: options.config.secretKeys,
  };
  const tsxLoader = pathToFileURL(require.resolve("tsx")).href;
  const child = fork(path.join(__dirname, "host.ts"), [], {
    cwd: options.projectDir,
    execArgv: ["--import", tsxLoader],
    // V8's compile cache: the Pulumi SDK and the program are compiled once per checkout, not per program run.
    env: { ...process.env, LOCAL_PROGRAM_SETUP: JSON.stringify(setup), NODE_COMPILE_CACHE: localStatePath(options.projectDir, "compile-cache") },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const output: string[] = [];
  const capture = (chunk: Buffer) => {
    output.push(chunk.toString("utf8"));
    if (!options.quiet) process.stderr.write(chunk);
  };
  child.stdout!.on("data", capture);
  child.stderr!.on("data", capture);
  return new Promise<DeployResult>((resolve, reject) => {
    let settled = false;
    const done = (err: Error | undefined, outputs?: Record<string, unknown>) => {
      if (settled) return;
      settled = true;
      if (err) {
        child.kill("SIGKILL");
        reject(err);
      } else resolve({ outputs: outputs ?? {}, durationMs: Date.now() - started });
    };
    child.on("message", (msg: any) => {
      if (msg?.kind === "register") {
        provider.register(msg.args).then(
          (result) => child.connected && child.send({ kind: "reply", seq: msg.seq, result }),
          (err: Error) => child.connected && child.send({ kind: "reply", seq: msg.seq, error: `provisioning ${msg.args.type} "${msg.args.name}" failed: ${err.message}` }),
        );
      } else if (msg?.kind === "call") {
        child.send({ kind: "reply", seq: msg.seq, result: provider.call(msg.token, msg.inputs) });
      } else if (msg?.kind === "done") {
        done(undefined, msg.outputs);
      } else if (msg?.kind === "failed") {
        done(new Error(`the program failed under the local provider: ${msg.error}`));
      }
    });
    child.on("exit", (code) => {
      if (!settled) done(new Error(`the program host exited with code ${code} before finishing:\n${output.join("").slice(-4000)}`));
    });
  });
}

function parseJson(value: unknown): any {
  if (typeof value !== "string") return value && typeof value === "object" ? value : undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

function stringMap(value: unknown): Record<string, string> {
  if (!value || typeof value !== "object") return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, String(v)]));
}

/** The Lambda runtime's spec of an `aws:lambda/function:Function` registration (its inputs and computed state). */
export function functionSpecOf(state: Record<string, any>, inputs: Record<string, any>, projectDir: string): FunctionSpec {
  const code = inputs.code as { $kind?: string; path?: string } | undefined;
  if (code?.$kind !== "FileArchive" || !code.path) {
    throw new Error(`function ${state.name}: the local Lambda runtime runs code given as a FileArchive of a folder (got ${code?.$kind ?? "no code"})`);
  }
  return {
    name: state.name,
    arn: state.arn,
    handler: inputs.handler ?? "index.handler",
    runtime: inputs.runtime ?? "nodejs24.x",
    memorySize: inputs.memorySize ?? 128,
    timeoutSeconds: inputs.timeout ?? 3,
    environment: stringMap(inputs.environment?.variables),
    roleArn: inputs.role,
    codeDir: path.resolve(projectDir, code.path),
    version: inputs.publish ? String(state.version ?? "1") : "$LATEST",
    logGroup: inputs.loggingConfig?.logGroup ?? `/aws/lambda/${state.name}`,
    logFormat: inputs.loggingConfig?.logFormat,
    applicationLogLevel: inputs.loggingConfig?.applicationLogLevel,
    reservedConcurrency: typeof inputs.reservedConcurrentExecutions === "number" && inputs.reservedConcurrentExecutions > 0 ? inputs.reservedConcurrentExecutions : undefined,
    description: inputs.description,
    architectures: inputs.architectures,
    tracingMode: inputs.tracingConfig?.mode,
    tags: stringMap(inputs.tags),
    lastModified: Date.now(),
  };
}
