import type { Plugin } from "esbuild";
import { pdfkitStandardFonts } from "./bundle/esbuild.mjs";

/**
 * What a bundler must add to bundle the exporters (export-pdf above all; harmless for the others) and the worker.
 *
 * PDFKit ≥ 0.18 loads its standard-font metrics as JS modules through `createRequire(import.meta.url)` and its
 * package `imports` map, which esbuild cannot follow; bundled as-is, the first PDF fails with "Cannot find module
 * '#standard-fonts/Helvetica'". `EXPORTER_BUNDLE_PLUGINS` compiles those modules into the bundle instead (see
 * bundle/esbuild.mjs), so the bundle is one self-contained file.
 *
 * Also needed, as for any CommonJS dependency in an ESM bundle: a banner defining `require`
 * (`createRequire(import.meta.url)`). `exporterBuildOptions()` is a complete option set (bundle, node, ESM, node24,
 * banner, plugins) for builds that have none of their own, such as containers/export-worker/build.mjs.
 */
export { exporterBuildOptions, pdfkitStandardFonts } from "./bundle/esbuild.mjs";

/** esbuild plugins for the exporter bundles: pass them with the bundler's own options. */
export const EXPORTER_BUNDLE_PLUGINS: readonly Plugin[] = [pdfkitStandardFonts()];
