import { S3Client } from "@aws-sdk/client-s3";
import { expect } from "chai";
import type { Context } from "aws-lambda";
import { catalogueDocument } from "../../../scripts/generate-documents";
import { BUCKET, assertWellFormedXml, fakeS3, pdfPageCount, putDocument } from "./fakes";

/** What the Lambda runtime passes; the handlers only hand it to the logger. */
const context = { functionName: "export", awsRequestId: "request-1", invokedFunctionArn: "arn:aws:lambda:eu-west-1:000000000000:function:export", memoryLimitInMB: "256", functionVersion: "$LATEST", getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

describe("export entry points", () => {
  const env = { DOCUMENTS_BUCKET: BUCKET, EXPORTS_PREFIX: "out/", AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", POWERTOOLS_LOG_LEVEL: "SILENT" };
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  let fake: ReturnType<typeof fakeS3>;

  before(() => {
    // Entry points read their configuration and create their clients once, at import: set both up first.
    Object.assign(process.env, env);
    fake = fakeS3(S3Client);
    putDocument(fake.objects, "docs/catalogue.json", catalogueDocument(40));
  });
  after(() => {
    fake.mock.restore();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it("export-svg renders SVG to ${EXPORTS_PREFIX}<jobId>.svg in DOCUMENTS_BUCKET", async () => {
    const { handler } = require("../../../handlers/export-svg") as typeof import("../../../handlers/export-svg");
    const result = await handler({ formatVersion: 1, jobId: "entry-svg", documentKey: "docs/catalogue.json" }, context);
    expect(result).to.include({ outputKey: "out/entry-svg.svg", pages: 40, runtime: "lambda" });
    assertWellFormedXml(fake.objects.get("out/entry-svg.svg")!.body.toString());
  });

  it("export-pdf renders PDF to ${EXPORTS_PREFIX}<jobId>.pdf in DOCUMENTS_BUCKET", async () => {
    const { handler } = require("../../../handlers/export-pdf") as typeof import("../../../handlers/export-pdf");
    const result = await handler({ formatVersion: 1, jobId: "entry-pdf", documentKey: "docs/catalogue.json", pages: [1, 3] }, context);
    expect(result).to.include({ outputKey: "out/entry-pdf.pdf", pages: 3, runtime: "lambda" });
    expect(await pdfPageCount(fake.objects.get("out/entry-pdf.pdf")!.body)).to.equal(3);
  });
});
