import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import * as zlib from "node:zlib";
import { ServiceError } from "../errors";

/**
 * What S3 enforces and s3rver does not, applied in front of it (sources: Amazon S3 API reference for UploadPart,
 * CompleteMultipartUpload, GetObject/HeadObject; S3 user guide "Checking object integrity", "Multipart upload limits",
 * "Using ETags"; and the error codes list):
 *
 * - every part but the last is at least 5 MiB, or CompleteMultipartUpload fails with `EntityTooSmall`;
 * - parts are listed in ascending order (`InvalidPartOrder`) and each names a part that was uploaded with that ETag
 *   (`InvalidPart`);
 * - an upload created with `x-amz-checksum-algorithm` takes parts with that checksum only ("Checksum Type mismatch",
 *   both ways: a part with a checksum for an upload created without one is refused too), a part's checksum must match
 *   its bytes (`BadDigest`), and Complete must repeat each part's checksum;
 * - a multipart object's ETag is the MD5 of the parts' binary MD5s, then `-<part count>`, not the MD5 of the content;
 * - `If-Match` is honoured on GET and HEAD (412 `PreconditionFailed`);
 * - reading a key that does not exist is 403 `AccessDenied` for a caller without `s3:ListBucket` on the bucket, 404
 *   `NoSuchKey` only for one with it.
 *
 * Limits: CRC32, SHA1 and SHA256 part checksums are recomputed; CRC32C and CRC64NVME are recorded as sent, not
 * recomputed (Node has no implementation of them); the full-object checksum of a multipart object is not produced.
 */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

const ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const;
type Algorithm = (typeof ALGORITHMS)[number];

interface PartRecord {
  readonly size: number;
  readonly md5: Buffer;
  readonly checksum?: string;
}

interface UploadRecord {
  readonly bucket: string;
  readonly key: string;
  readonly algorithm?: Algorithm;
  readonly parts: Map<number, PartRecord>;
}

/** What the front door knows about the caller that S3's answers depend on. */
export interface S3Caller {
  /** Whether the caller holds s3:ListBucket on the bucket (decides 403 or 404 for a missing key). */
  mayList(bucket: string): boolean;
}

export class S3Semantics {
  private readonly uploads = new Map<string, UploadRecord>();
  /** Per object (`bucket/key`): the ETag s3rver stored (MD5 of the content) and the multipart ETag S3 gives instead. */
  private readonly multipartEtags = new Map<string, { plain: string; multipart: string }>();

  constructor(
    /** The object's current ETag as s3rver has it, or undefined when there is no such key. */
    private readonly headEtag: (bucket: string, key: string) => Promise<string | undefined>,
  ) {}

  /**
   * Serves one request whose S3 semantics s3rver lacks and hands it on (`pass`), with its body replayed when it had to
   * be read; throws ServiceError for what S3 refuses.
   */
  async serve(req: IncomingMessage, res: ServerResponse, caller: S3Caller, pass: (req: IncomingMessage) => void): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    const [, rawBucket = "", ...rest] = url.pathname.split("/");
    const bucket = decodeURIComponent(rawBucket);
    const key = rest.map(decodeURIComponent).join("/");
    const query = url.searchParams;
    const method = req.method ?? "GET";
    if (!key) return pass(req);
    if (method === "POST" && query.has("uploads")) return this.createUpload(req, res, bucket, key, pass);
    if (method === "PUT" && query.has("uploadId") && query.has("partNumber") && req.headers["x-amz-copy-source"] === undefined) {
      return this.uploadPart(req, res, query.get("uploadId")!, Number(query.get("partNumber")), pass);
    }
    if (method === "POST" && query.has("uploadId")) return this.complete(req, res, bucket, key, query.get("uploadId")!, pass);
    if (method === "DELETE" && query.has("uploadId")) this.uploads.delete(query.get("uploadId")!);
    if ((method === "GET" || method === "HEAD") && !query.has("uploadId")) return this.read(req, res, bucket, key, caller, pass);
    pass(req);
  }

  private createUpload(req: IncomingMessage, res: ServerResponse, bucket: string, key: string, pass: (req: IncomingMessage) => void): void {
    const declared = header(req, "x-amz-checksum-algorithm")?.toUpperCase();
    if (declared !== undefined && !ALGORITHMS.includes(declared as Algorithm)) {
      throw new ServiceError("InvalidRequest", `Value for x-amz-checksum-algorithm header is invalid.`, 400);
    }
    const algorithm = declared as Algorithm | undefined;
    if (algorithm) res.setHeader("x-amz-checksum-algorithm", algorithm);
    rewriteBody(res, (body) => {
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(body)?.[1];
      if (uploadId) this.uploads.set(uploadId, { bucket, key, algorithm, parts: new Map() });
      return body;
    });
    pass(req);
  }

  private async uploadPart(req: IncomingMessage, res: ServerResponse, uploadId: string, partNumber: number, pass: (req: IncomingMessage) => void): Promise<void> {
    const body = await readBody(req);
    const upload = this.uploads.get(uploadId);
    if (!upload) return pass(replay(req, body));
    const sent = ALGORITHMS.filter((a) => header(req, `x-amz-checksum-${a.toLowerCase()}`) !== undefined);
    if (sent.length > 1 || (sent[0] ?? null) !== (upload.algorithm ?? null)) {
      throw new ServiceError(
        "InvalidRequest",
        `Checksum Type mismatch occurred, expected checksum Type: ${upload.algorithm?.toLowerCase() ?? "null"}, actual checksum Type: ${sent.map((a) => a.toLowerCase()).join(",") || "null"}`,
        400,
      );
    }
    let checksum: string | undefined;
    if (upload.algorithm) {
      checksum = header(req, `x-amz-checksum-${upload.algorithm.toLowerCase()}`)!;
      const computed = checksumOf(upload.algorithm, body);
      if (computed !== undefined && computed !== checksum) {
        throw new ServiceError("BadDigest", `The ${upload.algorithm} you specified did not match the calculated checksum.`, 400);
      }
      res.setHeader(`x-amz-checksum-${upload.algorithm.toLowerCase()}`, checksum);
    }
    upload.parts.set(partNumber, { size: body.length, md5: createHash("md5").update(body).digest(), checksum });
    pass(replay(req, body));
  }

  private async complete(req: IncomingMessage, res: ServerResponse, bucket: string, key: string, uploadId: string, pass: (req: IncomingMessage) => void): Promise<void> {
    const body = await readBody(req);
    const upload = this.uploads.get(uploadId);
    if (!upload) return pass(replay(req, body));
    const listed = [...body.toString("utf8").matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
      number: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[1])?.[1]),
      etag: (/<ETag>([^<]*)<\/ETag>/.exec(m[1])?.[1] ?? "").replace(/&quot;|"/g, ""),
      checksum: upload.algorithm ? /<Checksum([A-Z0-9]+)>([^<]*)<\/Checksum\1>/.exec(m[1]) : null,
    }));
    if (listed.length === 0) throw new ServiceError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema", 400);
    listed.forEach((part, i) => {
      if (i > 0 && part.number <= listed[i - 1].number) {
        throw new ServiceError("InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.", 400);
      }
    });
    const invalidPart = () =>
      new ServiceError("InvalidPart", "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.", 400);
    const records = listed.map((part) => {
      const record = upload.parts.get(part.number);
      if (!record || record.md5.toString("hex") !== part.etag) throw invalidPart();
      if (upload.algorithm) {
        const [, algorithm, value] = part.checksum ?? [];
        if (algorithm !== upload.algorithm) {
          throw new ServiceError(
            "InvalidRequest",
            `The upload was created using a ${upload.algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${part.number} in the request.`,
            400,
          );
        }
        if (value !== record.checksum) throw invalidPart();
      }
      return record;
    });
    records.slice(0, -1).forEach((record) => {
      if (record.size < MIN_PART_BYTES) throw new ServiceError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", 400);
    });
    const multipart = `"${createHash("md5").update(Buffer.concat(records.map((r) => r.md5))).digest("hex")}-${records.length}"`;
    rewriteBody(res, (xml) => {
      const plain = /<ETag>([^<]*)<\/ETag>/.exec(xml)?.[1];
      if (plain === undefined || res.statusCode >= 300) return xml;
      this.multipartEtags.set(`${bucket}/${key}`, { plain: plain.replace(/&quot;/g, '"'), multipart });
      this.uploads.delete(uploadId);
      return xml.replace(/<ETag>[^<]*<\/ETag>/, `<ETag>${multipart.replace(/"/g, "&quot;")}</ETag>`);
    });
    pass(replay(req, body));
  }

  private async read(req: IncomingMessage, res: ServerResponse, bucket: string, key: string, caller: S3Caller, pass: (req: IncomingMessage) => void): Promise<void> {
    const known = this.multipartEtags.get(`${bucket}/${key}`);
    // The stored ETag matters for an If-Match, a multipart ETag to translate, or a missing key that must read 403
    // (no s3:ListBucket); any other read goes to s3rver as it is, without a HeadObject before it.
    if (known === undefined && header(req, "if-match") === undefined && caller.mayList(bucket)) return pass(req);
    const stored = await this.headEtag(bucket, key);
    if (stored === undefined) {
      if (!caller.mayList(bucket)) throw new ServiceError("AccessDenied", "Access Denied", 403);
      return pass(req);
    }
    const current = known && known.plain === stored ? known.multipart : stored;
    const ifMatch = header(req, "if-match");
    if (ifMatch !== undefined && !ifMatch.split(",").some((tag) => tag.trim() === "*" || unquote(tag) === unquote(current))) {
      throw new ServiceError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412);
    }
    if (current !== stored) {
      // s3rver compares If-None-Match with its own ETag and sends its own: both are translated.
      if (header(req, "if-none-match") !== undefined && unquote(header(req, "if-none-match")!) === unquote(current)) req.headers["if-none-match"] = stored;
      const setHeader = res.setHeader.bind(res);
      res.setHeader = ((name: string, value: number | string | readonly string[]) =>
        setHeader(name, name.toLowerCase() === "etag" && String(value) === stored ? current : value)) as ServerResponse["setHeader"];
    }
    pass(req);
  }
}

/** The checksum S3 computes for `algorithm` (base64, as in the x-amz-checksum-* headers); undefined when not computed here. */
export function checksumOf(algorithm: Algorithm, body: Buffer): string | undefined {
  switch (algorithm) {
    case "CRC32": {
      const value = Buffer.alloc(4);
      value.writeUInt32BE(zlib.crc32(body) >>> 0);
      return value.toString("base64");
    }
    case "SHA1":
      return createHash("sha1").update(body).digest("base64");
    case "SHA256":
      return createHash("sha256").update(body).digest("base64");
    default:
      return undefined;
  }
}

/** A request whose body was read, replayed with the original request's metadata for the handler after it. */
export function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  return Object.assign(Readable.from([body]), {
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    method: req.method,
    url: req.url,
    socket: req.socket,
    connection: req.socket,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    complete: true,
  }) as unknown as IncomingMessage;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function unquote(etag: string): string {
  return etag.trim().replace(/^W\//, "").replace(/"/g, "");
}

/** Lets `transform` rewrite a small XML response body before it is sent (its Content-Length follows). */
function rewriteBody(res: ServerResponse, transform: (body: string) => string): void {
  const chunks: Buffer[] = [];
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.write = ((chunk: string | Uint8Array) => {
    chunks.push(Buffer.from(chunk));
    return true;
  }) as ServerResponse["write"];
  res.end = ((chunk?: unknown) => {
    if (chunk !== undefined && typeof chunk !== "function") chunks.push(Buffer.from(chunk as string | Uint8Array));
    const body = transform(Buffer.concat(chunks).toString("utf8"));
    if (!res.headersSent) res.setHeader("content-length", Buffer.byteLength(body));
    return end(body);
  }) as ServerResponse["end"];
}
