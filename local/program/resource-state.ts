import { createHash } from "node:crypto";

/**
 * What a resource looks like after "creation": physical name, id and the output properties AWS would return.
 *
 * Used by two mocks so that they agree: the unit tests' Pulumi mocks (test/mocks.ts) and the local provider that
 * provisions the local cloud (local/program/provider.ts). Nothing here knows about this project's resources — only about
 * AWS resource types — so the program stays the single description of the system.
 */

/** The fixed identity of the local cloud: every ARN the mocks produce is in this account and partition. */
export const LOCAL_ACCOUNT = "000000000000";
export const LOCAL_PARTITION = "aws";

export interface ResourceArgs {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

export interface ResourceResult {
  readonly id: string;
  readonly state: Record<string, any>;
}

/**
 * Pulumi's engine autonames a resource `<logical name>-<7 random hex>` when the program sets no physical name.
 * The suffix here is a hash of the type and logical name, so names are stable from run to run.
 */
export function autoname(type: string, logicalName: string, maxLength = 63): string {
  const suffix = createHash("sha1").update(`${type}::${logicalName}`).digest("hex").slice(0, 7);
  const base = logicalName.slice(0, Math.max(1, maxLength - 8));
  return `${base}-${suffix}`;
}

function arn(service: string, region: string, resource: string): string {
  return `arn:${LOCAL_PARTITION}:${service}:${region}:${LOCAL_ACCOUNT}:${resource}`;
}

/** Computes id and state for a resource registration; unknown types echo their inputs with a stable id. */
export function resourceState(args: ResourceArgs, region: string): ResourceResult {
  const { type, name, inputs } = args;
  const named = (key = "name", maxLength = 63): string => inputs[key] ?? autoname(type, name, maxLength);
  switch (type) {
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2": {
      const bucket = inputs.bucket ?? autoname(type, name).toLowerCase();
      return {
        id: bucket,
        state: {
          ...inputs,
          bucket,
          arn: `arn:${LOCAL_PARTITION}:s3:::${bucket}`,
          bucketDomainName: `${bucket}.s3.amazonaws.com`,
          bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
          region,
        },
      };
    }
    case "aws:dynamodb/table:Table": {
      const tableName = named();
      return {
        id: tableName,
        state: { ...inputs, name: tableName, arn: arn("dynamodb", region, `table/${tableName}`) },
      };
    }
    case "aws:sns/topic:Topic": {
      const topicName = named("name", 256);
      return { id: arn("sns", region, topicName), state: { ...inputs, name: topicName, arn: arn("sns", region, topicName) } };
    }
    case "aws:sqs/queue:Queue": {
      const queueName = inputs.name ?? (inputs.fifoQueue ? `${autoname(type, name, 75)}.fifo` : autoname(type, name, 80));
      const url = `https://sqs.${region}.amazonaws.com/${LOCAL_ACCOUNT}/${queueName}`;
      return { id: url, state: { ...inputs, name: queueName, url, arn: arn("sqs", region, queueName) } };
    }
    case "aws:kinesis/stream:Stream": {
      const streamName = named();
      return { id: streamName, state: { ...inputs, name: streamName, arn: arn("kinesis", region, `stream/${streamName}`) } };
    }
    case "aws:kms/key:Key": {
      const keyId = createHash("sha1").update(name).digest("hex").slice(0, 32);
      return { id: keyId, state: { ...inputs, keyId, arn: arn("kms", region, `key/${keyId}`) } };
    }
    case "aws:kms/alias:Alias":
      return { id: inputs.name, state: { ...inputs, arn: arn("kms", region, String(inputs.name)) } };
    case "aws:iam/role:Role": {
      const roleName = inputs.name ?? autoname(type, name, 64);
      const path = inputs.path ?? "/";
      return {
        id: roleName,
        state: { ...inputs, name: roleName, arn: `arn:${LOCAL_PARTITION}:iam::${LOCAL_ACCOUNT}:role${path}${roleName}`, uniqueId: `AROA${roleName.length}` },
      };
    }
    case "aws:iam/rolePolicy:RolePolicy": {
      const policyName = named("name", 128);
      return { id: `${inputs.role}:${policyName}`, state: { ...inputs, name: policyName } };
    }
    case "aws:cloudwatch/logGroup:LogGroup": {
      const groupName = named("name", 512);
      // The provider reports the ARN without the trailing ":*" that IAM statements for log streams add.
      return { id: groupName, state: { ...inputs, name: groupName, arn: arn("logs", region, `log-group:${groupName}`) } };
    }
    case "aws:lambda/function:Function": {
      const fnName = named("name", 64);
      const fnArn = arn("lambda", region, `function:${fnName}`);
      return {
        id: fnName,
        state: {
          ...inputs,
          name: fnName,
          arn: fnArn,
          qualifiedArn: `${fnArn}:1`,
          version: "1",
          invokeArn: `arn:${LOCAL_PARTITION}:apigateway:${region}:lambda:path/2015-03-31/functions/${fnArn}/invocations`,
        },
      };
    }
    case "aws:lambda/alias:Alias": {
      const fnName = String(inputs.functionName).replace(/^.*:function:/, "");
      const aliasArn = arn("lambda", region, `function:${fnName}:${inputs.name}`);
      return { id: aliasArn, state: { ...inputs, arn: aliasArn, invokeArn: aliasArn } };
    }
    case "aws:ssm/parameter:Parameter": {
      const paramName = named("name", 1011);
      const resource = paramName.startsWith("/") ? `parameter${paramName}` : `parameter/${paramName}`;
      return { id: paramName, state: { ...inputs, name: paramName, arn: arn("ssm", region, resource), version: 1 } };
    }
    case "aws:secretsmanager/secret:Secret": {
      const secretName = named("name", 512);
      return { id: arn("secretsmanager", region, `secret:${secretName}-AbCdEf`), state: { ...inputs, name: secretName, arn: arn("secretsmanager", region, `secret:${secretName}-AbCdEf`) } };
    }
    case "aws:sfn/stateMachine:StateMachine": {
      const smName = named("name", 80);
      const smArn = arn("states", region, `stateMachine:${smName}`);
      return { id: smArn, state: { ...inputs, name: smName, arn: smArn, status: "ACTIVE" } };
    }
    case "aws:ecs/cluster:Cluster": {
      const clusterName = named("name", 255);
      return { id: arn("ecs", region, `cluster/${clusterName}`), state: { ...inputs, name: clusterName, arn: arn("ecs", region, `cluster/${clusterName}`) } };
    }
    case "aws:ecs/taskDefinition:TaskDefinition": {
      const family = inputs.family ?? autoname(type, name, 255);
      const revision = 1;
      const tdArn = arn("ecs", region, `task-definition/${family}:${revision}`);
      return {
        id: family,
        state: { ...inputs, family, revision, arn: tdArn, arnWithoutRevision: arn("ecs", region, `task-definition/${family}`) },
      };
    }
    case "aws:ecr/repository:Repository": {
      const repoName = named("name", 256);
      return {
        id: repoName,
        state: {
          ...inputs,
          name: repoName,
          arn: arn("ecr", region, `repository/${repoName}`),
          repositoryUrl: `${LOCAL_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${repoName}`,
          registryId: LOCAL_ACCOUNT,
        },
      };
    }
    case "awsx:ecr:Image": {
      const digest = createHash("sha256").update(JSON.stringify({ name, dockerfile: inputs.dockerfile, context: inputs.context })).digest("hex");
      return { id: `${name}-image`, state: { ...inputs, imageUri: `${inputs.repositoryUrl}@sha256:${digest}` } };
    }
    case "aws:ec2/vpc:Vpc":
      return { id: `vpc-${hex(name, 17)}`, state: { ...inputs, arn: arn("ec2", region, `vpc/vpc-${hex(name, 17)}`) } };
    case "aws:ec2/securityGroup:SecurityGroup":
      return { id: `sg-${hex(name, 17)}`, state: { ...inputs, arn: arn("ec2", region, `security-group/sg-${hex(name, 17)}`), ingress: inputs.ingress ?? [], egress: inputs.egress ?? [] } };
    case "aws:ec2/subnet:Subnet":
      return { id: `subnet-${hex(name, 17)}`, state: { ...inputs, arn: arn("ec2", region, `subnet/subnet-${hex(name, 17)}`) } };
    case "awsx:ec2:Vpc": {
      const vpcId = `vpc-${hex(name, 17)}`;
      // awsx makes a public and a private subnet per zone unless subnetSpecs names the kinds.
      const specs = (inputs.subnetSpecs as { type: string }[] | undefined) ?? [{ type: "Public" }, { type: "Private" }];
      const subnets = (kind: string) => (specs.some((s) => s.type === kind) ? [0, 1].map((i) => `subnet-${hex(`${name}-${kind.toLowerCase()}-${i}`, 17)}`) : []);
      return {
        id: `${name}-awsx-vpc`,
        state: { ...inputs, vpcId, privateSubnetIds: subnets("Private"), publicSubnetIds: subnets("Public"), isolatedSubnetIds: subnets("Isolated") },
      };
    }
    case "awsx:ec2:DefaultVpc": {
      const vpcId = `vpc-${hex(name, 17)}`;
      return { id: `${name}-default-vpc`, state: { ...inputs, vpcId, publicSubnetIds: [0, 1].map((i) => `subnet-${hex(`${name}-default-${i}`, 17)}`), privateSubnetIds: [] } };
    }
    case "aws:cloudwatch/metricAlarm:MetricAlarm": {
      const alarmName = named("name", 255);
      return { id: alarmName, state: { ...inputs, name: alarmName, arn: arn("cloudwatch", region, `alarm:${alarmName}`) } };
    }
    case "aws:cloudwatch/eventRule:EventRule": {
      const ruleName = named("name", 64);
      return { id: ruleName, state: { ...inputs, name: ruleName, arn: arn("events", region, `rule/${ruleName}`) } };
    }
    default:
      return { id: `${name}-id`, state: { ...inputs } };
  }
}

function hex(seed: string, length: number): string {
  return createHash("sha1").update(seed).digest("hex").slice(0, length);
}

/** Answers the provider functions (invokes) the program calls, with the local identity. */
export function invokeResult(token: string, region: string): Record<string, any> {
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: LOCAL_ACCOUNT, arn: `arn:${LOCAL_PARTITION}:iam::${LOCAL_ACCOUNT}:user/local`, userId: "local", id: LOCAL_ACCOUNT };
    case "aws:index/getRegion:getRegion":
      return { name: region, region, id: region, description: "local" };
    case "aws:index/getPartition:getPartition":
      return { partition: LOCAL_PARTITION, dnsSuffix: "amazonaws.com", id: LOCAL_PARTITION };
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return { names: [`${region}a`, `${region}b`], zoneIds: ["use1-az1", "use1-az2"], id: region };
    default:
      return {};
  }
}
