import type { EcsRuntime, TaskRecord } from "../runtimes/ecs/runtime";
import { ServiceError } from "./errors";
import { epochSeconds, page } from "./pagination";
import { sendJson, sendJsonError, type ServiceRequest } from "./rest";

const CONTENT_TYPE = "application/x-amz-json-1.1";

/**
 * The ECS API (AWS JSON 1.1, `AmazonEC2ContainerServiceV20141113.<Operation>`) for the tasks the local ECS runtime
 * runs: ListTasks (cluster, family, startedBy, desiredStatus, pages), DescribeTasks (tasks by ARN or id; unknown ones
 * under `failures` with reason MISSING) and StopTask — what `scripts/export-tasks.ts` calls. IAM is asked with the
 * `ecs:cluster` condition key, as ECS evaluates these actions.
 */
export class EcsApi {
  constructor(private readonly ecs: EcsRuntime) {}

  async serve(request: ServiceRequest): Promise<void> {
    try {
      const operation = String(request.req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
      let input: Record<string, any>;
      try {
        input = request.body.length ? JSON.parse(request.body.toString("utf8")) : {};
      } catch {
        throw new ServiceError("SerializationException", "Malformed JSON body", 400);
      }
      sendJson(request.res, 200, this.handle(operation, input, request.authorize), {}, CONTENT_TYPE);
    } catch (err) {
      sendJsonError(request.res, err, CONTENT_TYPE, { faultType: true });
    }
  }

  private handle(operation: string, input: Record<string, any>, authorize: ServiceRequest["authorize"]): unknown {
    switch (operation) {
      case "ListTasks": {
        const clusterArn = this.requireCluster(input.cluster);
        // ListTasks has no resource type in IAM: "*", narrowed by ecs:cluster.
        authorize([{ action: "ecs:ListTasks", resource: "*", context: { "ecs:cluster": clusterArn } }]);
        const desired = input.desiredStatus ?? "RUNNING";
        if (!["RUNNING", "PENDING", "STOPPED"].includes(desired)) throw new ServiceError("InvalidParameterException", `desiredStatus ${desired} is not one of RUNNING, PENDING, STOPPED`, 400);
        const tasks = this.ecs.tasks.filter(
          (t) =>
            t.clusterArn === clusterArn &&
            (desired === "STOPPED" ? t.desiredStatus === "STOPPED" : t.desiredStatus === "RUNNING" && (desired === "RUNNING" || t.lastStatus === "PROVISIONING")) &&
            (!input.family || t.family === input.family) &&
            (!input.startedBy || t.startedBy === input.startedBy),
        );
        const { items, nextToken } = page(tasks, {
          maxResults: input.maxResults,
          nextToken: input.nextToken,
          scope: `ListTasks ${clusterArn} ${desired} ${input.family ?? ""} ${input.startedBy ?? ""}`,
          defaultSize: 100,
          maxSize: 100,
          invalidTokenCode: "InvalidParameterException",
        });
        return { taskArns: items.map((t) => t.taskArn), ...(nextToken ? { nextToken } : {}) };
      }
      case "DescribeTasks": {
        const clusterArn = this.requireCluster(input.cluster);
        const refs = (input.tasks ?? []) as string[];
        if (!Array.isArray(refs) || refs.length === 0 || refs.length > 100) throw new ServiceError("InvalidParameterException", "Tasks cannot be empty and can have at most 100 entries.", 400);
        const found = refs.map((ref) => ({ ref, task: this.findTask(clusterArn, ref) }));
        authorize(found.filter((f) => f.task).map((f) => ({ action: "ecs:DescribeTasks", resource: f.task!.taskArn, context: { "ecs:cluster": clusterArn } })));
        return {
          tasks: found.filter((f) => f.task).map((f) => this.taskView(f.task!)),
          failures: found.filter((f) => !f.task).map((f) => ({ arn: f.ref, reason: "MISSING" })),
        };
      }
      case "StopTask": {
        const clusterArn = this.requireCluster(input.cluster);
        const task = this.findTask(clusterArn, String(input.task ?? ""));
        if (!task) throw new ServiceError("InvalidParameterException", "The referenced task was not found.", 400);
        authorize([{ action: "ecs:StopTask", resource: task.taskArn, context: { "ecs:cluster": clusterArn } }]);
        return { task: this.taskView(this.ecs.stopTask(task.taskArn, input.reason ?? undefined)!) };
      }
      default:
        throw new ServiceError("UnknownOperationException", `The local ECS does not implement ${operation}`, 400);
    }
  }

  private requireCluster(ref: unknown): string {
    const arn = this.ecs.resolveCluster(typeof ref === "string" && ref ? ref : undefined);
    if (!arn) throw new ServiceError("ClusterNotFoundException", "Cluster not found.", 400);
    return arn;
  }

  /** A task of the cluster by ARN, or by the id at its end. */
  private findTask(clusterArn: string, ref: string): TaskRecord | undefined {
    return this.ecs.tasks.find((t) => t.clusterArn === clusterArn && (t.taskArn === ref || t.taskId === ref));
  }

  /** A Task as DescribeTasks returns it. */
  private taskView(task: TaskRecord): Record<string, unknown> {
    const td = this.ecs.resolveTaskDefinition(task.taskDefinitionArn);
    const image = td?.containerDefinitions.find((c) => c.name === task.containerName)?.image;
    const overrides = task.overrides.ContainerOverrides ?? [];
    return {
      taskArn: task.taskArn,
      clusterArn: task.clusterArn,
      taskDefinitionArn: task.taskDefinitionArn,
      group: `family:${task.family}`,
      launchType: "FARGATE",
      platformVersion: "1.4.0",
      ...(task.cpu ? { cpu: task.cpu } : {}),
      ...(task.memory ? { memory: task.memory } : {}),
      lastStatus: task.lastStatus,
      desiredStatus: task.desiredStatus,
      ...(task.startedBy ? { startedBy: task.startedBy } : {}),
      createdAt: epochSeconds(task.startedAt),
      ...(task.lastStatus !== "PROVISIONING" ? { startedAt: epochSeconds(task.startedAt) } : {}),
      ...(task.stoppedAt ? { stoppedAt: epochSeconds(task.stoppedAt), stoppingAt: epochSeconds(task.stoppedAt) } : {}),
      ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
      ...(task.stopCode ? { stopCode: task.stopCode } : {}),
      containers: [
        {
          containerArn: `${task.taskArn.replace(":task/", ":container/")}/${task.containerName}`,
          taskArn: task.taskArn,
          name: task.containerName,
          ...(image ? { image } : {}),
          lastStatus: task.lastStatus === "PROVISIONING" ? "PENDING" : task.lastStatus,
          ...(typeof task.exitCode === "number" ? { exitCode: task.exitCode } : {}),
        },
      ],
      overrides: {
        containerOverrides: overrides.map((o) => ({
          name: o.Name,
          ...(o.Environment ? { environment: o.Environment.map((e) => ({ name: e.Name, value: e.Value })) } : {}),
          ...(o.Command ? { command: o.Command } : {}),
        })),
        inferenceAcceleratorOverrides: [],
      },
    };
  }
}
