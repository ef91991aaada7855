/**
 * Operations on running export worker tasks (ECS Fargate), for the on-call engineer:
 *   npx tsx scripts/export-tasks.ts list --cluster ARN
 *   npx tsx scripts/export-tasks.ts stop --cluster ARN --task TASK_ARN [--reason TEXT]
 * A stopped task stops heartbeating; its state fails with States.HeartbeatTimeout and the job is recorded FAILED.
 */
import { DescribeTasksCommand, ECSClient, ListTasksCommand, StopTaskCommand } from "@aws-sdk/client-ecs";

export interface TaskSummary {
  readonly taskArn: string;
  readonly lastStatus: string;
  readonly startedAt: string | null;
  readonly cpu: string | undefined;
  readonly memory: string | undefined;
  readonly jobId: string | null;
}

/** Lists running tasks of the cluster with the export job each one works on (from its EXPORT_JOB override). */
export async function listExportTasks(ecs: ECSClient, cluster: string): Promise<TaskSummary[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListTasksCommand({ cluster, desiredStatus: "RUNNING", nextToken }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const summaries: TaskSummary[] = [];
  // DescribeTasks takes at most 100 tasks per call.
  for (let i = 0; i < arns.length; i += 100) {
    const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
    for (const task of tasks ?? []) {
      const env = task.overrides?.containerOverrides?.flatMap((o) => o.environment ?? []) ?? [];
      const job = env.find((e) => e.name === "EXPORT_JOB")?.value;
      let jobId: string | null = null;
      try {
        jobId = job ? (JSON.parse(job) as { jobId?: string }).jobId ?? null : null;
      } catch {
        jobId = null;
      }
      summaries.push({ taskArn: task.taskArn ?? "", lastStatus: task.lastStatus ?? "UNKNOWN", startedAt: task.startedAt?.toISOString() ?? null, cpu: task.cpu, memory: task.memory, jobId });
    }
  }
  return summaries;
}

export async function stopExportTask(ecs: ECSClient, cluster: string, task: string, reason: string): Promise<string> {
  const { task: stopped } = await ecs.send(new StopTaskCommand({ cluster, task, reason }));
  return stopped?.lastStatus ?? "UNKNOWN";
}

function flag(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
}

async function main(argv: readonly string[]): Promise<void> {
  const [command] = argv;
  const cluster = flag(argv, "--cluster");
  if (!cluster) throw new Error("--cluster is required (stack output of the export worker cluster, or its name)");
  const ecs = new ECSClient({});
  if (command === "list") {
    for (const t of await listExportTasks(ecs, cluster)) process.stdout.write(`${JSON.stringify(t)}\n`);
  } else if (command === "stop") {
    const task = flag(argv, "--task");
    if (!task) throw new Error("stop needs --task TASK_ARN");
    process.stdout.write(`${await stopExportTask(ecs, cluster, task, flag(argv, "--reason") ?? "stopped by operator")}\n`);
  } else {
    throw new Error('the command must be "list" or "stop"');
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`export-tasks: ${err.message}\n`);
    process.exitCode = 2;
  });
}
