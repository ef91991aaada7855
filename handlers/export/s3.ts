import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { InvalidDocumentError, UnsupportedFormatVersionError } from "../shared/errors";
import { SUPPORTED_DOCUMENT_FORMAT_VERSIONS } from "../shared/format";
import { DOCUMENT_LIMITS } from "./document";
import { type DocumentScan, type DocumentStream, readDocumentStream, scanDocumentStream } from "./document-stream";

/**
 * S3 access of the exporters: reading documents, streaming exports up, reading and deleting parts.
 *
 * Metadata written on every export and part (S3 lower-cases metadata names; they arrive as `x-amz-meta-*`):
 * `format-version` (EXPORT_OBJECT_FORMAT_VERSION), `job-id`, `pages` (page count), `runtime` (lambda | map | fargate).
 */

/** Multipart part size: S3's minimum, which keeps the upload's buffers (one filling, one sending) at 10 MiB. */
const UPLOAD_PART_BYTES = 5 * 1024 * 1024;
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

/** A document object that HeadObject found acceptable; read it with readDocument or scanDocument. */
export interface DocumentObject {
  readonly bucket: string;
  readonly key: string;
  /** `s3://bucket/key`, for messages. */
  readonly source: string;
  /** Every read is pinned to it, so the passes of one export read the same bytes. */
  readonly etag?: string;
  /** `x-amz-meta-format-version`, when set (a supported version). */
  readonly declaredVersion?: string;
}

/**
 * Checks a document before anything is downloaded: it exists, its `format-version` metadata names a supported version
 * and it is within DOCUMENT_LIMITS.maxDocumentBytes.
 *
 * @throws InvalidDocumentError (missing, unreadable, too large), UnsupportedFormatVersionError
 */
export async function headDocument(s3: S3Client, bucket: string, key: string): Promise<DocumentObject> {
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
  return { bucket, key, source, etag: head.ETag, declaredVersion: declared };
}

async function documentBody(s3: S3Client, document: DocumentObject): Promise<AsyncIterable<Uint8Array>> {
  const object = await s3.send(new GetObjectCommand({ Bucket: document.bucket, Key: document.key, IfMatch: document.etag }));
  if (object.Body === undefined) throw new InvalidDocumentError(`${document.source}: empty response body`);
  return object.Body as unknown as AsyncIterable<Uint8Array>;
}

/**
 * Reads a document page by page (document-stream.ts): the header now, the pages as they are iterated, validated and
 * upgraded to the current version. Memory does not grow with the page count when the header precedes the pages.
 * Iterate the pages to the end (or break out of the loop): that is what releases the download.
 *
 * @throws InvalidDocumentError, UnsupportedFormatVersionError (here or from the pages' iteration)
 */
export async function readDocument(s3: S3Client, document: DocumentObject): Promise<DocumentStream> {
  return readDocumentStream(await documentBody(s3, document), { source: document.source, declaredVersion: document.declaredVersion });
}

/**
 * Reads a document through without keeping or validating its pages' content: its header and page count. The first
 * pass of an export whose output starts with the page count.
 *
 * @throws InvalidDocumentError, UnsupportedFormatVersionError — for anything but a page's content
 */
export async function scanDocument(s3: S3Client, document: DocumentObject): Promise<DocumentScan> {
  return scanDocumentStream(await documentBody(s3, document), { source: document.source, declaredVersion: document.declaredVersion });
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
 * Uploads a stream of chunks, multipart when it exceeds one part; returns the bytes written. Pulls from `body` only as
 * fast as parts are sent, so a renderer behind it never runs more than a part or two ahead.
 *
 * Memory: at most two part buffers (UPLOAD_PART_BYTES each): the one being filled and the one being sent. (lib-storage's
 * Upload, used before, concatenated each part's chunks and kept the remainder as a view of the concatenation, which
 * measured ≈ 25 MB for an export of 18 MB.) An export under one part is a single PutObject, sent once complete; a
 * multipart upload that fails — the body throws (an invalid page), a part fails, the signal aborts — is aborted with
 * AbortMultipartUpload, so a failed export leaves no object and no stored parts.
 */
export async function uploadStream(
  s3: S3Client,
  request: UploadRequest,
  body: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): Promise<number> {
  const { bucket: Bucket, key: Key, signal } = request;
  const options = { abortSignal: signal };
  let bytes = 0;
  let buffer: Buffer | undefined;
  let filled = 0;
  let uploadId: string | undefined;
  const parts: CompletedPart[] = [];
  let sending: Promise<void> | undefined;
  let sendError: { error: unknown } | undefined;

  /** Starts sending `part` once the previous part is sent: one part on the wire while the next one fills. */
  async function send(part: Uint8Array): Promise<void> {
    if (uploadId === undefined) {
      // As lib-storage does: with the SDK's default request checksums, parts carry CRC32, and S3 then wants the
      // upload created with that algorithm.
      const checksums = (await s3.config.requestChecksumCalculation()) === "WHEN_SUPPORTED";
      const created = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket,
          Key,
          ContentType: request.contentType,
          Metadata: { ...request.metadata },
          ...(checksums ? { ChecksumAlgorithm: ChecksumAlgorithm.CRC32 } : {}),
        }),
        options,
      );
      uploadId = created.UploadId;
    }
    await sending;
    if (sendError !== undefined) throw sendError.error;
    const PartNumber = parts.length + 1;
    parts.push({ PartNumber });
    sending = s3.send(new UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber, Body: part }), options).then(
      ({ ETag, ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256 }) => {
        parts[PartNumber - 1] = { PartNumber, ETag, ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256 };
      },
      // Kept, not thrown: nobody awaits this promise until the next part, and an unobserved rejection ends the process.
      (error: unknown) => {
        sendError = { error };
      },
    );
  }

  try {
    for await (const chunk of body) {
      signal?.throwIfAborted();
      if (sendError !== undefined) throw sendError.error;
      const data = typeof chunk === "string" ? Buffer.from(chunk, "utf-8") : chunk;
      bytes += data.byteLength;
      for (let offset = 0; offset < data.byteLength; ) {
        if (filled === 0 && data.byteLength - offset >= UPLOAD_PART_BYTES) {
          // A chunk holding a whole part (combine's PDF) is sent as it is, without a copy.
          await send(data.subarray(offset, offset + UPLOAD_PART_BYTES));
          offset += UPLOAD_PART_BYTES;
          continue;
        }
        buffer ??= Buffer.allocUnsafe(UPLOAD_PART_BYTES);
        const n = Math.min(UPLOAD_PART_BYTES - filled, data.byteLength - offset);
        buffer.set(data.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === UPLOAD_PART_BYTES) {
          await send(buffer);
          buffer = undefined;
          filled = 0;
        }
      }
    }
    signal?.throwIfAborted();
    const rest = buffer?.subarray(0, filled) ?? new Uint8Array(0);
    if (uploadId === undefined) {
      await s3.send(
        new PutObjectCommand({ Bucket, Key, Body: rest, ContentType: request.contentType, Metadata: { ...request.metadata } }),
        options,
      );
      return bytes;
    }
    if (filled > 0) await send(rest);
    await sending;
    if (sendError !== undefined) throw sendError.error;
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }), options);
    return bytes;
  } catch (error) {
    if (uploadId !== undefined) {
      await sending;
      // Without the signal: the upload must be aborted even when the signal is what stopped it.
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId })).catch((abortError: unknown) => {
        if (error instanceof Error && error.cause === undefined) error.cause = abortError;
      });
    }
    throw error;
  }
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
