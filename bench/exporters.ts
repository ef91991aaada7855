/**
 * Peak memory and time of the export functions on catalogue documents of 10, 100 and 1,000 pages and at the document
 * cap (the most catalogue pages DOCUMENT_LIMITS.maxDocumentBytes allows), what memory each function should be given,
 * and what running SVG on its own function saves over one function sized for PDF.
 *
 *   npx tsx bench/exporters.ts [--runs N] [--svg-memory MB] [--pdf-memory MB]
 *   (or BENCH_RUNS / SVG_MEMORY_MB / PDF_MEMORY_MB / BENCH_STACK; defaults: 3 runs, the sizes the dev stack deploys)
 *
 * Each measurement is one fresh Node process running a function's real handler (handlers/export-*.ts, bundled with
 * the exporters' esbuild options, handlers/export/bundle/esbuild.mjs) on one event, against a local S3 (fake-s3.ts,
 * in this process) that serves the documents from files and discards what is written. So the measured process is the
 * function's whole code path — HeadObject, the download streamed through the reader, rendering, the multipart upload
 * with its part buffers — and nothing else. Peak RSS is the kernel's high-water mark (process.resourceUsage().maxRSS)
 * after the handler returns, and includes Node itself (the "empty process" figure printed). Time is the handler call
 * alone (not module load), on this machine's full CPU.
 *
 * Node's default heap sizing (on this 24 GB machine) lets garbage pile up while memory is plentiful; Lambda's Node.js
 * runtime instead sizes V8's heap from the function's memory setting. So each case also runs once with the heap capped
 * tightly (CAPPED_FLAGS): a peak close to what the function keeps alive, which is what "flat in page count" is about.
 * Recommendations use the default-heap peak, the larger one.
 *
 * Modes: `whole` is a single-Lambda export of the whole document (a scan to count the pages, then the rendering
 * read); `chunk` is one Map iteration, the last chunk of a parallel export (pagesPerChunk pages from the estimate's
 * defaults), which reads the whole document and renders only its range; `estimate` validates and counts the pages;
 * `combine` merges the PDF parts of the document-cap export with pdf-lib, which holds the whole PDF.
 */
import { programGraph } from "../scripts/program-graph";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import * as esbuild from "esbuild";
import { exporterBuildOptions } from "../handlers/export/bundle/esbuild.mjs";
import { readEstimateConfig } from "../handlers/export/config";
import { DOCUMENT_LIMITS } from "../handlers/export/document";
import { documentStreamOf } from "../handlers/export/document-stream";
import { renderPdf } from "../handlers/export/render/pdf";
import { catalogueDocument, stringifyDocument } from "../scripts/generate-documents";
import { type FakeS3, startFakeS3 } from "./fake-s3";

const exec = promisify(execFile);
const ROOT = path.join(__dirname, "..");
const WORK = path.join(ROOT, ".build", "bench-exporters");
const BUCKET = "bench-documents";

/** AWS Lambda x86 prices (us-east-1). */
const PRICE_PER_GB_SECOND = 0.0000166667;
const PRICE_PER_REQUEST = 0.2 / 1_000_000;
/** Lambda gives a function one full vCPU at 1,769 MB and CPU in proportion to memory below that. */
const MB_PER_VCPU = 1769;
/** Lambda memory settings: whole MB from 128 to 10,240. */
const LAMBDA_MIN_MB = 128;
/** Recommended memory = peak at the document cap × this, rounded up to a whole MB. */
const SAFETY_MARGIN = 1.2;
/** A setting above this multiple of the measured peak is oversized (the benchmark target). */
const OVERSIZE_LIMIT = 1.5;
/** One measurement may take this long; past it the measurement is reported as over the limit. */
const MEASUREMENT_LIMIT_MS = 180_000;
/**
 * Young generation 1 MB, old generation 48 MB: tight enough that garbage cannot pile up, so the peak is close to what
 * the function keeps alive; enough for every export function at the cap, but not for combine (pdf-lib holds the PDF).
 */
const CAPPED_FLAGS = ["--max-semi-space-size=1", "--max-old-space-size=48"];

const FUNCTIONS = {
  estimate: "handlers/export-estimate.ts",
  svg: "handlers/export-svg.ts",
  pdf: "handlers/export-pdf.ts",
  combine: "handlers/export-combine.ts",
} as const;
type FunctionName = keyof typeof FUNCTIONS;

/** What the child process runs: import a handler bundle, call it once, report time and peak RSS. */
const CHILD_SOURCE = `
import { pathToFileURL } from "node:url";
const [bundle, eventJson] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(bundle).href);
let ms = 0;
let result = null;
if (eventJson !== "idle") {
  const context = { functionName: "bench", functionVersion: "$LATEST", invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:bench",
    memoryLimitInMB: "10240", awsRequestId: "bench", logGroupName: "bench", logStreamName: "bench", getRemainingTimeInMillis: () => 900000 };
  const started = performance.now();
  result = await handler(JSON.parse(eventJson), context);
  ms = performance.now() - started;
}
process.stdout.write("\\n" + JSON.stringify({ ms, result, maxRssKb: process.resourceUsage().maxRSS }));
`;

interface Measurement {
  readonly ms: number;
  readonly peakMb: number;
  readonly result: { bytes?: number; pages?: number } | null;
}

interface Case {
  readonly fn: FunctionName;
  readonly mode: "whole" | "chunk" | "estimate" | "combine" | "idle";
  readonly pages: number;
  readonly event: unknown;
}

function option(name: string, envName: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const raw = index >= 0 ? process.argv[index + 1] : process.env[envName];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} / ${envName} must be a positive number (got ${raw})`);
  return value;
}

type Outcome = Measurement | "over limit" | "failed";

async function measure(s3: FakeS3, bundle: string, event: unknown, flags: readonly string[] = []): Promise<Outcome> {
  const env = {
    PATH: process.env.PATH ?? "",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    DOCUMENTS_BUCKET: BUCKET,
    POWERTOOLS_LOG_LEVEL: "SILENT",
  };
  try {
    const { stdout } = await exec(process.execPath, [...flags, path.join(WORK, "child.mjs"), bundle, event === "idle" ? "idle" : JSON.stringify(event)], {
      env,
      timeout: MEASUREMENT_LIMIT_MS,
      maxBuffer: 16 << 20,
    });
    const result = JSON.parse(stdout.trim().split("\n").pop()!) as { ms: number; result: Measurement["result"]; maxRssKb: number };
    return { ms: result.ms, result: result.result, peakMb: result.maxRssKb / 1024 };
  } catch (error) {
    if ((error as { killed?: boolean }).killed) return "over limit";
    // With a capped heap a function may run out of it (combine at the cap): that is a result, not a benchmark failure.
    if (flags.length > 0) return "failed";
    throw error;
  }
}

/** Median time, highest peak over `runs` fresh processes. */
async function measureRuns(s3: FakeS3, bundle: string, event: unknown, runs: number, flags: readonly string[] = []): Promise<Outcome> {
  const results: Measurement[] = [];
  for (let i = 0; i < runs; i++) {
    const result = await measure(s3, bundle, event, flags);
    if (typeof result === "string") return result;
    results.push(result);
  }
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  return { ...results[0], ms: times[Math.floor(times.length / 2)], peakMb: Math.max(...results.map((r) => r.peakMb)) };
}

async function emptyNodeRssMb(): Promise<number> {
  const { stdout } = await exec(process.execPath, ["-e", "process.stdout.write(String(process.resourceUsage().maxRSS))"]);
  return Number(stdout) / 1024;
}

/** The most catalogue pages whose document (as the generator writes it) is within the object size limit. */
function documentCapPages(): number {
  const size = (pages: number): number => Buffer.byteLength(stringifyDocument(catalogueDocument(pages)));
  const perPage = (size(200) - size(100)) / 100;
  let pages = Math.floor((DOCUMENT_LIMITS.maxDocumentBytes - size(1)) / perPage);
  while (size(pages + 1) <= DOCUMENT_LIMITS.maxDocumentBytes) pages++;
  while (size(pages) > DOCUMENT_LIMITS.maxDocumentBytes) pages--;
  return pages;
}

/** Renders the document-cap PDF as a parallel export would, in parts of `pagesPerChunk` pages, for combine. */
async function renderPdfParts(s3: FakeS3, pages: number, pagesPerChunk: number): Promise<Array<{ outputKey: string; pages: number; bytes: number }>> {
  const document = catalogueDocument(pages);
  const dir = path.join(WORK, "parts");
  mkdirSync(dir, { recursive: true });
  const parts = [];
  for (let from = 1, index = 1; from <= pages; from += pagesPerChunk, index++) {
    const to = Math.min(pages, from + pagesPerChunk - 1);
    const chunks: Uint8Array[] = [];
    for await (const chunk of renderPdf(documentStreamOf(document), { from, to })) chunks.push(chunk);
    const file = path.join(dir, `part-${String(index).padStart(5, "0")}.pdf`);
    const bytes = Buffer.concat(chunks);
    writeFileSync(file, bytes);
    const outputKey = `parts/bench/part-${String(index).padStart(5, "0")}.pdf`;
    s3.objects.set(outputKey, { file });
    parts.push({ outputKey, pages: to - from + 1, bytes: bytes.byteLength });
  }
  return parts;
}

/** Cost of 1,000 invocations of `ms` each at `memoryMb` (duration billed per started millisecond). */
function costPer1000(memoryMb: number, ms: number): number {
  return 1000 * ((memoryMb / 1024) * (Math.ceil(ms) / 1000) * PRICE_PER_GB_SECOND + PRICE_PER_REQUEST);
}

/** Duration on Lambda if the work is CPU-bound: below 1,769 MB a function gets that fraction of a vCPU. */
function cpuScaled(ms: number, memoryMb: number): number {
  return ms * Math.max(1, MB_PER_VCPU / memoryMb);
}

function recommendedMb(peakMb: number): number {
  return Math.max(LAMBDA_MIN_MB, Math.ceil(peakMb * SAFETY_MARGIN));
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);
const usd = (n: number): string => `$${n.toFixed(6)}`;
const verdict = (ok: boolean): string => (ok ? "HOLDS" : "DOES NOT HOLD");

async function main(): Promise<void> {
  const runs = option("runs", "BENCH_RUNS", 3);
  // The sizes the program deploys (read from its resource graph for the chosen stack), unless overridden.
  const stack = process.env.BENCH_STACK ?? "dev";
  const graph = await programGraph(stack);
  const deployed = (suffix: string): number => {
    const fn = graph.resources.find((r) => r.type === "aws:lambda/function:Function" && String(r.state.name).endsWith(`-${suffix}`));
    if (!fn) throw new Error(`the ${stack} stack has no function ending in -${suffix}`);
    return fn.inputs.memorySize as number;
  };
  const configured = { svg: option("svg-memory", "SVG_MEMORY_MB", deployed("export-svg")), pdf: option("pdf-memory", "PDF_MEMORY_MB", deployed("export-pdf")) };
  console.log(`configured memory (${stack} stack): export-svg ${configured.svg} MB, export-pdf ${configured.pdf} MB`);
  mkdirSync(WORK, { recursive: true });
  const started = performance.now();

  // Bundles: each function's real entry point, as deployed.
  writeFileSync(path.join(WORK, "child.mjs"), CHILD_SOURCE);
  const bundles = {} as Record<FunctionName, string>;
  for (const [fn, entry] of Object.entries(FUNCTIONS) as Array<[FunctionName, string]>) {
    bundles[fn] = path.join(WORK, `${fn}.mjs`);
    await esbuild.build({ ...exporterBuildOptions(), entryPoints: [path.join(ROOT, entry)], outfile: bundles[fn] });
  }

  const capPages = documentCapPages();
  const sizes = [10, 100, 1000, capPages];
  const s3 = await startFakeS3();
  const docKey = (pages: number): string => `docs/catalogue-${pages}.json`;
  const docBytes = new Map<number, number>();
  for (const pages of sizes) {
    const text = stringifyDocument(catalogueDocument(pages));
    const file = path.join(WORK, `catalogue-${pages}.json`);
    writeFileSync(file, text);
    docBytes.set(pages, Buffer.byteLength(text));
    s3.objects.set(docKey(pages), { file, metadata: { "format-version": "2" } });
  }
  const estimateConfig = readEstimateConfig({ DOCUMENTS_BUCKET: BUCKET });
  const pagesPerChunk = {
    svg: Math.max(1, Math.floor(estimateConfig.lambdaBudgetSeconds / estimateConfig.secondsPerPage.svg)),
    pdf: Math.max(1, Math.floor(estimateConfig.lambdaBudgetSeconds / estimateConfig.secondsPerPage.pdf)),
  };
  const parts = await renderPdfParts(s3, capPages, pagesPerChunk.pdf);

  const cases: Case[] = [];
  for (const fn of Object.keys(FUNCTIONS) as FunctionName[]) cases.push({ fn, mode: "idle", pages: 0, event: "idle" });
  for (const pages of sizes) {
    const documentKey = docKey(pages);
    cases.push({ fn: "estimate", mode: "estimate", pages, event: { jobId: `estimate-${pages}`, documentKey, format: "svg" } });
    for (const fn of ["svg", "pdf"] as const) {
      const chunkFrom = Math.max(1, pages - pagesPerChunk[fn] + 1);
      cases.push({ fn, mode: "whole", pages, event: { formatVersion: 1, jobId: `${fn}-${pages}`, documentKey } });
      cases.push({ fn, mode: "chunk", pages, event: { formatVersion: 1, jobId: `${fn}-${pages}-chunk`, documentKey, pages: [chunkFrom, pages] } });
    }
  }
  cases.push({ fn: "combine", mode: "combine", pages: capPages, event: { formatVersion: 1, jobId: "bench", format: "pdf", parts } });

  const emptyMb = await emptyNodeRssMb();
  const results = new Map<Case, Outcome>();
  const capped = new Map<Case, Outcome>();
  for (const c of cases) {
    results.set(c, await measureRuns(s3, bundles[c.fn], c.event, c.mode === "idle" ? 1 : runs));
    capped.set(c, await measureRuns(s3, bundles[c.fn], c.event, 1, CAPPED_FLAGS));
  }
  await s3.close();
  const find = (table: Map<Case, Outcome>, fn: FunctionName, mode: Case["mode"], pages: number): Measurement | undefined => {
    const c = cases.find((x) => x.fn === fn && x.mode === mode && x.pages === pages);
    const m = c === undefined ? undefined : table.get(c);
    return m === undefined || typeof m === "string" ? undefined : m;
  };
  const measured = (fn: FunctionName, mode: Case["mode"], pages: number): Measurement | undefined => find(results, fn, mode, pages);

  console.log(
    `Exporter benchmark — Node ${process.version}, ${runs} fresh process(es) per cell (median time, highest peak RSS), ` +
      `${fmt((performance.now() - started) / 1000, 0)} s`,
  );
  console.log(
    `Document cap: ${capPages} catalogue pages = ${docBytes.get(capPages)} bytes (limit ${DOCUMENT_LIMITS.maxDocumentBytes}). ` +
      `Chunks: ${pagesPerChunk.svg} pages (SVG), ${pagesPerChunk.pdf} pages (PDF), from the estimate's defaults.`,
  );
  console.log(`Runtime overhead: an empty Node process peaks at ${fmt(emptyMb)} MB RSS; every peak below includes it.`);
  console.log();
  const header = ["function", "mode", "pages", "doc KB", "time ms", "ms/page", "peak RSS MB", "capped heap: peak MB", "output KB"];
  const rows: string[][] = [];
  for (const c of cases) {
    const m = results.get(c)!;
    const doc = c.pages === 0 || c.mode === "combine" ? "-" : fmt(docBytes.get(c.pages)! / 1024, 0);
    const pages = c.mode === "idle" ? "-" : String(c.pages);
    const cappedPeak = ((x) => (typeof x === "string" || x === undefined ? (x ?? "-") : fmt(x.peakMb)))(capped.get(c));
    if (typeof m === "string") {
      rows.push([c.fn, c.mode, pages, doc, m === "over limit" ? `> ${MEASUREMENT_LIMIT_MS}` : m, "-", "-", cappedPeak, "-"]);
      continue;
    }
    const rendered = c.mode === "chunk" ? (c.event as { pages: [number, number] }).pages : [1, c.pages];
    const renderedPages = rendered[1] - rendered[0] + 1;
    rows.push([
      c.fn,
      c.mode === "chunk" ? `chunk ${rendered[0]}–${rendered[1]}` : c.mode,
      pages,
      doc,
      c.mode === "idle" ? "-" : fmt(m.ms),
      c.mode === "idle" ? "-" : fmt(m.ms / renderedPages, 2),
      fmt(m.peakMb),
      cappedPeak,
      m.result?.bytes === undefined ? "-" : fmt(m.result.bytes / 1024, 0),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log();

  // 1. Peak memory flat in page count.
  console.log(
    `Peak memory vs page count (10 / 100 / 1,000 / ${capPages} pages). "Flat" = the cap peak ≤ 1.2 × the 10-page peak; the growth ` +
      `per 1,000 pages beyond 1,000 shows what each page still costs (the whole-document reader it replaces added ≈ 55 MB per 1,000).`,
  );
  for (const [fn, mode] of [["svg", "whole"], ["svg", "chunk"], ["estimate", "estimate"], ["pdf", "whole"], ["pdf", "chunk"]] as const) {
    for (const [label, table] of [["default heap", results], ["capped heap", capped]] as const) {
      const peaks = sizes.map((pages) => find(table, fn, mode, pages)?.peakMb);
      if (peaks.some((p) => p === undefined)) continue;
      const [first, , thousand, last] = peaks as number[];
      const slope = ((last - thousand) / (capPages - 1000)) * 1000;
      console.log(
        `  ${`${fn} ${mode}, ${label}:`.padEnd(30)} ${peaks.map((p) => fmt(p!)).join(" / ")} MB; cap ≤ 1.2 × 10-page peak ` +
          `${verdict(last <= 1.2 * first)} (× ${fmt(last / first, 2)}); beyond 1,000 pages ${fmt(slope)} MB per 1,000 pages`,
      );
    }
  }
  console.log();

  // 2. Memory to configure: the peak at the document cap × the safety margin.
  const capPeak = (fn: FunctionName): number =>
    Math.max(...cases.filter((c) => c.fn === fn && c.mode !== "idle" && c.pages === capPages).map((c) => measured(c.fn, c.mode, c.pages)?.peakMb ?? NaN));
  const recommended = {} as Record<FunctionName, number>;
  for (const fn of Object.keys(FUNCTIONS) as FunctionName[]) {
    const peak = capPeak(fn);
    recommended[fn] = recommendedMb(peak);
    console.log(
      `export-${fn}: peak at the document cap ${fmt(peak)} MB → recommended memory ${recommended[fn]} MB ` +
        `(peak × ${SAFETY_MARGIN}, ≥ ${LAMBDA_MIN_MB}); ≤ ${OVERSIZE_LIMIT} × peak (${fmt(OVERSIZE_LIMIT * peak, 0)} MB): ` +
        `${verdict(recommended[fn] <= OVERSIZE_LIMIT * peak)}`,
    );
  }
  for (const fn of ["svg", "pdf"] as const) {
    const peak = capPeak(fn);
    console.log(
      `export-${fn} as configured (${configured[fn]} MB): fits the cap peak ${verdict(configured[fn] >= peak)}; ` +
        `≤ ${OVERSIZE_LIMIT} × peak ${verdict(configured[fn] <= OVERSIZE_LIMIT * peak)}`,
    );
  }
  const combine = measured("combine", "combine", capPages);
  if (combine !== undefined) {
    console.log(
      `export-combine (pdf-lib holds the whole merged PDF): ${parts.length} parts, ${capPages} pages, ` +
        `${fmt((combine.result?.bytes ?? 0) / 1024 / 1024)} MB of PDF → peak ${fmt(combine.peakMb)} MB, ${fmt(combine.ms / 1000)} s.`,
    );
  }
  console.log();

  // 3. SVG on its own function vs on one function sized for PDF.
  const own = recommended.svg;
  const shared = recommended.pdf;
  console.log(`Cost per 1,000 whole-document SVG exports: own function at ${own} MB vs one function sized for PDF at ${shared} MB.`);
  for (const pages of sizes) {
    const m = measured("svg", "whole", pages);
    if (m === undefined) continue;
    const ownCost = costPer1000(own, m.ms);
    const sharedCost = costPer1000(shared, m.ms);
    const ownCpu = costPer1000(own, cpuScaled(m.ms, own));
    const sharedCpu = costPer1000(shared, cpuScaled(m.ms, shared));
    console.log(
      `  ${pages} pages (${fmt(m.ms)} ms here): ${usd(ownCost)} vs ${usd(sharedCost)} = ${fmt(ownCost / sharedCost, 3)} of shared, ` +
        `≤ 1/8 ${verdict(ownCost <= sharedCost / 8)}; if CPU-bound on Lambda: ${usd(ownCpu)} vs ${usd(sharedCpu)} = ${fmt(ownCpu / sharedCpu, 3)}`,
    );
  }
  console.log(
    `  Memory ratio ${own} / ${shared} MB = ${fmt(own / shared, 3)}: with the same duration, the duration charge scales by it and the ` +
      `request charge ($0.20 per million) not at all, so the ratio is at best ${fmt(own / shared, 3)} and tends to 1 for short exports. ` +
      `And below ${MB_PER_VCPU} MB Lambda gives CPU in proportion to memory, so CPU-bound rendering on the smaller function runs longer ` +
      `by about the same factor, and the duration charge comes out nearly equal. "SVG cost ≤ 1/8 of shared" needs the PDF size ≥ 8 × ` +
      `the SVG size and work that does not slow down with less CPU.`,
  );
  const pdf = measured("pdf", "whole", capPages);
  const svg = measured("svg", "whole", capPages);
  if (pdf !== undefined && svg !== undefined) {
    console.log(
      `Measured per page at the cap: PDF ${fmt(pdf.ms / capPages, 2)} ms (SECONDS_PER_PAGE_PDF default ${estimateConfig.secondsPerPage.pdf} s), ` +
        `SVG ${fmt(svg.ms / capPages, 3)} ms (SECONDS_PER_PAGE_SVG default ${estimateConfig.secondsPerPage.svg} s).`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
