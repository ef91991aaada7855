import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import { logger } from "../../handlers/shared/logger";
import { run } from "./worker";

/**
 * Once run() has answered, how long anything still open may keep the process alive. Normally nothing is and the
 * process ends at once; after a stall or a lost token a request may still hang on a dead connection, and a container
 * that does not exit keeps billing (Step Functions never stops it).
 */
const EXIT_GRACE_MS = 2_000;

/** Container entry point: real clients, SIGTERM (ECS StopTask) as the stop signal, the exit code from run(). */
const stop = new AbortController();
process.once("SIGTERM", () => stop.abort(Object.assign(new Error("ECS stopped the task (SIGTERM)"), { name: "TaskStopped" })));

run(process.env, { s3: new S3Client({}), sfn: new SFNClient({}), log: logger, signal: stop.signal }).then((code) => {
  process.exitCode = code;
  // Unref'd: it fires only if something else still holds the event loop open.
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
});
