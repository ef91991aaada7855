// Bundles the export worker into one ESM file, main.mjs, with every dependency (and PDFKit's fonts) inside.
// The Dockerfile runs it; so can the local cloud, to run exactly what the image runs:
//
//   node containers/export-worker/build.mjs OUTDIR      (writes OUTDIR/main.mjs)
//   import { buildWorker } from "./containers/export-worker/build.mjs"; await buildWorker(outDir);
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { exporterBuildOptions } from "../../handlers/export/bundle/esbuild.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * @param {string} outDir directory to write main.mjs into (created if missing)
 * @returns {Promise<string>} the path of the bundle
 */
export async function buildWorker(outDir) {
  const outfile = path.resolve(outDir, "main.mjs");
  await esbuild.build({
    ...exporterBuildOptions(),
    entryPoints: [path.join(here, "main.ts")],
    outfile,
    // The image has no tsconfig paths or node_modules at run time: everything must resolve now.
    absWorkingDir: path.resolve(here, "..", ".."),
  });
  return outfile;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (outDir === undefined) {
    console.error("usage: node containers/export-worker/build.mjs OUTDIR");
    process.exit(2);
  }
  // No top-level await: it would stop CommonJS code (tests, Pulumi) from importing buildWorker with require().
  buildWorker(outDir).then(
    (file) => console.log(`wrote ${file}`),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
