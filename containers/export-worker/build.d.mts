/** Bundles the export worker into `${outDir}/main.mjs`; resolves to that path. */
export declare function buildWorker(outDir: string): Promise<string>;
