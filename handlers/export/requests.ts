// Namespace import: lets esbuild drop the parts of zod a bundle does not use (≈90 KB instead of ≈450 KB).
import * as z from "zod";
import { InvalidExportRequestError, UnsupportedFormatVersionError } from "../shared/errors";
import { EXPORT_STATE_FORMAT_VERSION } from "../shared/format";
import { DOCUMENT_LIMITS } from "./document";
import { describeIssues } from "./issues";

/**
 * Payloads of the export workflow. Every payload between steps carries `formatVersion: 1`
 * (EXPORT_STATE_FORMAT_VERSION); the workflow input may omit it.
 */

/**
 * Most chunks an export is split into (one Map iteration each). An inline Map's iterations count in the execution's
 * history, limited to 25,000 events; a chunk takes about nine (iteration, choice, task), and retries more.
 */
export const MAX_CHUNKS = 1_000;

export const EXPORT_FORMATS = ["svg", "pdf"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const RUNTIMES = ["lambda", "map", "fargate"] as const;
export type Runtime = (typeof RUNTIMES)[number];

export const CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = { svg: "image/svg+xml", pdf: "application/pdf" };

/** Job ids become part of S3 keys and Step Functions names: keep them to a safe alphabet. */
const jobId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, { error: "expected 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit" });
/** S3 keys are at most 1,024 bytes of UTF-8. */
const objectKey = z
  .string()
  .min(1)
  .refine((key) => Buffer.byteLength(key) <= 1024, { error: "expected an S3 key of at most 1,024 bytes" });
const format = z.enum(EXPORT_FORMATS);
const pageCount = z.int().min(1).max(DOCUMENT_LIMITS.maxPages);
const pageNumber = z.int().min(1).max(DOCUMENT_LIMITS.maxPages);
/** 1-based, inclusive. */
const pageRange = z
  .tuple([pageNumber, pageNumber])
  .refine(([from, to]) => from <= to, { error: "expected [from, to] with from ≤ to" });
const stateVersion = z.literal(EXPORT_STATE_FORMAT_VERSION);

export const exportRequestSchema = z.object({
  formatVersion: stateVersion.optional(),
  jobId,
  documentKey: objectKey,
  format,
  parallel: z.boolean().optional(),
});
export type ExportRequest = z.infer<typeof exportRequestSchema>;

export const renderEventSchema = z.object({
  formatVersion: stateVersion,
  jobId,
  documentKey: objectKey,
  pages: pageRange.optional(),
  outputKey: objectKey.optional(),
});
export type RenderEvent = z.infer<typeof renderEventSchema>;

export const splitEventSchema = z.object({
  formatVersion: stateVersion,
  jobId,
  documentKey: objectKey,
  format,
  pages: pageCount,
  pagesPerChunk: z.int().min(1),
});
export type SplitEvent = z.infer<typeof splitEventSchema>;

export const combineEventSchema = z.object({
  formatVersion: stateVersion,
  jobId,
  format,
  // Map iterations return whole render results; only these fields matter here, the rest is ignored.
  parts: z.array(z.object({ outputKey: objectKey, pages: pageCount, bytes: z.int().min(0) })).min(1).max(MAX_CHUNKS),
});
export type CombineEvent = z.infer<typeof combineEventSchema>;

/** The worker's `EXPORT_JOB`. */
export const workerJobSchema = z.object({ formatVersion: stateVersion, jobId, documentKey: objectKey, format });
export type WorkerJob = z.infer<typeof workerJobSchema>;

/** Step Functions' limit on a Catch's `Cause`; longer ones are cut, not refused, so a failure can always be recorded. */
const MAX_CAUSE_LENGTH = 32_768;

export const JOB_STATUSES = ["RUNNING", "SUCCEEDED", "FAILED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const jobStatusEventSchema = z.object({
  formatVersion: stateVersion,
  jobId,
  status: z.enum(JOB_STATUSES),
  documentKey: objectKey.optional(),
  format: format.optional(),
  runtime: z.enum(RUNTIMES).optional(),
  outputKey: objectKey.optional(),
  pages: z.int().min(0).optional(),
  bytes: z.int().min(0).optional(),
  error: z
    .object({
      Error: z.string().transform((s) => s.slice(0, 256)),
      Cause: z
        .string()
        .optional()
        .transform((s) => s?.slice(0, MAX_CAUSE_LENGTH)),
    })
    .optional(),
});
export type JobStatusEvent = z.infer<typeof jobStatusEventSchema>;

/**
 * Validates a payload: first its formatVersion (a payload from a newer workflow is an UnsupportedFormatVersion, not
 * a field error), then its fields.
 *
 * @param what names the payload in messages, e.g. "export-svg event".
 * @param versionOptional the workflow input may come from outside the workflow without a formatVersion.
 * @throws UnsupportedFormatVersionError, InvalidExportRequestError
 */
export function parseRequest<S extends z.ZodType>(
  schema: S,
  event: unknown,
  what: string,
  { versionOptional = false } = {},
): z.infer<S> {
  if (event === null || typeof event !== "object" || Array.isArray(event)) {
    throw new InvalidExportRequestError(`${what}: expected a JSON object`);
  }
  const version = (event as { formatVersion?: unknown }).formatVersion;
  if (!(version === EXPORT_STATE_FORMAT_VERSION || (versionOptional && version === undefined))) {
    throw new UnsupportedFormatVersionError(what, version, [EXPORT_STATE_FORMAT_VERSION]);
  }
  const result = schema.safeParse(event);
  if (!result.success) {
    throw new InvalidExportRequestError(`${what}: ${describeIssues(result.error, "top level")}`);
  }
  return result.data;
}

/** Where a whole export lands. */
export function exportKey(prefix: string, jobId: string, format: ExportFormat): string {
  return `${prefix}${jobId}.${format}`;
}

/** Where part `index` (1-based) of a parallel export lands; zero-padded so keys sort in page order. */
export function partKey(prefix: string, jobId: string, index: number, format: ExportFormat): string {
  return `${prefix}${jobId}/part-${String(index).padStart(5, "0")}.${format}`;
}
