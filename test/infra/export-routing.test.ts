import { expect } from "chai";
import { readEstimateConfig } from "../../handlers/export/config";
import { chooseRoute, RouteInput } from "../../handlers/export/estimate";
import { MAX_CHUNKS } from "../../handlers/export/requests";
import { exportRoutingEnvironment } from "../../infra/export-routing";
import { stackSettings } from "../stacks";

/**
 * The routing limits as each stack deploys them — stack config → the estimate's environment → its parsed config —
 * held against the state machine's execution timeout, so a route the estimate accepts ends inside the execution.
 */
describe("export routing at each stack's settings", () => {
  const setup = (stack: string) => {
    const s = stackSettings(stack);
    const env = exportRoutingEnvironment({
      sizing: s.functions,
      mapMaxConcurrency: s.exportMapMaxConcurrency,
      workflowTimeoutSeconds: s.exportWorkflowTimeoutSeconds,
      fargate: { cpu: s.fargateCpu, timeoutSeconds: s.fargateTimeoutSeconds, startupAllowanceSeconds: s.fargateStartupAllowanceSeconds },
    });
    const config = readEstimateConfig({ DOCUMENTS_BUCKET: "docs", LAMBDA_BUDGET_SECONDS: String(s.exportLambdaBudgetSeconds), ...env });
    const route = (format: "svg" | "pdf", pages: number, parallel?: boolean) => {
      const input: RouteInput = { jobId: "job-0123456789", documentKey: "documents/catalogue.json", format, pages, secondsPerPage: format === "pdf" ? s.exportSecondsPerPagePdf : s.exportSecondsPerPageSvg, parallel };
      return chooseRoute(input, {
        ...config.routeLimits,
        lambdaBudgetSeconds: config.lambdaBudgetSeconds,
        mapChunkSeconds: config.routeLimits.mapChunkSeconds[format],
        fargateSpeedup: config.routeLimits.fargateSpeedup[format],
      });
    };
    return { s, route };
  };

  it("refuses a parallel PDF of 2,400 pages in dev: its Map waves and the worker would both outlast the execution", () => {
    const { route } = setup("dev");
    // 100 chunks of 24 pages in 20 waves of 5, each up to the PDF exporter's 790 s Task: 15,800 s, where the execution
    // leaves the Map 13,550 s; one worker at 5.03× the Lambda's speed needs 14,326 s of its 10,680 s.
    const r = route("pdf", 2_400);
    expect(r.route).to.equal("none");
    expect(r.reason).to.equal(
      "estimated 72,000 s for 2400 pages at 30 s each, over the Lambda budget of 720 s; not split: 100 chunks in 20 waves of 5 may take 15,800 s (a wave lasts up to the exporter's 790 s Task timeout), more than the 13,550 s the execution leaves the Map; on Fargate about 14,326 s (5.03× the Lambda's speed), more than the worker's 10,680 s",
    );
  });

  for (const stack of ["dev", "prod"]) {
    for (const format of ["svg", "pdf"] as const) {
      it(`${stack}, ${format}: every split the estimate sends to the Map ends inside the execution timeout even when each chunk runs to its timeout`, () => {
        const { s, route } = setup(stack);
        const f = s.functions;
        const exporter = format === "pdf" ? f.exportPdf : f.exportSvg;
        const pagesPerChunk = route(format, 1).pagesPerChunk;
        let largestMapChunks = 0;
        for (let chunks = 2; chunks <= MAX_CHUNKS; chunks++) {
          if (route(format, chunks * pagesPerChunk).route !== "map") continue;
          largestMapChunks = chunks;
          const waves = Math.ceil(chunks / s.exportMapMaxConcurrency);
          const worstPath = 2 * f.exportJobStatus.timeoutSeconds + f.exportEstimate.timeoutSeconds + f.exportSplit.timeoutSeconds + waves * exporter.timeoutSeconds + f.exportCombine.timeoutSeconds;
          expect(worstPath, `${chunks} chunks`).to.be.at.most(s.exportWorkflowTimeoutSeconds);
        }
        expect(largestMapChunks, "the Map takes some splits").to.be.greaterThan(1);
      });
    }
  }
});
