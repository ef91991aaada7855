import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import * as esbuild from "esbuild";
import { buildWorker } from "../../../containers/export-worker/build.mjs";
import { exporterBuildOptions } from "../../../handlers/export/bundle-assets";
import { pdfPageCount } from "./fakes";

const ROOT = path.join(__dirname, "..", "..", "..");
const run = promisify(execFile);

/** A directory outside the repository, so a bundle cannot fall back on the repository's node_modules. */
function scratch(): string {
  return mkdtempSync(path.join(os.tmpdir(), "exporter-bundle-"));
}

describe("exporter bundles", function () {
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("read documents with stream-json and render PDFs with PDFKit's standard fonts from a single file, with nothing beside it", async () => {
    const dir = scratch();
    dirs.push(dir);
    await esbuild.build({
      ...exporterBuildOptions(),
      stdin: {
        resolveDir: ROOT,
        loader: "ts",
        contents: `
          import { createReadStream, writeFileSync } from "node:fs";
          import { readDocumentStream, scanDocumentStream } from "./handlers/export/document-stream";
          import { renderPdf } from "./handlers/export/render/pdf";
          import { resolveRange } from "./handlers/export/render/range";
          const { pages } = await scanDocumentStream(createReadStream(process.argv[2]));
          const document = await readDocumentStream(createReadStream(process.argv[2]));
          const chunks: Uint8Array[] = [];
          for await (const chunk of renderPdf(document, resolveRange(pages))) chunks.push(chunk);
          writeFileSync(process.argv[3], Buffer.concat(chunks));
        `,
      },
      outfile: path.join(dir, "index.mjs"),
    });
    const output = path.join(dir, "out.pdf");
    await run(process.execPath, [path.join(dir, "index.mjs"), path.join(ROOT, "examples/documents/invoice-1-page.json"), output], { cwd: dir });
    const pdf = readFileSync(output);
    expect(await pdfPageCount(pdf)).to.equal(1);
    expect(pdf.toString("latin1")).to.include("/BaseFont /Courier");
  });

  it("fail to build, rather than fail at run time, when PDFKit no longer loads fonts the way the plugin expects", async () => {
    const dir = scratch();
    dirs.push(dir);
    mkdirSync(path.join(dir, "node_modules", "pdfkit", "js"), { recursive: true });
    writeFileSync(path.join(dir, "node_modules", "pdfkit", "package.json"), JSON.stringify({ name: "pdfkit", main: "js/pdfkit.js" }));
    writeFileSync(path.join(dir, "node_modules", "pdfkit", "js", "pdfkit.js"), "module.exports = require('./fonts-loaded-differently');");
    writeFileSync(path.join(dir, "entry.js"), "require('pdfkit');");
    const error = await esbuild
      .build({ ...exporterBuildOptions(), logLevel: "silent", absWorkingDir: dir, entryPoints: ["entry.js"], outfile: path.join(dir, "out.mjs") })
      .catch((e: Error) => e);
    expect((error as Error).message).to.include("pdfkit-standard-fonts: expected 14 standard-font loaders");
  });

  it("build the worker as one file that starts and exits 2 on a bad EXPORT_JOB", async () => {
    const dir = scratch();
    dirs.push(dir);
    const main = await buildWorker(dir);
    const error = await run(process.execPath, [main], { cwd: dir, env: { PATH: process.env.PATH, EXPORT_JOB: "not json", DOCUMENTS_BUCKET: "b" } }).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect((error as { code: number }).code).to.equal(2);
    const line = JSON.parse((error as { stderr: string }).stderr.trim().split("\n").pop()!);
    expect(line).to.include({ level: "ERROR", message: "export failed", error: "InvalidExportRequest", exitCode: 2 });
  });
});
