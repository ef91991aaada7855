import { expect } from "chai";
import { readEstimateConfig, readExportsConfig, readJobsConfig, readSplitConfig } from "../../../handlers/export/config";

describe("export configuration", () => {
  it("applies the documented defaults", () => {
    expect(readEstimateConfig({ DOCUMENTS_BUCKET: "docs" })).to.deep.equal({
      bucket: "docs",
      secondsPerPage: { svg: 0.5, pdf: 30 },
      lambdaBudgetSeconds: 720,
    });
    expect(readExportsConfig({ DOCUMENTS_BUCKET: "docs" })).to.deep.equal({ bucket: "docs", exportsPrefix: "exports/" });
    expect(readSplitConfig({})).to.deep.equal({ partsPrefix: "parts/" });
  });

  it("reads every variable it documents", () => {
    expect(
      readEstimateConfig({ DOCUMENTS_BUCKET: "b", SECONDS_PER_PAGE_SVG: "0.01", SECONDS_PER_PAGE_PDF: "2.5", LAMBDA_BUDGET_SECONDS: "600" }),
    ).to.deep.equal({ bucket: "b", secondsPerPage: { svg: 0.01, pdf: 2.5 }, lambdaBudgetSeconds: 600 });
    expect(readExportsConfig({ DOCUMENTS_BUCKET: "b", EXPORTS_PREFIX: "out/pdf/" }).exportsPrefix).to.equal("out/pdf/");
    expect(readJobsConfig({ JOBS_TABLE: "jobs" })).to.deep.equal({ table: "jobs" });
  });

  it("names a missing variable", () => {
    expect(() => readExportsConfig({})).to.throw("`DOCUMENTS_BUCKET` must be set (the bucket holding documents and exports)");
    expect(() => readJobsConfig({ JOBS_TABLE: " " })).to.throw("`JOBS_TABLE` must be set (the DynamoDB table of export jobs)");
  });

  it("names a malformed variable and what it got", () => {
    expect(() => readEstimateConfig({ DOCUMENTS_BUCKET: "b", SECONDS_PER_PAGE_PDF: "fast" })).to.throw(
      '`SECONDS_PER_PAGE_PDF` must be a number > 0 (got "fast")',
    );
    expect(() => readEstimateConfig({ DOCUMENTS_BUCKET: "b", LAMBDA_BUDGET_SECONDS: "901" })).to.throw(
      '`LAMBDA_BUDGET_SECONDS` must be a number > 0 and ≤ 900 (got "901")',
    );
    expect(() => readSplitConfig({ PARTS_PREFIX: "parts" })).to.throw('`PARTS_PREFIX` must be an S3 key prefix ending in "/" (got "parts")');
  });
});
