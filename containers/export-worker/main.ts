import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import { logger } from "../../handlers/shared/logger";
import { run } from "./worker";

/** Container entry point: real clients, SIGTERM (ECS StopTask) as the stop signal, the exit code from run(). */
const stop = new AbortController();
process.once("SIGTERM", () => stop.abort(Object.assign(new Error("ECS stopped the task (SIGTERM)"), { name: "TaskStopped" })));

run(process.env, { s3: new S3Client({}), sfn: new SFNClient({}), log: logger, signal: stop.signal }).then((code) => {
  process.exitCode = code;
});
