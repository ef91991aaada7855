/** What the worker's container needs from the rest of the task definition. */
export interface WorkerContainerProps {
  /** The container's name; Step Functions overrides its environment by it. */
  readonly name: string;
  /** The image by digest (`repository@sha256:…`), so a new revision is registered only when the image changes. */
  readonly image: string;
  /** `uid:gid` the container runs as. */
  readonly user: string;
  /** Plain configuration; the job needs no secret. */
  readonly environment: Readonly<Record<string, string>>;
  /** CloudWatch Logs group and its region, for the awslogs driver. */
  readonly logGroup: string;
  readonly region: string;
}

/**
 * The task definition's `containerDefinitions`: one container with a read-only root filesystem, only /tmp writable
 * (a task volume on Fargate's ephemeral storage), an init process and awslogs.
 *
 * The string depends on nothing but these inputs, so a preview from any machine compares equal to what the last `up`
 * stored: keys in the order written here, and the environment sorted by code unit — `localeCompare` would follow the
 * machine's locale (Estonian collation puts Z before T, ICU puts `_` before letters).
 */
export function workerContainerDefinitions(props: WorkerContainerProps): string {
  const environment = Object.keys(props.environment)
    .sort()
    .map((key) => ({ name: key, value: props.environment[key] }));
  return JSON.stringify([
    {
      name: props.name,
      image: props.image,
      essential: true,
      user: props.user,
      readonlyRootFilesystem: true,
      mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
      environment,
      linuxParameters: { initProcessEnabled: true },
      stopTimeout: 30,
      logConfiguration: {
        logDriver: "awslogs",
        options: { "awslogs-group": props.logGroup, "awslogs-region": props.region, "awslogs-stream-prefix": "export" },
      },
    },
  ]);
}
