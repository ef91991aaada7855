import { Readable } from "node:stream";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { InvalidDocumentError, UnsupportedFormatVersionError } from "../shared/errors";
import { SUPPORTED_DOCUMENT_FORMAT_VERSIONS } from "../shared/format";
import { DOCUMENT_LIMITS, type ExportDocument, parseDocument, parseJson } from "./document";

/**
 * S3 access of the exporters: reading documents, streaming exports up, reading and deleting parts.
 *
 * Metadata written on every export and part (S3 lower-cases metadata names; they arrive as `x-amz-meta-*`):
 * `format-version` (EXPORT_OBJECT_FORMAT_VERSION), `job-id`, `pages` (page count), `runtime` (lambda | map | fargate).
 */

/** Multipart part size: S3's minimum, which keeps the upload's buffer (partSize × queueSize) at 10 MiB. */
const UPLOAD_PART_BYTES = 5 * 1024 * 1024;
const UPLOAD_QUEUE_SIZE = 2;
/** DeleteObjects takes at most 1,000 keys per request. */
const DELETE_BATCH = 1_000;

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404;
}

/** S3 answers 403, not 404, for a missing key when the caller may not s3:ListBucket — the usual least-privilege case. */
function isForbidden(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "AccessDenied" || e?.name === "Forbidden" || e?.$metadata?.httpStatusCode === 403;
}

/**
 * HeadObject, or `undefined` when there is no such object.
 *
 * @param forbiddenIsMissing also answer `undefined` for a 403, which is how S3 reports a missing key to a caller
 *   without s3:ListBucket; only for callers that can proceed either way.
 */
export async function headObject(
  s3: S3Client,
  bucket: string,
  key: string,
  { forbiddenIsMissing = false } = {},
): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    if (isNotFound(error) || (forbiddenIsMissing && isForbidden(error))) return undefined;
    throw error;
  }
}

/**
 * Reads and validates a document, upgrading older versions. HeadObject first: its `format-version` metadata and size
 * are checked before anything is downloaded, and GetObject is pinned to the ETag it saw.
 *
 * Memory: the whole JSON text and its parsed form are held while rendering (≈ 5–10 × the object size in V8 heap);
 * DOCUMENT_LIMITS.maxDocumentBytes bounds it.
 *
 * @throws InvalidDocumentError (missing, too large, not JSON, schema), UnsupportedFormatVersionError
 */
export async function readDocument(s3: S3Client, bucket: string, key: string): Promise<ExportDocument> {
  const source = s3Uri(bucket, key);
  let head: HeadObjectCommandOutput | undefined;
  try {
    head = await headObject(s3, bucket, key);
  } catch (error) {
    if (!isForbidden(error)) throw error;
    throw new InvalidDocumentError(`${source}: no such document, or not readable by this function (S3 answered 403)`);
  }
  if (head === undefined) throw new InvalidDocumentError(`${source}: no such document`);
  const declared = head.Metadata?.["format-version"];
  if (declared !== undefined && !(SUPPORTED_DOCUMENT_FORMAT_VERSIONS as readonly number[]).includes(Number(declared))) {
    throw new UnsupportedFormatVersionError(`${source} (x-amz-meta-format-version)`, declared, SUPPORTED_DOCUMENT_FORMAT_VERSIONS);
  }
  if ((head.ContentLength ?? 0) > DOCUMENT_LIMITS.maxDocumentBytes) {
    throw new InvalidDocumentError(`${source}: ${head.ContentLength} bytes, more than the ${DOCUMENT_LIMITS.maxDocumentBytes} a document may have`);
  }
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: head.ETag }));
  if (object.Body === undefined) throw new InvalidDocumentError(`${source}: empty response body`);
  const raw = parseJson(await object.Body.transformToString("utf-8"), source);
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (declared !== undefined && Number(declared) !== version) {
    throw new InvalidDocumentError(
      `${source}: x-amz-meta-format-version is ${declared} but the document says formatVersion ${JSON.stringify(version)}`,
    );
  }
  return parseDocument(raw, source);
}

/** The bytes of an object as a stream of chunks. */
export async function openObject(s3: S3Client, bucket: string, key: string): Promise<AsyncIterable<Uint8Array>> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (object.Body === undefined) throw new Error(`${s3Uri(bucket, key)}: empty response body`);
  return object.Body as unknown as AsyncIterable<Uint8Array>;
}

/** The bytes of an object, whole. */
export async function readObject(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (object.Body === undefined) throw new Error(`${s3Uri(bucket, key)}: empty response body`);
  return object.Body.transformToByteArray();
}

export interface UploadRequest {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  /** Object metadata (names without the `x-amz-meta-` prefix). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Aborts the upload (and its multipart upload) when signalled. */
  readonly signal?: AbortSignal;
}

/**
 * Uploads a stream of chunks, multipart when it exceeds one part; returns the bytes written. Pulls from `body` only
 * as fast as parts are sent, so a renderer behind it never runs more than ~10 MiB ahead.
 */
export async function uploadStream(
  s3: S3Client,
  request: UploadRequest,
  body: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): Promise<number> {
  let bytes = 0;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of body) {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk, "utf-8") : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      bytes += buffer.byteLength;
      yield buffer;
    }
  }
  const abortController = new AbortController();
  const onAbort = (): void => abortController.abort(request.signal?.reason);
  request.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await new Upload({
      client: s3,
      params: {
        Bucket: request.bucket,
        Key: request.key,
        Body: Readable.from(counted()),
        ContentType: request.contentType,
        Metadata: { ...request.metadata },
      },
      partSize: UPLOAD_PART_BYTES,
      queueSize: UPLOAD_QUEUE_SIZE,
      abortController,
    }).done();
  } finally {
    request.signal?.removeEventListener("abort", onAbort);
  }
  return bytes;
}

/** Deletes keys in batches; fails if S3 reports any key it could not delete (a missing key counts as deleted). */
export async function deleteObjects(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    const batch = keys.slice(i, i + DELETE_BATCH);
    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
    );
    if (result.Errors !== undefined && result.Errors.length > 0) {
      const first = result.Errors[0];
      throw new Error(`could not delete ${result.Errors.length} of ${batch.length} objects, e.g. ${first.Key}: ${first.Code} ${first.Message}`);
    }
  }
}
