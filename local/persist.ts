import * as fs from "node:fs";
import * as path from "node:path";
import type { SavedExecution } from "./runtimes/step-functions/runtime";
import type { SqsMessage } from "./services/sqs";

/**
 * What `serve --persist DIR` keeps across boots, and where: DynamoDB tables in `DIR/dynamodb` (dynalite's LevelDB),
 * buckets and objects in `DIR/s3` (s3rver's folder), queue messages and ended executions with their histories in
 * `DIR/state.json`, written when the cloud stops. SSM parameters, topics, functions and state machines are the
 * program's and come from it on every boot. Executions still running at the stop end ABORTED first, as they would if
 * the service stopped them; task tokens are not kept.
 */
export interface SavedState {
  readonly version: number;
  readonly queues: Record<string, { live: SqsMessage[]; sent: SqsMessage[] }>;
  readonly executions: SavedExecution[];
}

const VERSION = 1;

export class PersistDir {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  get dynamodb(): string {
    return path.join(this.dir, "dynamodb");
  }

  get s3(): string {
    return path.join(this.dir, "s3");
  }

  private get stateFile(): string {
    return path.join(this.dir, "state.json");
  }

  /** The state the last stop wrote; nothing on a first boot. A file of another version is refused, not misread. */
  read(): SavedState | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.stateFile, "utf8");
    } catch {
      return undefined;
    }
    const state = JSON.parse(text) as SavedState;
    if (state.version !== VERSION) throw new Error(`${this.stateFile} was written by another version of the local cloud (${state.version}, this one reads ${VERSION}): remove ${this.dir} or use another folder`);
    return state;
  }

  write(state: Omit<SavedState, "version">): void {
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ version: VERSION, ...state }));
    fs.renameSync(tmp, this.stateFile);
  }
}
