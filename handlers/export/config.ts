/**
 * Configuration of the export functions, read from the environment once at start-up (module scope in each entry
 * point). A missing or malformed variable fails the cold start with a message naming it, rather than the first job.
 * Each entry point reads only the variables it uses.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Longest duration of one Lambda invocation (AWS Lambda quota); a budget above it could never be met. */
const LAMBDA_MAX_SECONDS = 900;
/** Lambda's init limit, which a Task's timeout leaves on top of the function's (infra/config.ts). */
const LAMBDA_INIT_LIMIT_SECONDS = 10;

export function requiredEnv(env: Env, name: string, what: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    throw new Error(`\`${name}\` must be set (${what})`);
  }
  return value;
}

/** An S3 key prefix: empty or ending in "/", printable ASCII (S3 keys are also used in metadata and logs). */
export function prefixEnv(env: Env, name: string, fallback: string): string {
  const value = env[name] ?? fallback;
  if (!/^([!-~]{1,200}\/)?$/.test(value)) {
    throw new Error(`\`${name}\` must be an S3 key prefix ending in "/" (got ${JSON.stringify(value)})`);
  }
  return value;
}

export function positiveNumberEnv(env: Env, name: string, fallback: number, max?: number): number {
  const raw = env[name];
  const value = raw === undefined || raw.trim() === "" ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (max !== undefined && value > max)) {
    const range = max === undefined ? "> 0" : `> 0 and ≤ ${max}`;
    throw new Error(`\`${name}\` must be a number ${range} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

/** A number the infrastructure must set: no default could be right for every stack. */
export function requiredNumberEnv(env: Env, name: string, what: string, min: number, max: number): number {
  const raw = requiredEnv(env, name, what);
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`\`${name}\` must be a number from ${min} to ${max} (${what}), got ${JSON.stringify(raw)}`);
  }
  return value;
}

export interface BucketConfig {
  /** Bucket holding documents, exports and parts (`DOCUMENTS_BUCKET`). */
  readonly bucket: string;
}

export interface ExportsConfig extends BucketConfig {
  /** Key prefix of finished exports (`EXPORTS_PREFIX`, default `exports/`). */
  readonly exportsPrefix: string;
}

export interface EstimateConfig extends BucketConfig {
  /** Seconds one page takes to render, by format (`SECONDS_PER_PAGE_SVG`, `SECONDS_PER_PAGE_PDF`). */
  readonly secondsPerPage: { readonly svg: number; readonly pdf: number };
  /** Seconds of work one Lambda invocation may be given (`LAMBDA_BUDGET_SECONDS`). */
  readonly lambdaBudgetSeconds: number;
  /** What the other runtimes can take on (see estimate.ts chooseRoute). */
  readonly routeLimits: {
    /** `MAP_MAX_CONCURRENCY`: the Map state's MaxConcurrency. */
    readonly mapMaxConcurrency: number;
    /** `MAP_SECONDS_AVAILABLE`: what the execution leaves the Map's iterations. */
    readonly mapSecondsAvailable: number;
    /**
     * `MAP_CHUNK_SECONDS_SVG`, `MAP_CHUNK_SECONDS_PDF`: the longest one chunk may run, the format's exporter Task
     * timeout (the function's timeout plus Lambda's 10 s init limit).
     */
    readonly mapChunkSeconds: { readonly svg: number; readonly pdf: number };
    /** `FARGATE_SECONDS_AVAILABLE`: the worker's deadline. */
    readonly fargateSecondsAvailable: number;
    /** `FARGATE_SPEEDUP_SVG`, `FARGATE_SPEEDUP_PDF`: the worker's speed relative to the format's Lambda. */
    readonly fargateSpeedup: { readonly svg: number; readonly pdf: number };
  };
}

export interface SplitConfig {
  /** Key prefix of the parts of a parallel export (`PARTS_PREFIX`, default `parts/`). */
  readonly partsPrefix: string;
}

export interface JobsConfig {
  /** DynamoDB table of export jobs, key `jobId` (S) (`JOBS_TABLE`). */
  readonly table: string;
}

export function readBucketConfig(env: Env): BucketConfig {
  return { bucket: requiredEnv(env, "DOCUMENTS_BUCKET", "the bucket holding documents and exports") };
}

export function readExportsConfig(env: Env): ExportsConfig {
  return { ...readBucketConfig(env), exportsPrefix: prefixEnv(env, "EXPORTS_PREFIX", "exports/") };
}

export function readEstimateConfig(env: Env): EstimateConfig {
  return {
    ...readBucketConfig(env),
    secondsPerPage: {
      svg: positiveNumberEnv(env, "SECONDS_PER_PAGE_SVG", 0.5),
      pdf: positiveNumberEnv(env, "SECONDS_PER_PAGE_PDF", 30),
    },
    lambdaBudgetSeconds: positiveNumberEnv(env, "LAMBDA_BUDGET_SECONDS", 720, LAMBDA_MAX_SECONDS),
    routeLimits: {
      mapMaxConcurrency: requiredNumberEnv(env, "MAP_MAX_CONCURRENCY", "the Map state's MaxConcurrency", 1, 40),
      mapSecondsAvailable: requiredNumberEnv(env, "MAP_SECONDS_AVAILABLE", "seconds the execution leaves the Map", 0, 31_536_000),
      mapChunkSeconds: {
        svg: requiredNumberEnv(env, "MAP_CHUNK_SECONDS_SVG", "the SVG exporter's Task timeout in seconds", 1, LAMBDA_MAX_SECONDS + LAMBDA_INIT_LIMIT_SECONDS),
        pdf: requiredNumberEnv(env, "MAP_CHUNK_SECONDS_PDF", "the PDF exporter's Task timeout in seconds", 1, LAMBDA_MAX_SECONDS + LAMBDA_INIT_LIMIT_SECONDS),
      },
      fargateSecondsAvailable: requiredNumberEnv(env, "FARGATE_SECONDS_AVAILABLE", "the Fargate worker's deadline in seconds", 0, 86_400),
      fargateSpeedup: {
        svg: requiredNumberEnv(env, "FARGATE_SPEEDUP_SVG", "the worker's speed relative to the SVG Lambda", 0.01, 100),
        pdf: requiredNumberEnv(env, "FARGATE_SPEEDUP_PDF", "the worker's speed relative to the PDF Lambda", 0.01, 100),
      },
    },
  };
}

export function readSplitConfig(env: Env): SplitConfig {
  return { partsPrefix: prefixEnv(env, "PARTS_PREFIX", "parts/") };
}

export function readJobsConfig(env: Env): JobsConfig {
  return { table: requiredEnv(env, "JOBS_TABLE", "the DynamoDB table of export jobs") };
}
