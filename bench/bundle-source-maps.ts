import { createHash } from "node:crypto";
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import { SourceMap } from "node:module";
import * as path from "node:path";
import { PROJECT_ROOT, esbuildOptions } from "../infra/bundle";

/**
 * Source maps for deployed bundles, so a profile of a minified bundle can name the package or file each sample
 * ran in. Bundles are built without maps (a map would ride along in the code archive), so every handler is built
 * again here with an external map — esbuild then writes the same JavaScript and no comment — and a map is kept
 * only for a bundle whose bytes the rebuild matches exactly: a map of other code would name the wrong sources.
 * Handlers built with plugins (the exporters') do not match and keep their bare function names.
 */
export async function bundleSourceMaps(bundleFiles: readonly string[]): Promise<Map<string, SourceMap>> {
  const wanted = new Map<string, string[]>();
  for (const file of new Set(bundleFiles)) {
    const digest = sha256(fs.readFileSync(file));
    wanted.set(digest, [...(wanted.get(digest) ?? []), file]);
  }
  const maps = new Map<string, SourceMap>();
  const entries = fs.readdirSync(path.join(PROJECT_ROOT, "handlers")).filter((f) => f.endsWith(".ts")).map((f) => `handlers/${f}`);
  const outdir = path.join(PROJECT_ROOT, ".build", "source-maps");
  await Promise.all(
    entries.map(async (entry) => {
      const outfile = path.join(outdir, path.basename(entry, ".ts"), "index.mjs");
      const result = await esbuild.build({ ...esbuildOptions(entry, outfile), sourcemap: "external", write: false });
      const js = result.outputFiles.find((f) => f.path === outfile);
      const map = result.outputFiles.find((f) => f.path === `${outfile}.map`);
      if (!js || !map) return;
      const files = wanted.get(sha256(js.contents));
      if (!files) return;
      const payload = JSON.parse(map.text) as { sources: string[] };
      // Sources are relative to the map's folder; made absolute, they show whether a sample ran in node_modules.
      payload.sources = payload.sources.map((source) => path.resolve(path.dirname(outfile), source));
      const sourceMap = new SourceMap(payload as ConstructorParameters<typeof SourceMap>[0]);
      for (const file of files) maps.set(file, sourceMap);
    }),
  );
  return maps;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
