import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Plugin } from "esbuild";
import { countAlarm } from "./alarms";
import { bundleHandler, Bundle } from "./bundle";
import { assumeRolePolicy, PolicyStatement, renderPolicy } from "./policy";

/**
 * Node.js runtime for every function: nodejs24.x (supported until 2028-04-30; nodejs22.x ends 2027-04-30). The local
 * cloud and the tests run the same major, from the `node` devDependency.
 */
export const LAMBDA_RUNTIME = "nodejs24.x";
/** Name of the alias everything else invokes. */
export const LIVE_ALIAS = "live";
/** IAM role names are limited to 64 characters; the role is named `${functionName}-role`. */
const MAX_FUNCTION_NAME = 64 - "-role".length;

export interface LambdaFunctionArgs {
  /** Handler source relative to the project root, exporting `handler`, e.g. `handlers/shipping.ts`. */
  readonly entry: string;
  /** Physical function name (also names the role and log group); at most 59 characters. */
  readonly functionName: string;
  /** One line saying what the function does; shown in the console and in `npm run plan`. */
  readonly description: string;
  /** Memory in MB (128–10240); CPU scales with it. */
  readonly memorySize: number;
  /** Hard stop in seconds (1–900). */
  readonly timeoutSeconds: number;
  /** Environment variables the handler reads. @default {} */
  readonly environment?: Record<string, pulumi.Input<string>>;
  /** What the function may do besides writing its own logs and traces, on exact ARNs. @default [] */
  readonly grants?: readonly PolicyStatement[];
  /** Days CloudWatch keeps the function's logs. */
  readonly logRetentionDays: number;
  /** Log level for the structured logger. @default "INFO" */
  readonly logLevel?: string;
  /** Concurrency reserved for (and capped at) this function. @default unreserved */
  readonly reservedConcurrency?: number;
  /** Pre-initialised environments on the `live` alias. @default none */
  readonly provisionedConcurrency?: number;
  /** esbuild plugins the handler's dependencies need. @default [] */
  readonly bundlePlugins?: readonly Plugin[];
  /** Topic the Errors alarm notifies. @default no alarm */
  readonly alarmTopicArn?: pulumi.Input<string>;
}

/**
 * A Lambda function with its own role, log group, published version and `live` alias: the unit the rest of the
 * system grants, invokes and alarms on.
 *
 * @example
 * const shipping = new LambdaFunction("shipping", {
 *   entry: "handlers/shipping.ts", functionName: "shop-dev-shipping", description: "Records the shipment",
 *   memorySize: 256, timeoutSeconds: 10, logRetentionDays: 14,
 *   grants: [{ sid: "WriteShipments", actions: ["dynamodb:PutItem"], resources: [table.arn] }],
 * });
 */
export class LambdaFunction extends pulumi.ComponentResource {
  public readonly function: aws.lambda.Function;
  public readonly alias: aws.lambda.Alias;
  public readonly role: aws.iam.Role;
  public readonly logGroup: aws.cloudwatch.LogGroup;
  public readonly policy: aws.iam.RolePolicy;
  /** The ARN callers invoke (the `live` alias). */
  public readonly invokeArn: pulumi.Output<string>;
  /** The bundle Lambda runs (folder with index.mjs), built when the program runs. */
  public readonly bundle: pulumi.Output<Bundle>;
  public readonly functionName: string;

  constructor(name: string, args: LambdaFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("order-pipeline:compute:LambdaFunction", name, {}, opts);
    validate(args);
    this.functionName = args.functionName;
    this.bundle = pulumi.output(bundleHandler({ entry: args.entry, name: args.functionName, plugins: args.bundlePlugins }));
    this.logGroup = this.createLogGroup(name, args);
    this.role = this.createRole(name, args);
    this.policy = this.createPolicy(name, args);
    this.function = this.createFunction(name, args);
    this.alias = this.createAlias(name, args);
    this.invokeArn = this.alias.arn;
    this.createProvisionedConcurrency(name, args);
    this.createErrorsAlarm(name, args);
    this.registerOutputs({ functionName: this.function.name, invokeArn: this.invokeArn, roleArn: this.role.arn });
  }

  private createLogGroup(name: string, args: LambdaFunctionArgs): aws.cloudwatch.LogGroup {
    return new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/lambda/${args.functionName}`, retentionInDays: args.logRetentionDays },
      { parent: this },
    );
  }

  private createRole(name: string, args: LambdaFunctionArgs): aws.iam.Role {
    return new aws.iam.Role(
      `${name}-role`,
      {
        name: `${args.functionName}-role`,
        description: `Runs ${args.functionName} only`,
        assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com"),
      },
      { parent: this },
    );
  }

  private createPolicy(name: string, args: LambdaFunctionArgs): aws.iam.RolePolicy {
    const statements: PolicyStatement[] = [
      {
        sid: "WriteOwnLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [pulumi.interpolate`${this.logGroup.arn}:*`],
      },
      {
        sid: "WriteTraces",
        actions: ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
        resources: ["*"],
        wildcardReason: "X-Ray PutTraceSegments/PutTelemetryRecords have no resource types; IAM accepts only *",
      },
      ...(args.grants ?? []),
    ];
    return new aws.iam.RolePolicy(
      `${name}-policy`,
      { name: `${args.functionName}-policy`, role: this.role.id, policy: renderPolicy(statements) },
      { parent: this },
    );
  }

  private createFunction(name: string, args: LambdaFunctionArgs): aws.lambda.Function {
    return new aws.lambda.Function(
      `${name}-function`,
      {
        name: args.functionName,
        description: args.description,
        runtime: LAMBDA_RUNTIME,
        architectures: ["x86_64"],
        handler: "index.handler",
        code: this.bundle.apply((b) => new pulumi.asset.FileArchive(b.dir)),
        role: this.role.arn,
        memorySize: args.memorySize,
        timeout: args.timeoutSeconds,
        publish: true,
        reservedConcurrentExecutions: args.reservedConcurrency ?? -1,
        tracingConfig: { mode: "Active" },
        // With JSON logs Lambda hands the function AWS_LAMBDA_LOG_LEVEL (INFO unless set here), which Powertools obeys
        // over POWERTOOLS_LOG_LEVEL, and drops what is below it: the level must be set here, not only there.
        loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name, applicationLogLevel: args.logLevel ?? "INFO", systemLogLevel: "INFO" },
        environment: {
          variables: {
            POWERTOOLS_SERVICE_NAME: args.functionName,
            POWERTOOLS_LOG_LEVEL: args.logLevel ?? "INFO",
            ...(args.environment ?? {}),
          },
        },
      },
      // The role must be able to write logs before the first invocation.
      { parent: this, dependsOn: [this.policy, this.logGroup] },
    );
  }

  private createAlias(name: string, args: LambdaFunctionArgs): aws.lambda.Alias {
    return new aws.lambda.Alias(
      `${name}-live`,
      { name: LIVE_ALIAS, functionName: this.function.name, functionVersion: this.function.version, description: `Current ${args.functionName}` },
      { parent: this },
    );
  }

  private createProvisionedConcurrency(name: string, args: LambdaFunctionArgs): void {
    if (!args.provisionedConcurrency) return;
    new aws.lambda.ProvisionedConcurrencyConfig(
      `${name}-provisioned`,
      { functionName: this.function.name, qualifier: this.alias.name, provisionedConcurrentExecutions: args.provisionedConcurrency },
      { parent: this },
    );
  }

  private createErrorsAlarm(name: string, args: LambdaFunctionArgs): void {
    if (!args.alarmTopicArn) return;
    countAlarm(
      `${name}-errors`,
      {
        alarmName: `${args.functionName}-errors`,
        description: `${args.functionName} raised errors (uncaught exceptions, timeouts, out of memory)`,
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: this.function.name },
        topicArn: args.alarmTopicArn,
      },
      { parent: this },
    );
  }
}

function validate(args: LambdaFunctionArgs): void {
  if (!/^[A-Za-z0-9_-]+$/.test(args.functionName) || args.functionName.length > MAX_FUNCTION_NAME) {
    throw new Error(`\`functionName\` "${args.functionName}" must be letters, digits, - or _ and at most ${MAX_FUNCTION_NAME} characters (its role name adds "-role" within IAM's 64)`);
  }
  if (!Number.isInteger(args.memorySize) || args.memorySize < 128 || args.memorySize > 10240) {
    throw new Error(`${args.functionName}: \`memorySize\` must be an integer 128–10240 MB, got ${args.memorySize}`);
  }
  if (!Number.isInteger(args.timeoutSeconds) || args.timeoutSeconds < 1 || args.timeoutSeconds > 900) {
    throw new Error(`${args.functionName}: \`timeoutSeconds\` must be an integer 1–900 (Lambda's 15-minute limit), got ${args.timeoutSeconds}`);
  }
  if (args.reservedConcurrency !== undefined && (!Number.isInteger(args.reservedConcurrency) || args.reservedConcurrency < 1)) {
    throw new Error(`${args.functionName}: \`reservedConcurrency\` must be an integer ≥ 1, got ${args.reservedConcurrency}`);
  }
  if (args.provisionedConcurrency !== undefined) {
    if (!Number.isInteger(args.provisionedConcurrency) || args.provisionedConcurrency < 0) {
      throw new Error(`${args.functionName}: \`provisionedConcurrency\` must be an integer ≥ 0, got ${args.provisionedConcurrency}`);
    }
    if (args.reservedConcurrency !== undefined && args.provisionedConcurrency > args.reservedConcurrency) {
      throw new Error(`${args.functionName}: \`provisionedConcurrency\` (${args.provisionedConcurrency}) cannot exceed \`reservedConcurrency\` (${args.reservedConcurrency})`);
    }
  }
  if (!Number.isInteger(args.logRetentionDays) || args.logRetentionDays < 1) {
    throw new Error(`${args.functionName}: \`logRetentionDays\` must be a positive integer`);
  }
}
