// esbuild settings for every bundle that contains the exporters' rendering module (the export Lambdas and the Fargate
// worker). Plain ESM JavaScript so that both the TypeScript program (infra/) and containers/export-worker/build.mjs,
// which runs under plain `node` in the Docker build, can import it.
import { readFile } from "node:fs/promises";
import path from "node:path";

/** The PDFKit builds whose standard-font loaders the plugin rewrites (ESM for `import`, CJS for `require`). */
const PDFKIT_BUILD = /[\\/]pdfkit[\\/]js[\\/]pdfkit(?:\.node\.mjs|\.js)$/;
/** PDFKit's loaders: `require$1('#standard-fonts/Helvetica')`, where `require$1 = createRequire(import.meta.url)`. */
const STANDARD_FONT_LOADER = /\brequire\$1\((['"])#standard-fonts\//g;
/** PDF's standard 14 fonts; PDFKit registers one loader for each. */
const STANDARD_FONT_COUNT = 14;

/**
 * Makes PDFKit's standard fonts part of the bundle.
 *
 * PDFKit ≥ 0.18 no longer reads `data/*.afm` at run time: each standard font's metrics are a JS module under
 * `js/standard-fonts/`, loaded on first use through `createRequire(import.meta.url)` and the package's `imports`
 * map (`#standard-fonts/*`). esbuild does not follow a require made by `createRequire`, so in a bundle that call
 * looks for `#standard-fonts/…` beside the bundle and fails ("Cannot find module '#standard-fonts/Helvetica'").
 * Rewriting the calls to plain `require(…)` lets esbuild resolve them through pdfkit's `imports` map and bundle all
 * 14 font modules (≈ 150 KB), still loaded lazily. The rewrite fails the build if PDFKit's code no longer has exactly
 * the 14 expected calls, so a PDFKit upgrade cannot silently produce a bundle that breaks at run time.
 *
 * @returns {import("esbuild").Plugin}
 */
export function pdfkitStandardFonts() {
  return {
    name: "pdfkit-standard-fonts",
    setup(build) {
      build.onLoad({ filter: PDFKIT_BUILD }, async (args) => {
        const source = await readFile(args.path, "utf8");
        const found = source.match(STANDARD_FONT_LOADER)?.length ?? 0;
        if (found !== STANDARD_FONT_COUNT) {
          throw new Error(
            `pdfkit-standard-fonts: expected ${STANDARD_FONT_COUNT} standard-font loaders in ${args.path}, found ${found}; ` +
              "PDFKit changed how it loads fonts, update handlers/export/bundle/esbuild.mjs",
          );
        }
        return {
          contents: source.replace(STANDARD_FONT_LOADER, "require($1#standard-fonts/"),
          loader: "js",
          resolveDir: path.dirname(args.path),
        };
      });
    },
  };
}

/**
 * Options for bundling one exporter entry point (add `entryPoints` and `outfile`). Output is a single ESM file
 * with every npm dependency inside and nothing to copy beside it.
 *
 * The banner defines `require` for the CommonJS dependencies (fontkit, svg-to-pdfkit…) that require Node built-ins:
 * esbuild's ESM output otherwise turns those into `__require()` calls that throw "Dynamic require … is not supported".
 *
 * @returns {import("esbuild").BuildOptions}
 */
export function exporterBuildOptions() {
  return {
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    plugins: [pdfkitStandardFonts()],
    banner: {
      js: "import { createRequire as __exporterCreateRequire } from 'node:module'; const require = __exporterCreateRequire(import.meta.url);",
    },
    sourcemap: false,
    minify: false,
    // Licence notices of bundled packages stay inside the bundle.
    legalComments: "eof",
    logLevel: "warning",
  };
}
