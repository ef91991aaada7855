/**
 * Starts an export job in the cloud and waits for its result:
 *   npx tsx scripts/start-export.ts --state-machine ARN --document documents/catalogue.json --format pdf [--one-worker] [--job-id ID]
 * A long export is split into page ranges by default; `--one-worker` asks for one worker (`parallel: false`).
 * The ARN is the stack output `exportStateMachineArn` (`pulumi stack output exportStateMachineArn`). Uses the usual
 * AWS credential chain.
 */
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { randomUUID } from "node:crypto";

export interface ExportRequest {
  readonly jobId: string;
  readonly documentKey: string;
  readonly format: "svg" | "pdf";
  readonly parallel?: boolean;
}

/** Parses the command line; errors name the flag. */
export function parseArgs(argv: readonly string[]): { stateMachineArn: string; request: ExportRequest; pollSeconds: number } {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    if (at < 0) return undefined;
    const v = argv[at + 1];
    if (!v || v.startsWith("--")) throw new Error(`${flag} needs a value`);
    return v;
  };
  const stateMachineArn = value("--state-machine");
  if (!stateMachineArn?.startsWith("arn:")) throw new Error("--state-machine must be the export state machine's ARN (stack output exportStateMachineArn)");
  const documentKey = value("--document");
  if (!documentKey) throw new Error("--document must name the document's key in the documents bucket, e.g. documents/invoice.json");
  const format = value("--format");
  if (format !== "svg" && format !== "pdf") throw new Error('--format must be "svg" or "pdf"');
  const pollSeconds = Number(value("--poll-seconds") ?? 5);
  if (!(pollSeconds >= 1)) throw new Error("--poll-seconds must be at least 1");
  return { stateMachineArn, request: { jobId: value("--job-id") ?? randomUUID(), documentKey, format, ...(argv.includes("--one-worker") ? { parallel: false } : {}) }, pollSeconds };
}

async function main(): Promise<void> {
  const { stateMachineArn, request, pollSeconds } = parseArgs(process.argv.slice(2));
  const sfn = new SFNClient({});
  // The job id names the execution too: starting the same job twice is refused by Step Functions (idempotent start).
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: request.jobId, input: JSON.stringify(request) }));
  process.stderr.write(`started ${executionArn}\n`);
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== "RUNNING") {
      process.stdout.write(`${JSON.stringify({ status: execution.status, output: execution.output ? JSON.parse(execution.output) : null, error: execution.error ?? null, cause: execution.cause ?? null })}\n`);
      process.exitCode = execution.status === "SUCCEEDED" ? 0 : 1;
      return;
    }
    await new Promise((r) => setTimeout(r, pollSeconds * 1000));
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`start-export: ${err.message}\n`);
    process.exitCode = 2;
  });
}
