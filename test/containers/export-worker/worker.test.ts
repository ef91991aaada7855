import { setTimeout as sleep } from "node:timers/promises";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { SFNClient, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { EXIT_CODES, run } from "../../../containers/export-worker/worker";
import type { Log } from "../../../handlers/export/logger";
import { catalogueDocument } from "../../../scripts/generate-documents";
import { BUCKET, fakeS3, pdfPageCount, putDocument, sdkBody } from "../../handlers/export/fakes";

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

function recorder(): { log: Log; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => lines.push({ level, message, ...extra });
  return { lines, log: { debug: at("DEBUG"), info: at("INFO"), warn: at("WARN"), error: at("ERROR") } as unknown as Log };
}

function setup() {
  const { s3, objects, mock: s3Mock } = fakeS3();
  putDocument(objects, "docs/catalogue.json", catalogueDocument(40));
  const sfn = new SFNClient({ region: "eu-west-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } });
  const sfnMock = mockClient(sfn);
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  sfnMock.on(SendTaskFailureCommand).resolves({});
  sfnMock.on(SendTaskHeartbeatCommand).resolves({});
  const { log, lines } = recorder();
  return { s3, objects, s3Mock, sfn, sfnMock, log, lines };
}

const JOB = { formatVersion: 1, jobId: "job-42", documentKey: "docs/catalogue.json", format: "pdf" };
const ENV = { TASK_TOKEN: "token-1", EXPORT_JOB: JSON.stringify(JOB), DOCUMENTS_BUCKET: BUCKET };

/** Delays every GetObject, so the job takes long enough for heartbeats. */
function slowGets(s3Mock: ReturnType<typeof setup>["s3Mock"], objects: ReturnType<typeof setup>["objects"], ms: number): void {
  s3Mock.on(GetObjectCommand).callsFake(async (input) => {
    await sleep(ms);
    return { Body: sdkBody(objects.get(input.Key)!.body) };
  });
}

describe("export worker", () => {
  it("exports the document, logs progress as pages are done and reports SendTaskSuccess", async () => {
    const { s3, objects, sfn, sfnMock, log, lines } = setup();
    const code = await run(ENV, { s3, sfn, log });
    expect(code).to.equal(EXIT_CODES.success);
    const stored = objects.get("exports/job-42.pdf")!;
    expect(await pdfPageCount(stored.body)).to.equal(40);
    expect(stored.metadata).to.deep.equal({ "format-version": "1", "job-id": "job-42", pages: "40", runtime: "fargate" });
    const success = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(success).to.have.length(1);
    expect(success[0].args[0].input.taskToken).to.equal("token-1");
    expect(JSON.parse(success[0].args[0].input.output!)).to.deep.equal({
      formatVersion: 1,
      jobId: "job-42",
      outputKey: "exports/job-42.pdf",
      pages: 40,
      bytes: stored.body.length,
      runtime: "fargate",
    });
    const progress = lines.filter((line) => line.message === "progress").map((line) => line.pagesDone);
    expect(progress).to.deep.equal([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40]);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)).to.have.length(0);
  });

  it("sends heartbeats at HEARTBEAT_SECONDS while it works, and none after", async () => {
    const { s3, objects, s3Mock, sfn, sfnMock, log } = setup();
    slowGets(s3Mock, objects, 150);
    const code = await run({ ...ENV, HEARTBEAT_SECONDS: "0.02" }, { s3, sfn, log });
    expect(code).to.equal(EXIT_CODES.success);
    const beats = sfnMock.commandCalls(SendTaskHeartbeatCommand);
    expect(beats.length).to.be.greaterThanOrEqual(3);
    expect(beats[0].args[0].input).to.deep.equal({ taskToken: "token-1" });
    await sleep(80);
    expect(sfnMock.commandCalls(SendTaskHeartbeatCommand)).to.have.length(beats.length);
  });

  it("reports an invalid document with SendTaskFailure and exits 3", async () => {
    const { s3, objects, sfn, sfnMock, log } = setup();
    putDocument(objects, "docs/catalogue.json", { formatVersion: 2, title: "t", pageSize: { width: 1, height: 1 }, pages: [{ elements: [{ type: "rect" }] }] });
    const code = await run(ENV, { s3, sfn, log });
    expect(code).to.equal(EXIT_CODES.invalidDocument);
    const failure = sfnMock.commandCalls(SendTaskFailureCommand);
    expect(failure).to.have.length(1);
    expect(failure[0].args[0].input).to.deep.equal({
      taskToken: "token-1",
      error: "InvalidDocument",
      cause: `s3://${BUCKET}/docs/catalogue.json: pages[0].elements[0].x: expected a finite number; pages[0].elements[0].y: expected a finite number; pages[0].elements[0].width: expected a finite number (and 1 more problem)`,
    });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).to.have.length(0);
  });

  it("reports an upload failure with SendTaskFailure, the cause cut to 32,768 characters, and exits 4", async () => {
    const { s3, s3Mock, sfn, sfnMock, log } = setup();
    s3Mock.on(PutObjectCommand).rejects(Object.assign(new Error("denied ".repeat(6_000)), { name: "AccessDenied" }));
    const code = await run(ENV, { s3, sfn, log });
    expect(code).to.equal(EXIT_CODES.exportFailed);
    const { input } = sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0];
    expect(input.error).to.equal("AccessDenied");
    expect(input.cause).to.have.length(32_768);
  });

  it("exits 2 and reports InvalidExportRequest when EXPORT_JOB is not JSON", async () => {
    const { s3, sfn, sfnMock, log } = setup();
    const code = await run({ ...ENV, EXPORT_JOB: "{jobId: 42" }, { s3, sfn, log });
    expect(code).to.equal(EXIT_CODES.badInput);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input).to.deep.equal({
      taskToken: "token-1",
      error: "InvalidExportRequest",
      cause: "`EXPORT_JOB` must be set to a JSON object { formatVersion: 1, jobId, documentKey, format }",
    });
  });

  it("exits 2 naming the field when EXPORT_JOB lacks one", async () => {
    const { s3, sfn, sfnMock, log } = setup();
    const { documentKey: _, ...job } = JOB;
    const code = await run({ ...ENV, EXPORT_JOB: JSON.stringify(job) }, { s3, sfn, log });
    expect(code).to.equal(EXIT_CODES.badInput);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input.cause).to.equal("EXPORT_JOB: documentKey: expected a string");
  });

  it("without TASK_TOKEN only exits with its code, calling no Step Functions API", async () => {
    const { s3, sfn, sfnMock, log } = setup();
    const { TASK_TOKEN: _, ...env } = ENV;
    expect(await run(env, { s3, sfn, log })).to.equal(EXIT_CODES.success);
    expect(await run({ ...env, EXPORT_JOB: "" }, { s3, sfn, log })).to.equal(EXIT_CODES.badInput);
    expect(sfnMock.calls()).to.have.length(0);
  });

  it("exits 5 when it cannot report success", async () => {
    const { s3, sfn, sfnMock, log } = setup();
    sfnMock.on(SendTaskSuccessCommand).rejects(Object.assign(new Error("gone"), { name: "InvalidToken" }));
    expect(await run(ENV, { s3, sfn, log })).to.equal(EXIT_CODES.unreported);
  });

  it("exits 5 when it cannot report a failure", async () => {
    const { s3, sfn, sfnMock, log } = setup();
    sfnMock.on(SendTaskFailureCommand).rejects(Object.assign(new Error("throttled"), { name: "ThrottlingException" }));
    expect(await run({ ...ENV, EXPORT_JOB: "nope" }, { s3, sfn, log })).to.equal(EXIT_CODES.unreported);
  });

  it("stops working and exits 5 when a heartbeat says the task timed out", async () => {
    const { s3, objects, s3Mock, sfn, sfnMock, log } = setup();
    slowGets(s3Mock, objects, 100);
    sfnMock.on(SendTaskHeartbeatCommand).rejects(Object.assign(new Error("Task Timed Out"), { name: "TaskTimedOut" }));
    const code = await run({ ...ENV, HEARTBEAT_SECONDS: "0.02" }, { s3, sfn, log });
    expect(code).to.equal(EXIT_CODES.unreported);
    expect(objects.has("exports/job-42.pdf")).to.equal(false);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).to.have.length(0);
  });

  it("keeps working through a heartbeat that fails for another reason", async () => {
    const { s3, objects, s3Mock, sfn, sfnMock, log, lines } = setup();
    slowGets(s3Mock, objects, 60);
    sfnMock.on(SendTaskHeartbeatCommand).rejectsOnce(Object.assign(new Error("slow down"), { name: "ThrottlingException" })).resolves({});
    expect(await run({ ...ENV, HEARTBEAT_SECONDS: "0.02" }, { s3, sfn, log })).to.equal(EXIT_CODES.success);
    expect(lines.some((line) => line.level === "WARN" && line.error === "ThrottlingException")).to.equal(true);
  });

  it("when stopped (SIGTERM), reports the stop with SendTaskFailure and exits 4", async () => {
    const { s3, objects, s3Mock, sfn, sfnMock, log } = setup();
    slowGets(s3Mock, objects, 50);
    const stop = new AbortController();
    setTimeout(() => stop.abort(Object.assign(new Error("ECS stopped the task (SIGTERM)"), { name: "TaskStopped" })), 10);
    expect(await run(ENV, { s3, sfn, log, signal: stop.signal })).to.equal(EXIT_CODES.exportFailed);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input).to.include({ error: "TaskStopped", cause: "ECS stopped the task (SIGTERM)" });
  });
});
