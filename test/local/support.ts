import * as path from "node:path";
import { LocalCloud, LocalCloudOptions, startLocalCloud } from "../../local/cloud";
import { formatCoverage } from "../../local/report";
import type { ExecutionRecord } from "../../local/runtimes/step-functions/runtime";

/** The throwaway program the runtime tests run (not the product): test/local/fixtures/mini. */
export const MINI_PROGRAM = path.join(__dirname, "fixtures", "mini");

/** Boots a local cloud for one test file; the caller stops it in `after`. */
export function bootMini(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  return startLocalCloud({ projectDir: MINI_PROGRAM, timeScale: 0.01, compileCache: true, ...options });
}

let mini: Promise<LocalCloud> | undefined;

/**
 * One cloud of the mini program shared by the fidelity files (test/local/fidelity/), booted on first use and stopped
 * by the root hook; each file uses its own functions and keys.
 */
export function sharedMini(): Promise<LocalCloud> {
  mini ??= bootMini();
  return mini;
}

/** Resolves at the next SendTaskHeartbeat of an execution's task: its worker is running and holds the token. */
export function nextHeartbeat(cloud: LocalCloud, executionArn: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (record: ExecutionRecord) => {
      if (record.executionArn !== executionArn) return;
      cloud.sfn.off("heartbeat", on);
      resolve();
    };
    cloud.sfn.on("heartbeat", on);
  });
}

export async function stopSharedMini(): Promise<void> {
  const cloud = await mini?.catch(() => undefined);
  mini = undefined;
  await cloud?.stop();
}

/** Prints state coverage at the end of a file, so a run shows which states the tests reached. */
export function printCoverage(cloud: LocalCloud | undefined): void {
  if (!cloud) return;
  process.stdout.write(`\n      state coverage:\n${formatCoverage(cloud.stateCoverage()).replace(/^/gm, "        ")}\n`);
}

/**
 * The config every test of the real program shares (what `pulumi config set` would change, nothing else): a 1.5 s
 * payment timeout so a hung gateway is noticed sooner than the stack's 5 s yet an answering one (a few ms here) is never
 * given up on when both cores are busy, 30 s per SVG page so a 40-page SVG takes the Map path like a PDF, and a
 * 600 s Fargate timeout so an export too long for any runtime fits in a test. Heartbeat windows keep the stack's own
 * values: the local cloud skips time for a hung or crashed container instead of waiting for it (local/clock.ts).
 */
export const SHARED_CLOUD_OPTIONS: LocalCloudOptions = {
  timeScale: 0.01,
  // Two environments per function: concurrency is still real (two orders race in two environments), and each
  // environment fewer is a cold start fewer — most of this suite's CPU.
  maxEnvironmentsPerFunction: 2,
  compileCache: true,
  // A successful charge has the whole paymentTimeoutMs to come back (a cold function's first fetch loads its HTTP
  // client inside it, seconds on a busy machine); a call the sandbox never answers (tok_timeout, a lost answer) ends
  // when it drops the connection after 500 ms, with the charge, if any, recorded. The handler's own timeout is proven
  // by test/handlers/payment-processing.test.ts.
  gatewayHangMs: 500,
  configOverrides: {
    "order-pipeline:paymentTimeoutMs": "5000",
    "order-pipeline:exportSecondsPerPageSvg": "30",
    // A worker deadline of 480 s (600 − 120 s start-up): a 100-page PDF on one worker cannot finish, so the estimate
    // refuses it; the 40-page one can.
    "order-pipeline:fargateTimeoutSeconds": "600",
  },
};

let shared: Promise<LocalCloud> | undefined;
/** Denials a test caused on purpose (principal, action); any other denial fails the run. */
export const expectedDenials: Array<{ principal: string; action: string }> = [];
/** One line per fault-matrix scenario, printed once at the end of the run. */
export const faultMatrixSummary: Array<{ scenario: string; expected: string; got: string }> = [];

/**
 * The one local cloud of the real program (index.ts, dev stack) that the end-to-end and fault-matrix files share:
 * booted on first use, stopped by the root hook (test/local/hooks.ts). Tests keep apart by their own order ids,
 * job ids and SKUs. `_file` names the calling file for the reader; which files ran, the least-privilege check reads
 * from mocha itself (hooks.ts `scenarioCoverage`).
 */
export function sharedCloud(_file: string): Promise<LocalCloud> {
  return bootSharedCloud();
}

function bootSharedCloud(): Promise<LocalCloud> {
  shared ??= startLocalCloud(SHARED_CLOUD_OPTIONS);
  return shared;
}

/**
 * Boots the shared cloud without waiting for it (test/local/warm-up.ts, for `npm test`'s cloud run): on a fresh
 * checkout that is a run of the program, bundling every handler on the way, in a process of its own while the first
 * files load. A failure surfaces in the test that awaits it.
 */
export function warmUpCloud(): void {
  void bootSharedCloud().catch(() => undefined);
}

/** The shared cloud if a test booted it. */
export async function sharedCloudIfBooted(): Promise<LocalCloud | undefined> {
  return shared?.catch(() => undefined);
}

export async function stopSharedCloud(): Promise<void> {
  const cloud = await sharedCloudIfBooted();
  shared = undefined;
  await cloud?.stop();
}

/** What an SDK call that must fail failed with (name, message, HTTP status); undefined when it succeeded. */
export function sdkFailure(call: Promise<unknown>): Promise<{ name: string; message: string; status?: number } | undefined> {
  return call.then(
    () => undefined,
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => ({ name: e.name, message: e.message, status: e.$metadata?.httpStatusCode }),
  );
}
