import { expect } from "chai";
import { chooseRoute, MAP_PAYLOAD_BYTES, RouteInput, RouteLimits } from "../../../handlers/export/estimate";
import { MAX_CHUNKS } from "../../../handlers/export/requests";

/**
 * Where an export runs, chosen before anything is billed (handlers/export/estimate.ts chooseRoute): each rule at its
 * bound and one past it.
 */
describe("export routing", () => {
  const limits: RouteLimits = { lambdaBudgetSeconds: 720, mapMaxConcurrency: 10, mapSecondsAvailable: 12_000, mapChunkSeconds: 780, fargateSecondsAvailable: 10_000, fargateSpeedup: 2 };
  const input = (pages: number, secondsPerPage: number, extra: Partial<RouteInput> = {}): RouteInput => ({ jobId: "job-1", documentKey: "documents/d.json", format: "pdf", pages, secondsPerPage, ...extra });
  const route = (i: RouteInput, l: Partial<RouteLimits> = {}) => chooseRoute(i, { ...limits, ...l });

  it("runs an export on the format's Lambda up to the budget, and no further", () => {
    expect(route(input(24, 30))).to.deep.include({ route: "lambda", reason: "estimated 720 s, within the Lambda budget of 720 s" });
    expect(route(input(25, 30)).route).to.equal("map");
  });

  it("splits a longer export by default into chunks that each fit the budget, rounding the chunk size down", () => {
    // 720 / 50 = 14.4 pages: chunks of 14 (700 s), never 15 (750 s, over the budget).
    const r = route(input(100, 50));
    expect(r).to.deep.equal({
      route: "map",
      pagesPerChunk: 14,
      reason: "estimated 5,000 s for 100 pages at 50 s each, over the Lambda budget of 720 s: split into 8 chunks of 14 pages, 1 waves of 10, about 700 s and at most 780 s",
    });
    expect(route(input(100, 50), {}).route).to.equal(route(input(100, 50, { parallel: true })).route);
  });

  it("runs one worker on Fargate when the request asks for it (parallel: false)", () => {
    const r = route(input(100, 50, { parallel: false }));
    expect(r.route).to.equal("fargate");
    expect(r.reason).to.contain("not split: one worker was asked for (parallel: false); on Fargate about 2,500 s (2.00× the Lambda's speed), within the worker's 10,000 s");
  });

  it("sends to Fargate what cannot be split into Lambda-sized chunks: a page over the budget", () => {
    expect(route(input(1, 720)).route).to.equal("lambda");
    expect(route(input(3, 720)).route).to.equal("map");
    const r = route(input(3, 721));
    expect(r).to.deep.include({ route: "fargate", pagesPerChunk: 1 });
    expect(r.reason).to.contain("one page (721 s) is over the Lambda budget");
  });

  it(`sends to Fargate a split of more than ${MAX_CHUNKS} chunks`, () => {
    // 1 s per page: chunks of 720 pages; 720,000 pages are 1,000 chunks, one more page is 1,001.
    const wide = { mapMaxConcurrency: 40, mapSecondsAvailable: 1_000_000, fargateSecondsAvailable: 1_000_000 };
    expect(route(input(720_000, 1, { documentKey: "d" }), wide).route).to.equal("map");
    const r = route(input(720_001, 1, { documentKey: "d" }), wide);
    expect(r.route).to.equal("fargate");
    expect(r.reason).to.contain(`1001 chunks of 720 pages, more than the Map's ${MAX_CHUNKS}`);
  });

  it("sends to Fargate a split whose chunk list would not fit the Map's state", () => {
    const wide = { mapMaxConcurrency: 40, mapSecondsAvailable: 1_000_000, fargateSecondsAvailable: 1_000_000 };
    const longKey = `documents/${"k".repeat(900)}.json`;
    const r = route(input(720 * 300, 1, { documentKey: longKey }), wide);
    expect(r.route).to.equal("fargate");
    expect(r.reason).to.match(new RegExp(`300 chunks make a \\d+ KiB chunk list, more than the ${MAP_PAYLOAD_BYTES / 1024} KiB the Map's state may carry`));
    expect(route(input(720 * 100, 1, { documentKey: longKey }), wide).route).to.equal("map");
  });

  it("sends to Fargate a split whose waves, each as long as the exporter's Task timeout, would not end in the time the execution leaves the Map", () => {
    // 30 s per page: chunks of 24 pages (720 s expected); 100 chunks in waves of 10 → 10 waves. A chunk slower than
    // its estimate runs until the exporter's 780 s timeout, so the Map may take 7,800 s, not 7,200 s.
    const wide = { fargateSecondsAvailable: 100_000 };
    expect(route(input(2_400, 30), { ...wide, mapSecondsAvailable: 7_800 }).route).to.equal("map");
    const r = route(input(2_400, 30), { ...wide, mapSecondsAvailable: 7_799 });
    expect(r.route).to.equal("fargate");
    expect(r.reason).to.contain("100 chunks in 10 waves of 10 may take 7,800 s (a wave lasts up to the exporter's 780 s Task timeout), more than the 7,799 s the execution leaves the Map");
    expect(route(input(2_400, 30), { ...wide, mapSecondsAvailable: 7_200 }).route).to.equal("fargate");
  });

  it("refuses, with every runtime's figures, what no runtime can finish in time — and takes Fargate's speed into account", () => {
    // One worker: 10,000 pages × 2 s = 20,000 s on the Lambda, 10,000 s on a worker twice as fast.
    expect(route(input(10_000, 2, { parallel: false })).route).to.equal("fargate");
    const r = route(input(10_001, 2, { parallel: false }));
    expect(r).to.deep.equal({
      route: "none",
      pagesPerChunk: 360,
      reason:
        "estimated 20,002 s for 10001 pages at 2 s each, over the Lambda budget of 720 s; not split: one worker was asked for (parallel: false); on Fargate about 10,001 s (2.00× the Lambda's speed), more than the worker's 10,000 s",
    });
  });
});
