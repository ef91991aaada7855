/**
 * Peak memory and time of the SVG and PDF exporters on 10, 100 and 1,000 pages, and what that means for their
 * Lambda memory settings and cost.
 *
 *   npx tsx bench/exporters.ts [--svg-memory MB] [--pdf-memory MB] [--runs N]
 *   (or SVG_MEMORY_MB / PDF_MEMORY_MB; defaults 256 / 2048, 3 runs)
 *
 * Each measurement runs in a fresh Node process so peaks do not mix: the exporter's code is bundled with the same
 * esbuild options as the Lambdas (handlers/export/bundle/esbuild.mjs), reads a catalogue document from a local file,
 * parses and validates it, and renders it into a sink that counts and discards the bytes (no S3: the upload's
 * 10 MiB of part buffers are not included). Peak RSS is the kernel's high-water mark
 * (process.resourceUsage().maxRSS), read after rendering. Time is wall time from reading the file to the last byte.
 *
 * Node's default heap sizing lets garbage accumulate while memory is plentiful, so each exporter is also run with
 * the heap capped (CAPPED_FLAGS): that peak is closer to what the exporter needs when memory is tight.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import * as esbuild from "esbuild";
import { exporterBuildOptions } from "../handlers/export/bundle/esbuild.mjs";
import { catalogueDocument, stringifyDocument } from "../scripts/generate-documents";

const exec = promisify(execFile);
const ROOT = path.join(__dirname, "..");
const WORK = path.join(ROOT, ".build", "bench-exporters");

/** AWS Lambda x86 prices (us-east-1). */
const PRICE_PER_GB_SECOND = 0.0000166667;
const PRICE_PER_REQUEST = 0.2 / 1_000_000;
/** Lambda gives a function one full vCPU at 1,769 MB and CPU in proportion to memory below that. */
const MB_PER_VCPU = 1769;
/** One measurement may take this long; past it the measurement is reported as over the limit. */
const MEASUREMENT_LIMIT_MS = 60_000;
const SIZES = [10, 100, 1000] as const;
/** Young generation 2 MB, old generation 100 MB: tight, yet enough for 1,000 pages of either format. */
const CAPPED_FLAGS = ["--max-semi-space-size=2", "--max-old-space-size=100"];

/** What the child process runs: parse a document file and render it into a discarding sink. */
const CHILD_SOURCE = `
  import { readFileSync } from "node:fs";
  import { parseDocumentJson } from "./handlers/export/document";
  import { resolveRange } from "./handlers/export/render/range";
  import { renderSvg } from "./handlers/export/render/svg";
  import { renderPdf } from "./handlers/export/render/pdf";
  const [mode, file] = process.argv.slice(2);
  const started = performance.now();
  const document = parseDocumentJson(readFileSync(file, "utf8"));
  let bytes = 0;
  if (mode !== "parse") {
    const render = mode === "svg" ? renderSvg : renderPdf;
    for await (const chunk of render(document, resolveRange(document))) bytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength;
  }
  const ms = performance.now() - started;
  process.stdout.write(JSON.stringify({ ms, bytes, pages: document.pages.length, maxRssKb: process.resourceUsage().maxRSS }));
`;

interface Measurement {
  readonly ms: number;
  readonly bytes: number;
  readonly pages: number;
  readonly peakMb: number;
}

function option(name: string, envName: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const raw = index >= 0 ? process.argv[index + 1] : process.env[envName];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} / ${envName} must be a positive number (got ${raw})`);
  return value;
}

async function measure(bundle: string, mode: string, file: string, flags: readonly string[]): Promise<Measurement | "over limit"> {
  try {
    const { stdout } = await exec(process.execPath, [...flags, bundle, mode, file], { timeout: MEASUREMENT_LIMIT_MS, maxBuffer: 1 << 20 });
    const result = JSON.parse(stdout) as { ms: number; bytes: number; pages: number; maxRssKb: number };
    return { ms: result.ms, bytes: result.bytes, pages: result.pages, peakMb: result.maxRssKb / 1024 };
  } catch (error) {
    if ((error as { killed?: boolean }).killed) return "over limit";
    throw error;
  }
}

/** Median time, highest peak over `runs` fresh processes. */
async function measureRuns(bundle: string, mode: string, file: string, runs: number, flags: readonly string[] = []): Promise<Measurement | "over limit"> {
  const results: Measurement[] = [];
  for (let i = 0; i < runs; i++) {
    const result = await measure(bundle, mode, file, flags);
    if (result === "over limit") return result;
    results.push(result);
  }
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  return { ...results[0], ms: times[Math.floor(times.length / 2)], peakMb: Math.max(...results.map((r) => r.peakMb)) };
}

async function emptyNodeRssMb(): Promise<number> {
  const { stdout } = await exec(process.execPath, ["-e", "process.stdout.write(String(process.resourceUsage().maxRSS))"]);
  return Number(stdout) / 1024;
}

/** Cost of 1,000 invocations of `ms` each at `memoryMb` (duration billed per started millisecond). */
function costPer1000(memoryMb: number, ms: number): number {
  return 1000 * ((memoryMb / 1024) * (Math.ceil(ms) / 1000) * PRICE_PER_GB_SECOND + PRICE_PER_REQUEST);
}

/** Duration on Lambda if the work is CPU-bound and the function has less than one vCPU. */
function cpuScaled(ms: number, memoryMb: number): number {
  return ms * Math.max(1, MB_PER_VCPU / memoryMb);
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);
const usd = (n: number): string => `$${n.toFixed(6)}`;

async function main(): Promise<void> {
  const svgMemoryMb = option("svg-memory", "SVG_MEMORY_MB", 256);
  const pdfMemoryMb = option("pdf-memory", "PDF_MEMORY_MB", 2048);
  const runs = option("runs", "BENCH_RUNS", 3);
  mkdirSync(WORK, { recursive: true });

  const bundle = path.join(WORK, "render.mjs");
  await esbuild.build({ ...exporterBuildOptions(), stdin: { contents: CHILD_SOURCE, resolveDir: ROOT, loader: "ts" }, outfile: bundle });
  const files = new Map<number, string>();
  for (const pages of SIZES) {
    const file = path.join(WORK, `catalogue-${pages}.json`);
    writeFileSync(file, stringifyDocument(catalogueDocument(pages)));
    files.set(pages, file);
  }

  const emptyMb = await emptyNodeRssMb();
  const results: Record<string, Map<number, Measurement | "over limit">> = { parse: new Map(), svg: new Map(), pdf: new Map() };
  const capped: Record<string, Map<number, Measurement | "over limit">> = { parse: new Map(), svg: new Map(), pdf: new Map() };
  for (const mode of ["parse", "svg", "pdf"] as const) {
    for (const pages of SIZES) {
      results[mode].set(pages, await measureRuns(bundle, mode, files.get(pages)!, runs));
      capped[mode].set(pages, await measureRuns(bundle, mode, files.get(pages)!, 1, CAPPED_FLAGS));
    }
  }

  console.log(`Exporter benchmark — Node ${process.version}, ${runs} fresh process(es) per cell (median time, highest peak RSS)`);
  console.log(`Empty Node process peak RSS (runtime overhead not attributable to the exporter): ${fmt(emptyMb)} MB`);
  console.log(`Configured memory: SVG ${svgMemoryMb} MB, PDF ${pdfMemoryMb} MB; the shared alternative runs both at ${pdfMemoryMb} MB.`);
  console.log();
  const header = ["mode", "pages", "doc KB", "time ms", "ms/page", "peak RSS MB", "capped heap: peak MB", "output KB", "cost/1000 own fn", "cost/1000 shared fn"];
  const rows: string[][] = [];
  for (const mode of ["parse", "svg", "pdf"] as const) {
    for (const pages of SIZES) {
      const m = results[mode].get(pages)!;
      const docKb = Buffer.byteLength(stringifyDocument(catalogueDocument(pages))) / 1024;
      if (m === "over limit") {
        rows.push([mode, String(pages), fmt(docKb, 0), `> ${MEASUREMENT_LIMIT_MS}`, "-", "-", "-", "-", "-", "-"]);
        continue;
      }
      const own = mode === "svg" ? svgMemoryMb : pdfMemoryMb;
      rows.push([
        mode,
        String(pages),
        fmt(docKb, 0),
        fmt(m.ms),
        fmt(m.ms / pages, 2),
        fmt(m.peakMb),
        ((c) => (c === undefined || c === "over limit" ? "-" : fmt(c.peakMb)))(capped[mode].get(pages)),
        mode === "parse" ? "-" : fmt(m.bytes / 1024, 0),
        mode === "parse" ? "-" : usd(costPer1000(own, m.ms)),
        mode === "parse" ? "-" : usd(costPer1000(pdfMemoryMb, m.ms)),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i])).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log();

  const verdict = (ok: boolean): string => (ok ? "HOLDS" : "DOES NOT HOLD");
  const svg = (pages: number) => results.svg.get(pages) as Measurement;
  const pdfLargest = [...SIZES].reverse().map((p) => results.pdf.get(p)).find((m): m is Measurement => m !== "over limit" && m !== undefined);

  // 1. SVG memory flat in page count.
  const peak = (table: typeof results, mode: string, pages: number): number => (table[mode].get(pages) as Measurement).peakMb;
  for (const [label, table] of [["default heap", results], ["capped heap", capped]] as const) {
    const first = peak(table, "svg", 10);
    const last = peak(table, "svg", 1000);
    console.log(
      `SVG peak memory flat in page count, end to end (1,000-page peak ≤ 1.2 × 10-page peak), ${label}: ` +
        `${verdict(last <= 1.2 * first)} — ${fmt(last)} MB vs ${fmt(first)} MB (× ${fmt(last / first, 2)})`,
    );
  }
  // The reader holds the whole document by design; what streaming must keep flat is what rendering adds on top.
  const added = SIZES.map((pages) => peak(results, "svg", pages) - peak(results, "parse", pages));
  const spread = Math.max(...added) - Math.min(...added);
  console.log(
    `SVG rendering alone flat (peak minus the parse-only peak of the same document varies by ≤ 0.2 × 10-page peak ` +
      `= ${fmt(0.2 * peak(results, "svg", 10))} MB across sizes): ${verdict(spread <= 0.2 * peak(results, "svg", 10))} — ` +
      `adds ${added.map((a) => fmt(a)).join(" / ")} MB at ${SIZES.join(" / ")} pages. Holding the parsed document costs ` +
      `${fmt(peak(results, "parse", 1000) - peak(results, "parse", 10))} MB more at 1,000 pages than at 10.`,
  );

  // 2. Configured memory fits and is not oversized.
  for (const [name, configured, peak] of [
    ["SVG", svgMemoryMb, svg(1000).peakMb],
    ["PDF", pdfMemoryMb, pdfLargest?.peakMb ?? NaN],
  ] as const) {
    const fits = configured >= peak;
    const notOversized = configured <= 1.5 * peak;
    console.log(
      `${name} configured ${configured} MB vs measured peak ${fmt(peak)} MB (largest size measured): fits ${verdict(fits)}; ` +
        `≤ 1.5 × peak (${fmt(1.5 * peak, 0)} MB) ${verdict(notOversized)}` +
        (notOversized ? "" : ` — a setting of ${Math.max(128, Math.ceil((peak * 1.25) / 64) * 64)} MB would (peak × 1.25, rounded up to 64 MB, ≥ 128)`),
    );
  }

  // 3. SVG on its own function vs on a function sized for PDF.
  for (const pages of SIZES) {
    const m = svg(pages);
    const own = costPer1000(svgMemoryMb, m.ms);
    const shared = costPer1000(pdfMemoryMb, m.ms);
    const ownCpu = costPer1000(svgMemoryMb, cpuScaled(m.ms, svgMemoryMb));
    const sharedCpu = costPer1000(pdfMemoryMb, cpuScaled(m.ms, pdfMemoryMb));
    console.log(
      `SVG ${pages} pages: own function ${usd(own)} vs shared ${usd(shared)} per 1,000 = ${fmt(own / shared, 3)} of shared; ` +
        `≤ 1/8: ${verdict(own <= shared / 8)}. If CPU-bound (Lambda CPU ∝ memory below ${MB_PER_VCPU} MB): ` +
        `${usd(ownCpu)} vs ${usd(sharedCpu)} = ${fmt(ownCpu / sharedCpu, 3)}.`,
    );
  }
  if (pdfLargest !== undefined) {
    console.log(
      `PDF measured ${fmt(pdfLargest.ms / pdfLargest.pages, 2)} ms/page here (SECONDS_PER_PAGE_PDF defaults to 30 s/page); ` +
        `SVG ${fmt(svg(1000).ms / 1000, 3)} ms/page (SECONDS_PER_PAGE_SVG defaults to 0.5 s/page).`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
