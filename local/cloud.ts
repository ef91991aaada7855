import * as DynamoDb from "@aws-sdk/client-dynamodb";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import { LocalClock } from "./clock";
import { PersistDir } from "./persist";
import { EcsRuntime } from "./runtimes/ecs/runtime";
import { ECS_AGENT_PATH, FrontDoor } from "./front-door";
import { IamEnforcer, IamLog, iamLog } from "./iam/enforcement";
import { LambdaRuntime } from "./runtimes/lambda/runtime";
import { PaymentGateway, SANDBOX_API_KEY, startPaymentGateway } from "./payment-gateway/server";
import { deployProgramCached, LocalProvider } from "./program/provider";
import { AccessDeniedError, Principal, PrincipalRegistry } from "./iam/principals";
import { LocalDynamoDb } from "./services/dynamodb";
import { LocalS3 } from "./services/s3";
import { LocalSns } from "./services/sns";
import { LocalSqs } from "./services/sqs";
import { ServiceError } from "./services/errors";
import { LocalKms, kmsDeniedMessage } from "./services/kms";
import { LocalSsm, type ParameterRecord } from "./services/ssm";
import { StepFunctionsApi } from "./services/step-functions";
import { EcsApi } from "./services/ecs";
import { LambdaApi } from "./services/lambda";
import { collectStates, ExecutionRecord, SfnRuntime } from "./runtimes/step-functions/runtime";
import { loadStackConfig, PAYMENT_GATEWAY_SECRET_KEY, PAYMENT_GATEWAY_URL_KEY, readProjectName, StackConfig, substitutableKeys } from "./program/stack-config";
import { localStatePath } from "./state-dir";

/** The repository root (where index.ts and Pulumi.<stack>.yaml live). */
export const PROJECT_DIR = path.resolve(__dirname, "..");


export interface LocalCloudOptions {
  /** @default the repository root */
  readonly projectDir?: string;
  /** The Pulumi program, relative to projectDir. @default "index.ts" */
  readonly entry?: string;
  /** @default "dev" */
  readonly stack?: string;
  /** Stack config values to replace (full keys, e.g. `order-pipeline:exportSecondsPerPagePdf`), as `pulumi config set` would. */
  readonly configOverrides?: Record<string, string>;
  /** How long the sandbox gateway holds a `tok_timeout` charge. @default 30000 */
  readonly gatewayHangMs?: number;
  /**
   * Multiplies Retry intervals and Wait durations (1 = as defined); heartbeat windows and timeouts are never scaled
   * (see clock.ts). @default 1
   */
  readonly timeScale?: number;
  /**
   * Keep V8's compiled code of function bundles and images across cold starts (`.local/compile-cache`): faster cold
   * starts, but init times below Lambda's. The tests turn it on. @default false
   */
  readonly compileCache?: boolean;
  /** Seconds a Fargate task takes to start (provisioning, image pull), skipped for the task, not waited. @default 60 */
  readonly fargateStartupSeconds?: number;
  /** Execution environments per function on this machine. @default 4 */
  readonly maxEnvironmentsPerFunction?: number;
  /**
   * Write a V8 CPU profile of every function environment into this folder as it ends; such environments run without
   * Node's permission model, which refuses the write (bench/local-orders.ts --profile-functions). @default none
   */
  readonly functionCpuProfileDir?: string;
  /** Build container images at boot rather than at the first task. @default true */
  readonly buildImages?: boolean;
  /** Print the program's own output. @default false */
  readonly verbose?: boolean;
  /** The front door's port on 127.0.0.1 (0: any free one). A port in use fails the boot with code EADDRINUSE. @default 0 */
  readonly port?: number;
  /**
   * Keep tables, objects, queue messages and ended executions in this folder across boots (`serve --persist`,
   * local/persist.ts); without it every boot starts empty. @default none
   */
  readonly persistDir?: string;
  /**
   * Decide every request of a function, task or state machine against its role's generated identity policy
   * (AccessDenied otherwise). The operator is always allowed. @default true
   */
  readonly enforceIam?: boolean;
}

export interface CoverageReport {
  readonly stateMachine: string;
  readonly states: string[];
  readonly entered: string[];
  readonly missing: string[];
  readonly percent: number;
}

/** A running local cloud, derived from the resource graph of the program. */
export class LocalCloud {
  readonly principals = new PrincipalRegistry();
  readonly clock: LocalClock;
  readonly dynamodb: LocalDynamoDb;
  readonly s3: LocalS3;
  readonly sns: LocalSns;
  readonly sqs: LocalSqs;
  readonly ssm: LocalSsm;
  readonly kms: LocalKms;
  readonly frontDoor: FrontDoor;
  readonly lambda: LambdaRuntime;
  readonly ecs: EcsRuntime;
  readonly sfn: SfnRuntime;
  readonly provider: LocalProvider;
  /** The IAM check every request goes through (see iam-enforcement.ts). */
  readonly iam: IamEnforcer;
  gateway?: PaymentGateway;
  config!: StackConfig;
  /** The program's exported stack outputs. */
  outputs: Record<string, unknown> = {};
  deployMs = 0;
  /** True when the boot replayed the cached resource graph instead of running the program. */
  graphCached = false;
  private readonly dynamoClients = new Map<string, DynamoDb.DynamoDBClient>();
  private readonly persist?: PersistDir;
  /** Set once the boot has restored what --persist kept: only then may a stop write the state back. */
  private restored = false;
  /** Unsigned routes under /_local/ on the front door (set by `serve` for its control endpoint). */
  localRoutes?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

  constructor(
    readonly region: string,
    readonly projectDir: string,
    private readonly options: LocalCloudOptions,
  ) {
    this.clock = new LocalClock(options.timeScale ?? 1);
    this.persist = options.persistDir ? new PersistDir(options.persistDir) : undefined;
    this.dynamodb = new LocalDynamoDb(region, this.persist?.dynamodb);
    this.s3 = new LocalS3(region, this.persist?.s3);
    this.sns = new LocalSns();
    this.sqs = new LocalSqs(region);
    this.ssm = new LocalSsm(region);
    this.kms = new LocalKms(region);
    this.ssm.decrypt = (caller, parameter) => this.kmsDecryptParameter(caller, parameter, (e) => new ServiceError("AccessDeniedException", kmsDeniedMessage(e), 400));
    this.sns.encrypt = (publisher, topic) => {
      const key = this.kms.resolve(topic.kmsMasterKeyId, "sns");
      try {
        // SNS generates a data key to encrypt the message and decrypts it to check the key works (SNS developer guide,
        // "Encryption at rest": the publisher needs both).
        this.kms.authorize(this.principals, publisher, "kms:GenerateDataKey", key, "sns");
        this.kms.authorize(this.principals, publisher, "kms:Decrypt", key, "sns");
      } catch (e) {
        if (e instanceof AccessDeniedError) throw new ServiceError("KMSAccessDenied", kmsDeniedMessage(e), 400);
        throw e;
      }
    };
    const baseEnv = () => ({ AWS_REGION: region, AWS_DEFAULT_REGION: region, ...this.frontDoor.endpointEnv() });
    const compileCacheDir = options.compileCache ? localStatePath(projectDir, "compile-cache") : undefined;
    this.lambda = new LambdaRuntime({ principals: this.principals, baseEnv, maxEnvironmentsPerFunction: options.maxEnvironmentsPerFunction, compileCacheDir, cpuProfileDir: options.functionCpuProfileDir });
    this.ecs = new EcsRuntime({
      region,
      principals: this.principals,
      baseEnv,
      buildRoot: localStatePath(projectDir, "images"),
      startupSeconds: options.fargateStartupSeconds,
      agentUrl: () => `${this.frontDoor.url}${ECS_AGENT_PATH}`,
      compileCacheDir,
      resolveSecret: (valueFrom, executionRole) => this.taskSecret(valueFrom, executionRole),
    });
    this.sfn = new SfnRuntime({
      region,
      principals: this.principals,
      lambda: this.lambda,
      ecs: this.ecs,
      sqs: this.sqs,
      sns: this.sns,
      dynamodb: (principal, operation, input) => this.callDynamoDb(principal, operation, input),
      clock: this.clock,
    });
    const sfnApi = new StepFunctionsApi(this.sfn);
    this.frontDoor = new FrontDoor({
      region,
      principals: this.principals,
      dynamodb: this.dynamodb,
      s3: this.s3,
      sns: this.sns,
      sqs: this.sqs,
      ssm: this.ssm,
      sfn: { api: (op, input, p) => sfnApi.handle(op, input, p), describe: (op, input) => sfnApi.describe(op, input) },
      ecsAgent: (kind, taskId, rest) => this.ecs.agent(kind, taskId, rest),
      endpoints: { lambda: new LambdaApi(this.lambda, region), ecs: new EcsApi(this.ecs) },
      localRoutes: (req, res, url) => this.localRoutes?.(req, res, url) ?? false,
    });
    this.provider = new LocalProvider({
      region,
      projectDir,
      principals: this.principals,
      dynamodb: this.dynamodb,
      s3: this.s3,
      sns: this.sns,
      sqs: this.sqs,
      ssm: this.ssm,
      kms: this.kms,
      lambda: this.lambda,
      sfn: this.sfn,
      ecs: this.ecs,
    });
    this.iam = new IamEnforcer(this.provider.rolePolicies, { region, resourcePolicies: this.provider.resourcePolicies });
    if (options.enforceIam !== false) this.principals.authorizer = this.iam.authorize;
  }

  /**
   * The value of a task definition's secret (`valueFrom`: a parameter name or ARN), read as ECS does before the
   * container starts: with the task execution role's ssm:GetParameters and, for a SecureString, its kms:Decrypt on the
   * parameter's key. A failure stops the task as ECS reports it (ResourceInitializationError).
   */
  taskSecret(valueFrom: string, executionRole: Principal): string {
    const parameter = this.ssm.get(valueFrom);
    try {
      this.principals.check({ principal: executionRole, service: "ssm", action: "ssm:GetParameters", resource: parameter?.arn ?? valueFrom });
      if (!parameter) throw new Error(`parameter ${valueFrom} not found`);
      if (parameter.type === "SecureString") this.kmsDecryptParameter(executionRole, parameter, (e) => new Error(kmsDeniedMessage(e)));
      return parameter.value;
    } catch (e) {
      throw new Error(`ResourceInitializationError: unable to pull secrets or registry auth: unable to retrieve secrets from ssm: ${(e as Error).message}`);
    }
  }

  /**
   * SSM decrypts a SecureString with the caller's own permission on its key (`kms:Decrypt` via SSM, the parameter's
   * ARN as encryption context); a denial is mapped to what the caller's service reports.
   */
  private kmsDecryptParameter(caller: Principal, parameter: ParameterRecord, denied: (e: AccessDeniedError) => Error): void {
    try {
      this.kms.authorize(this.principals, caller, "kms:Decrypt", this.kms.resolve(parameter.keyId, "ssm"), "ssm", { PARAMETER_ARN: parameter.arn });
    } catch (e) {
      throw e instanceof AccessDeniedError ? denied(e) : e;
    }
  }

  /** Who was granted what and every access decided so far, for `iam-report` (see iam-enforcement.ts). */
  iamLog(run: string): IamLog {
    return iamLog({ run, stack: this.config.stack, principals: this.principals.all(), enforcer: this.iam, accessLog: this.principals.accessLog });
  }

  /** Region, endpoint and credentials for an SDK client acting as `principal` (the operator by default). */
  clientConfig(principal: Principal = this.principals.operator): { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } } {
    return { region: this.region, endpoint: this.frontDoor.url, credentials: { accessKeyId: principal.accessKeyId, secretAccessKey: principal.secretAccessKey } };
  }

  /** A stack output by name (what `pulumi stack output NAME` would print). */
  output<T = string>(name: string): T {
    if (!(name in this.outputs)) throw new Error(`the program exports no output "${name}" (it exports: ${Object.keys(this.outputs).join(", ") || "nothing"})`);
    return this.outputs[name] as T;
  }

  /** Starts an execution of a state machine (ARN or name) as the operator would with StartExecution. */
  startExecution(stateMachine: string, input: unknown, name?: string): ExecutionRecord {
    const sm = this.sfn.find(stateMachine);
    if (!sm) throw new Error(`no state machine ${stateMachine}`);
    this.principals.check({ principal: this.principals.operator, service: "states", action: "states:StartExecution", resource: sm.arn });
    return this.sfn.startExecution(sm.arn, input, name);
  }

  /** Runs an execution to its end. */
  run(stateMachine: string, input: unknown, name?: string): Promise<ExecutionRecord> {
    return this.startExecution(stateMachine, input, name).done;
  }

  /** The function a Task state invokes (its Resource or Parameters.FunctionName), read from the deployed definition. */
  functionOfState(stateMachine: string, stateName: string): string {
    const sm = this.sfn.find(stateMachine);
    const state = sm && collectStates(sm.definition).find(([name]) => name === stateName)?.[1];
    if (!state) throw new Error(`state machine ${stateMachine} has no state ${stateName}`);
    const ref = String(state.Resource).includes(":::lambda:invoke") ? state.Parameters?.FunctionName : state.Resource;
    const target = ref ? this.lambda.resolve(String(ref)) : undefined;
    if (!target) throw new Error(`state ${stateName} does not invoke a function of this program`);
    return target.spec.name;
  }

  /** States of every state machine's definition vs. the states entered by the executions so far. */
  stateCoverage(): CoverageReport[] {
    return this.sfn.stateMachines().map((sm) => {
      const states = collectStates(sm.definition).map(([name]) => name);
      const seen = new Set<string>();
      for (const e of this.sfn.executions.values()) if (e.stateMachineArn === sm.arn) for (const s of e.path) seen.add(s);
      const entered = states.filter((s) => seen.has(s));
      return { stateMachine: sm.name, states, entered, missing: states.filter((s) => !seen.has(s)), percent: states.length ? (100 * entered.length) / states.length : 100 };
    });
  }

  private async callDynamoDb(principal: Principal, operation: string, input: Record<string, unknown>): Promise<unknown> {
    let client = this.dynamoClients.get(principal.accessKeyId);
    if (!client) {
      client = new DynamoDb.DynamoDBClient(this.clientConfig(principal));
      this.dynamoClients.set(principal.accessKeyId, client);
    }
    const Command = (DynamoDb as unknown as Record<string, new (input: unknown) => DynamoDb.GetItemCommand>)[`${operation}Command`];
    if (!Command) throw Object.assign(new Error(`unknown DynamoDB operation ${operation}`), { name: "ValidationException" });
    const { $metadata: _ignored, ...out } = (await client.send(Command ? new Command(input) : (undefined as never))) as unknown as Record<string, unknown>;
    return out;
  }

  /** Config values the local cloud sets over the stack file's (the options' overrides, the sandbox gateway's URL). */
  private bootOverrides: Record<string, string> = {};

  private configWith(base: StackConfig): StackConfig {
    const overrides = this.bootOverrides;
    return { ...base, values: { ...base.values, ...overrides }, notes: [...base.notes, ...Object.entries(overrides).map(([k, v]) => `${k}: overridden for the local cloud (${v})`)] };
  }

  /** The stack's config read again from its file, with the same overrides as at boot (serve --watch). */
  reloadConfig(): StackConfig {
    this.config = this.configWith(loadStackConfig({ projectDir: this.projectDir, stack: this.options.stack }));
    return this.config;
  }

  async boot(): Promise<void> {
    const o = this.options;
    let mark = Date.now();
    const phase = (name: string, note?: string) => {
      const now = Date.now();
      this.bootPhases.push({ name, ms: now - mark, ...(note ? { note } : {}) });
      mark = now;
    };
    const base = loadStackConfig({ projectDir: this.projectDir, stack: o.stack });
    const project = base.project;
    const overrides: Record<string, string> = { ...(o.configOverrides ?? {}) };
    if (`${project}:${PAYMENT_GATEWAY_URL_KEY}` in base.values || `${project}:${PAYMENT_GATEWAY_SECRET_KEY}` in base.values) {
      this.gateway = await startPaymentGateway({ port: 0, apiKey: base.values[`${project}:${PAYMENT_GATEWAY_SECRET_KEY}`] ?? SANDBOX_API_KEY, hangMs: o.gatewayHangMs });
      overrides[`${project}:${PAYMENT_GATEWAY_URL_KEY}`] = this.gateway.url;
    }
    this.bootOverrides = overrides;
    this.config = this.configWith(base);
    phase("stack config and payment gateway");
    await Promise.all([this.dynamodb.start(), this.s3.start()]);
    await this.frontDoor.start(o.port ?? 0);
    phase("dynalite, s3rver and the front door");
    const deployed = await deployProgramCached(this.provider, {
      entry: o.entry ?? "index.ts",
      projectDir: this.projectDir,
      config: this.config,
      quiet: !o.verbose,
      substitutable: substitutableKeys(project),
    });
    this.outputs = deployed.outputs;
    this.deployMs = deployed.durationMs;
    this.graphCached = deployed.cached === true;
    phase(
      this.graphCached ? "program: graph replayed from the cache" : "program: run under mocks (bundling what changed)",
      deployed.waitedMs ? `${deployed.waitedMs} ms of it waiting for another boot's run of the program` : undefined,
    );
    if (o.enforceIam !== false) {
      // A policy the local evaluator cannot evaluate as AWS would is refused before anything runs, never mis-evaluated.
      const unsupported = await this.iam.unsupported(this.kms.keyPolicies());
      if (unsupported.length) {
        throw new Error(`the local cloud cannot enforce IAM as AWS would for these policies (change them, or boot with enforceIam: false):\n  ${unsupported.join("\n  ")}`);
      }
    }
    phase("IAM policy check");
    await this.provider.afterDeploy();
    phase("provisioned concurrency and tables ready");
    if (this.persist) {
      const saved = this.persist.read();
      if (saved) {
        this.sqs.restore(saved.queues);
        this.sfn.restoreExecutions(saved.executions);
      }
      this.restored = true;
    }
    if (o.buildImages !== false) await this.ecs.buildAll();
    phase("persisted state and container images");
  }

  /** Where the last boot's time went, phase by phase (printed by serve and the CLI); a note qualifies a phase's time. */
  readonly bootPhases: Array<{ name: string; ms: number; note?: string }> = [];

  async stop(): Promise<void> {
    await this.sfn.stop();
    // A boot that failed before restoring must not overwrite what the folder keeps.
    if (this.persist && this.restored) this.persist.write({ queues: this.sqs.saved(), executions: this.sfn.savedExecutions() });
    await Promise.allSettled([this.lambda.stop(), this.ecs.stopAll()]);
    for (const c of this.dynamoClients.values()) c.destroy();
    await this.frontDoor.stop();
    await Promise.allSettled([this.dynamodb.stop(), this.s3.stop(), this.gateway?.close()]);
  }
}

/** Boots the local cloud from the program's resource graph and the stack's config. */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const projectDir = options.projectDir ?? PROJECT_DIR;
  readProjectName(projectDir);
  const region = loadStackConfig({ projectDir, stack: options.stack }).region;
  const cloud = new LocalCloud(region, projectDir, options);
  try {
    await cloud.boot();
  } catch (err) {
    await cloud.stop().catch(() => undefined);
    throw err;
  }
  return cloud;
}
