import { ConditionalCheckFailedException, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { recordJobStatus } from "../../../handlers/export/job-status";
import type { Log } from "../../../handlers/export/logger";
import { InvalidExportRequestError } from "../../../handlers/shared/errors";

const NOW = new Date("2025-03-14T12:00:00.000Z");

function setup() {
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "eu-west-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } }));
  const mock = mockClient(ddb);
  const warnings: unknown[] = [];
  const log = { debug: () => undefined, info: () => undefined, warn: (...args: unknown[]) => warnings.push(args), error: () => undefined } as unknown as Log;
  return { mock, warnings, deps: { ddb, config: { table: "export-jobs" }, log, now: () => NOW } };
}

function alreadyFinished(status: string): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: "The conditional request failed",
    $metadata: {},
    Item: { jobId: { S: "job-1" }, status: { S: status } },
  });
}

describe("export-job-status", () => {
  it("records RUNNING with the request's details, only while the job is absent or RUNNING", async () => {
    const { mock, deps } = setup();
    mock.on(UpdateCommand).resolves({});
    const result = await recordJobStatus(deps, { formatVersion: 1, jobId: "job-1", status: "RUNNING", documentKey: "docs/a.json", format: "pdf" });
    expect(result).to.deep.equal({ formatVersion: 1, jobId: "job-1", status: "RUNNING" });
    expect(mock.commandCalls(UpdateCommand)[0].args[0].input).to.deep.equal({
      TableName: "export-jobs",
      Key: { jobId: "job-1" },
      UpdateExpression:
        "SET #status = :status, #formatVersion = :formatVersion, #updatedAt = :now, #startedAt = if_not_exists(#startedAt, :now), " +
        "#documentKey = :documentKey, #format = :format",
      ConditionExpression: "attribute_not_exists(jobId) OR #status = :running",
      ExpressionAttributeNames: {
        "#status": "status",
        "#formatVersion": "formatVersion",
        "#updatedAt": "updatedAt",
        "#startedAt": "startedAt",
        "#documentKey": "documentKey",
        "#format": "format",
      },
      ExpressionAttributeValues: {
        ":status": "RUNNING",
        ":running": "RUNNING",
        ":formatVersion": 1,
        ":now": "2025-03-14T12:00:00.000Z",
        ":documentKey": "docs/a.json",
        ":format": "pdf",
      },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    });
  });

  it("records SUCCEEDED with the output, stamping finishedAt", async () => {
    const { mock, deps } = setup();
    mock.on(UpdateCommand).resolves({});
    await recordJobStatus(deps, { formatVersion: 1, jobId: "job-1", status: "SUCCEEDED", runtime: "map", outputKey: "exports/job-1.pdf", pages: 40, bytes: 1234 });
    const input = mock.commandCalls(UpdateCommand)[0].args[0].input;
    expect(input.UpdateExpression).to.equal(
      "SET #status = :status, #formatVersion = :formatVersion, #updatedAt = :now, #finishedAt = :now, " +
        "#runtime = :runtime, #outputKey = :outputKey, #pages = :pages, #bytes = :bytes",
    );
    expect(input.ConditionExpression).to.equal("attribute_not_exists(jobId) OR #status = :running");
  });

  it("does not let a late RUNNING overwrite a finished job, and reports the status it keeps", async () => {
    const { mock, deps, warnings } = setup();
    mock.on(UpdateCommand).rejects(alreadyFinished("SUCCEEDED"));
    const result = await recordJobStatus(deps, { formatVersion: 1, jobId: "job-1", status: "RUNNING" });
    expect(result).to.deep.equal({ formatVersion: 1, jobId: "job-1", status: "SUCCEEDED" });
    expect(warnings).to.have.length(1);
  });

  it("treats a repeated terminal status as a no-op", async () => {
    const { mock, deps, warnings } = setup();
    mock.on(UpdateCommand).rejects(alreadyFinished("FAILED"));
    const event = { formatVersion: 1, jobId: "job-1", status: "FAILED", error: { Error: "InvalidDocument", Cause: "bad" } };
    expect(await recordJobStatus(deps, event)).to.deep.equal({ formatVersion: 1, jobId: "job-1", status: "FAILED" });
    expect(warnings).to.have.length(0);
  });

  it("stores a failure's Cause cut to 32,768 characters instead of refusing it", async () => {
    const { mock, deps } = setup();
    mock.on(UpdateCommand).resolves({});
    await recordJobStatus(deps, { formatVersion: 1, jobId: "job-1", status: "FAILED", error: { Error: "States.Timeout", Cause: "x".repeat(40_000) } });
    const values = mock.commandCalls(UpdateCommand)[0].args[0].input.ExpressionAttributeValues!;
    expect((values[":error"] as { Cause: string }).Cause).to.have.length(32_768);
  });

  it("lets other DynamoDB errors through for the workflow to retry", async () => {
    const { mock, deps } = setup();
    mock.on(UpdateCommand).rejects(Object.assign(new Error("slow down"), { name: "ProvisionedThroughputExceededException" }));
    const error = await recordJobStatus(deps, { formatVersion: 1, jobId: "job-1", status: "RUNNING" }).catch((e: Error) => e);
    expect((error as Error).name).to.equal("ProvisionedThroughputExceededException");
  });

  it("refuses an unknown status with InvalidExportRequest", async () => {
    const { deps } = setup();
    const error = await recordJobStatus(deps, { formatVersion: 1, jobId: "job-1", status: "DONE" }).catch((e: Error) => e);
    expect(error).to.be.instanceOf(InvalidExportRequestError);
    expect((error as Error).message).to.equal('export-job-status event: status: expected one of "RUNNING", "SUCCEEDED", "FAILED"');
  });
});
