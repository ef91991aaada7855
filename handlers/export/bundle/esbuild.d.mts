import type { BuildOptions, Plugin } from "esbuild";

/** Bundles PDFKit's standard fonts (see esbuild.mjs). */
export declare function pdfkitStandardFonts(): Plugin;

/** Options for bundling one exporter entry point; add `entryPoints` and `outfile`. */
export declare function exporterBuildOptions(): BuildOptions;
