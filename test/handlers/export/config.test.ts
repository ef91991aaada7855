import { expect } from "chai";
import { readEstimateConfig, readExportsConfig, readJobsConfig, readSplitConfig } from "../../../handlers/export/config";

/** What infra always sets for the estimate's routing (no default could be right for every stack). */
const ROUTING = { MAP_MAX_CONCURRENCY: "5", MAP_SECONDS_AVAILABLE: "13600", MAP_CHUNK_SECONDS_SVG: "780", MAP_CHUNK_SECONDS_PDF: "780", FARGATE_SECONDS_AVAILABLE: "10680", FARGATE_SPEEDUP_SVG: "8.5", FARGATE_SPEEDUP_PDF: "5" };
const routeLimits = { mapMaxConcurrency: 5, mapSecondsAvailable: 13_600, mapChunkSeconds: { svg: 780, pdf: 780 }, fargateSecondsAvailable: 10_680, fargateSpeedup: { svg: 8.5, pdf: 5 } };

describe("export configuration", () => {
  it("applies the documented defaults", () => {
    expect(readEstimateConfig({ DOCUMENTS_BUCKET: "docs", ...ROUTING })).to.deep.equal({
      bucket: "docs",
      secondsPerPage: { svg: 0.5, pdf: 30 },
      lambdaBudgetSeconds: 720,
      routeLimits,
    });
    expect(readExportsConfig({ DOCUMENTS_BUCKET: "docs" })).to.deep.equal({ bucket: "docs", exportsPrefix: "exports/" });
    expect(readSplitConfig({})).to.deep.equal({ partsPrefix: "parts/" });
  });

  it("reads every variable it documents", () => {
    expect(
      readEstimateConfig({ DOCUMENTS_BUCKET: "b", SECONDS_PER_PAGE_SVG: "0.01", SECONDS_PER_PAGE_PDF: "2.5", LAMBDA_BUDGET_SECONDS: "600", ...ROUTING }),
    ).to.deep.equal({ bucket: "b", secondsPerPage: { svg: 0.01, pdf: 2.5 }, lambdaBudgetSeconds: 600, routeLimits });
    expect(readExportsConfig({ DOCUMENTS_BUCKET: "b", EXPORTS_PREFIX: "out/pdf/" }).exportsPrefix).to.equal("out/pdf/");
    expect(readJobsConfig({ JOBS_TABLE: "jobs" })).to.deep.equal({ table: "jobs" });
  });

  it("requires every routing limit, within its range, naming it", () => {
    for (const name of Object.keys(ROUTING)) {
      const { [name]: _, ...rest } = ROUTING as Record<string, string>;
      expect(() => readEstimateConfig({ DOCUMENTS_BUCKET: "b", ...rest }), name).to.throw(`\`${name}\` must be set`);
    }
    expect(() => readEstimateConfig({ DOCUMENTS_BUCKET: "b", ...ROUTING, MAP_MAX_CONCURRENCY: "40" })).to.not.throw();
    expect(() => readEstimateConfig({ DOCUMENTS_BUCKET: "b", ...ROUTING, MAP_MAX_CONCURRENCY: "41" })).to.throw(
      "`MAP_MAX_CONCURRENCY` must be a number from 1 to 40 (the Map state's MaxConcurrency), got \"41\"",
    );
    expect(() => readEstimateConfig({ DOCUMENTS_BUCKET: "b", ...ROUTING, FARGATE_SPEEDUP_PDF: "0" })).to.throw("`FARGATE_SPEEDUP_PDF` must be a number from 0.01 to 100");
    expect(() => readEstimateConfig({ DOCUMENTS_BUCKET: "b", ...ROUTING, MAP_CHUNK_SECONDS_PDF: "910" })).to.not.throw();
    expect(() => readEstimateConfig({ DOCUMENTS_BUCKET: "b", ...ROUTING, MAP_CHUNK_SECONDS_PDF: "911" })).to.throw(
      "`MAP_CHUNK_SECONDS_PDF` must be a number from 1 to 910 (the PDF exporter's Task timeout in seconds), got \"911\"",
    );
  });

  it("names a missing variable", () => {
    expect(() => readExportsConfig({})).to.throw("`DOCUMENTS_BUCKET` must be set (the bucket holding documents and exports)");
    expect(() => readJobsConfig({ JOBS_TABLE: " " })).to.throw("`JOBS_TABLE` must be set (the DynamoDB table of export jobs)");
  });

  it("names a malformed variable and what it got", () => {
    expect(() => readEstimateConfig({ DOCUMENTS_BUCKET: "b", SECONDS_PER_PAGE_PDF: "fast", ...ROUTING })).to.throw(
      '`SECONDS_PER_PAGE_PDF` must be a number > 0 (got "fast")',
    );
    expect(() => readEstimateConfig({ DOCUMENTS_BUCKET: "b", LAMBDA_BUDGET_SECONDS: "901", ...ROUTING })).to.throw(
      '`LAMBDA_BUDGET_SECONDS` must be a number > 0 and ≤ 900 (got "901")',
    );
    expect(() => readSplitConfig({ PARTS_PREFIX: "parts" })).to.throw('`PARTS_PREFIX` must be an S3 key prefix ending in "/" (got "parts")');
  });
});
