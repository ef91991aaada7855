import * as path from "node:path";
import { LocalCloud, LocalCloudOptions, startLocalCloud } from "../../local/cloud";
import { formatCoverage } from "../../local/report";

/** The throwaway program the runtime tests run (not the product): test/local/fixtures/mini. */
export const MINI_PROGRAM = path.join(__dirname, "fixtures", "mini");

/** Boots a local cloud for one test file; the caller stops it in `after`. */
export function bootMini(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  return startLocalCloud({ projectDir: MINI_PROGRAM, timeScale: 0.01, ...options });
}

/** Prints state coverage at the end of a file, so a run shows which states the tests reached. */
export function printCoverage(cloud: LocalCloud | undefined): void {
  if (!cloud) return;
  process.stdout.write(`\n      state coverage:\n${formatCoverage(cloud.stateCoverage()).replace(/^/gm, "        ")}\n`);
}
