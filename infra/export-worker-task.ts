import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { workerContainerDefinitions } from "./export-worker-container";
import { assumeRolePolicy, PolicyStatement, renderPolicy } from "./policy";

/** The container's name in the task definition; Step Functions overrides its environment by this name. */
export const EXPORT_WORKER_CONTAINER = "export-worker";
/** The build context, relative to the project folder: the repository root (the worker needs handlers/export). */
export const EXPORT_WORKER_CONTEXT = ".";
/** The Dockerfile, relative to the project folder. */
export const EXPORT_WORKER_DOCKERFILE = "containers/export-worker/Dockerfile";
/** Non-root user baked into the image (see the Dockerfile); the task definition pins it too. */
export const EXPORT_WORKER_USER = "1000:1000";

export interface ExportWorkerTaskArgs {
  /** Prefix of physical names (roles, family, log group). */
  readonly namePrefix: string;
  /** Fargate CPU units (256–4096). */
  readonly cpu: number;
  /** Fargate memory in MB, valid for `cpu`. */
  readonly memoryMb: number;
  /** `private`: a VPC with private subnets behind one NAT gateway; `public`: a VPC with public subnets only (no NAT) and a public IP. */
  readonly network: "private" | "public";
  /** The worker sends SendTaskHeartbeat at this interval, well inside the state's HeartbeatSeconds. */
  readonly heartbeatIntervalSeconds: number;
  /** Container environment (bucket name, prefixes). */
  readonly environment: Record<string, pulumi.Input<string>>;
  /** What the job itself may do (read documents, write exports), on exact ARNs. The component adds the task-token calls. */
  readonly grants: readonly PolicyStatement[];
  /** Days the task's log group keeps its logs. */
  readonly logRetentionDays: number;
  /** Let `pulumi destroy` delete the image repository with the images in it. @default false */
  readonly forceDestroy?: boolean;
}

/**
 * The Fargate task for exports that cannot run on Lambda: our image (built from containers/export-worker and pushed to
 * an ECR repository that scans on push), a Container Insights cluster, a task definition with a read-only root
 * filesystem and a non-root user, separate execution and task roles, and networking with no inbound access.
 *
 * @example
 * const worker = new ExportWorkerTask("export-worker", { namePrefix, cpu: 1024, memoryMb: 4096, network: "public", ... });
 */
export class ExportWorkerTask extends pulumi.ComponentResource {
  public readonly repository: aws.ecr.Repository;
  public readonly image: awsx.ecr.Image;
  public readonly cluster: aws.ecs.Cluster;
  public readonly taskDefinition: aws.ecs.TaskDefinition;
  public readonly taskRole: aws.iam.Role;
  public readonly executionRole: aws.iam.Role;
  public readonly logGroup: aws.cloudwatch.LogGroup;
  public readonly securityGroup: aws.ec2.SecurityGroup;
  public readonly subnetIds: pulumi.Output<string[]>;
  public readonly assignPublicIp: boolean;

  constructor(name: string, args: ExportWorkerTaskArgs, opts?: pulumi.ComponentResourceOptions) {
    super("order-pipeline:exports:ExportWorkerTask", name, {}, opts);
    validate(args);
    this.repository = this.createRepository(name, args);
    this.image = this.createImage(name);
    this.cluster = new aws.ecs.Cluster(`${name}-cluster`, { settings: [{ name: "containerInsights", value: "enabled" }] }, { parent: this });
    this.logGroup = this.createLogGroup(name, args);
    this.executionRole = this.createExecutionRole(name, args);
    this.taskRole = this.createTaskRole(name, args);
    this.taskDefinition = this.createTaskDefinition(name, args);
    const network = this.createNetwork(name, args);
    this.subnetIds = network.subnetIds;
    this.securityGroup = network.securityGroup;
    this.assignPublicIp = args.network === "public";
    this.registerOutputs({ clusterArn: this.cluster.arn, taskDefinitionArn: this.taskDefinition.arn, imageUri: this.image.imageUri });
  }

  /**
   * Built from our Dockerfile with the repository root as context (the worker bundles handlers/export).
   *
   * Both paths are relative to the project folder, where the Pulumi CLI runs the program: awsx derives the image's
   * name and tag from the `context` string as given (with the Dockerfile path and the stack name), so an absolute
   * path would give every checkout — a laptop, CI — its own image and replace it on each `up` from elsewhere. With a
   * stable name the image is updated in place: the tag moves to the new digest, and the previous digest stays in
   * the repository (untagged, expired after 7 days) for executions still running an older task definition.
   */
  private createImage(name: string): awsx.ecr.Image {
    return new awsx.ecr.Image(
      `${name}-image`,
      {
        repositoryUrl: this.repository.repositoryUrl,
        context: EXPORT_WORKER_CONTEXT,
        dockerfile: EXPORT_WORKER_DOCKERFILE,
        platform: "linux/amd64",
      },
      { parent: this },
    );
  }

  private createLogGroup(name: string, args: ExportWorkerTaskArgs): aws.cloudwatch.LogGroup {
    return new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/ecs/${args.namePrefix}-export-worker`, retentionInDays: args.logRetentionDays },
      { parent: this },
    );
  }

  private createRepository(name: string, args: ExportWorkerTaskArgs): aws.ecr.Repository {
    const repository = new aws.ecr.Repository(
      `${name}-repo`,
      // ECR refuses to delete a repository that still holds images unless forced.
      { imageScanningConfiguration: { scanOnPush: true }, imageTagMutability: "MUTABLE", forceDelete: args.forceDestroy ?? false },
      { parent: this },
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-repo-lifecycle`,
      {
        repository: repository.name,
        policy: JSON.stringify({
          rules: [
            { rulePriority: 1, description: "Drop untagged layers after 7 days", selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 }, action: { type: "expire" } },
            { rulePriority: 2, description: "Keep the 20 newest images", selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 20 }, action: { type: "expire" } },
          ],
        }),
      },
      { parent: this },
    );
    return repository;
  }

  /** Used by ECS itself to pull the image and ship logs; the job never sees these permissions. */
  private createExecutionRole(name: string, args: ExportWorkerTaskArgs): aws.iam.Role {
    const role = new aws.iam.Role(
      `${name}-execution-role`,
      { name: `${args.namePrefix}-export-exec-role`, description: "ECS pulls the export worker image and writes its logs", assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com") },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-execution-policy`,
      {
        name: `${args.namePrefix}-export-exec-policy`,
        role: role.id,
        policy: renderPolicy([
          {
            sid: "AuthenticateToRegistry",
            actions: ["ecr:GetAuthorizationToken"],
            resources: ["*"],
            wildcardReason: "ecr:GetAuthorizationToken is registry-wide and has no resource type; IAM accepts only *",
          },
          { sid: "PullImage", actions: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], resources: [this.repository.arn] },
          { sid: "WriteTaskLogs", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [pulumi.interpolate`${this.logGroup.arn}:*`] },
        ]),
      },
      { parent: this },
    );
    return role;
  }

  /** What the export job may do: its grants plus reporting back on the task token. */
  private createTaskRole(name: string, args: ExportWorkerTaskArgs): aws.iam.Role {
    const role = new aws.iam.Role(
      `${name}-task-role`,
      { name: `${args.namePrefix}-export-task-role`, description: "The export worker job: read documents, write exports, report to Step Functions", assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com") },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-task-policy`,
      {
        name: `${args.namePrefix}-export-task-policy`,
        role: role.id,
        policy: renderPolicy([
          ...args.grants,
          {
            sid: "ReportToWorkflow",
            actions: ["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"],
            resources: ["*"],
            wildcardReason: "SendTaskSuccess/Failure/Heartbeat act on a task token and have no resource type; IAM accepts only *",
          },
        ]),
      },
      { parent: this },
    );
    return role;
  }

  private createTaskDefinition(name: string, args: ExportWorkerTaskArgs): aws.ecs.TaskDefinition {
    const region = aws.getRegionOutput({}, { parent: this });
    const environment = pulumi.output({ ...args.environment, HEARTBEAT_SECONDS: String(args.heartbeatIntervalSeconds) });
    const containerDefinitions = pulumi
      .all([this.image.imageUri, this.logGroup.name, region.region, environment])
      .apply(([image, logGroup, regionName, env]) =>
        workerContainerDefinitions({ name: EXPORT_WORKER_CONTAINER, image, user: EXPORT_WORKER_USER, environment: env, logGroup, region: regionName }),
      );
    return new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family: `${args.namePrefix}-export-worker`,
        cpu: String(args.cpu),
        memory: String(args.memoryMb),
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
        executionRoleArn: this.executionRole.arn,
        taskRoleArn: this.taskRole.arn,
        volumes: [{ name: "tmp" }],
        containerDefinitions,
        // Executions started before a deploy still name the previous revision; keep it registered so they can run it.
        skipDestroy: true,
      },
      { parent: this },
    );
  }

  /**
   * Both networks are a VPC of the stack's own. `public` does not use the account's default VPC: many organisations
   * delete it, and the first `up` in such an account would fail looking it up. A VPC with public subnets only costs
   * nothing (no NAT gateway); the task reaches ECR, S3, Step Functions and CloudWatch Logs through its public IP.
   */
  private createNetwork(name: string, args: ExportWorkerTaskArgs): { subnetIds: pulumi.Output<string[]>; securityGroup: aws.ec2.SecurityGroup } {
    const vpc = new awsx.ec2.Vpc(`${name}-vpc`, vpcArgs(args.network), { parent: this });
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: vpc.vpcId,
        description: "Export worker: no inbound; HTTPS out to ECR, S3, Step Functions and CloudWatch Logs",
        ingress: [],
        egress: [{ description: "HTTPS to AWS APIs", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
      },
      { parent: this },
    );
    return { subnetIds: args.network === "private" ? vpc.privateSubnetIds : vpc.publicSubnetIds, securityGroup };
  }
}

function vpcArgs(network: ExportWorkerTaskArgs["network"]): awsx.ec2.VpcArgs {
  if (network === "private") return { numberOfAvailabilityZones: 2, natGateways: { strategy: "Single" }, enableDnsHostnames: true };
  return { numberOfAvailabilityZones: 2, subnetStrategy: "Auto", subnetSpecs: [{ type: "Public" }], natGateways: { strategy: "None" }, enableDnsHostnames: true };
}

function validate(args: ExportWorkerTaskArgs): void {
  if (`${args.namePrefix}-export-exec-role`.length > 64) {
    throw new Error(`\`namePrefix\` "${args.namePrefix}" is too long: role "${args.namePrefix}-export-exec-role" exceeds IAM's 64 characters`);
  }
  if (!Number.isInteger(args.heartbeatIntervalSeconds) || args.heartbeatIntervalSeconds < 1) {
    throw new Error("`heartbeatIntervalSeconds` must be a positive integer");
  }
}
