import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { PDFDocument } from "pdf-lib";
import type { ExportDocument, Page } from "../../../handlers/export/document";
import type { DocumentStream } from "../../../handlers/export/document-stream";

export const BUCKET = "documents-bucket";

export interface StoredObject {
  readonly body: Buffer;
  readonly metadata: Record<string, string>;
  readonly contentType?: string;
}

async function bytesOf(body: unknown): Promise<Buffer> {
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function notFound(code: "NotFound" | "NoSuchKey"): Error {
  return Object.assign(new Error(code), { name: code, $metadata: { httpStatusCode: 404 } });
}

/** A GetObject body as the SDK returns it: a Readable with the SDK's transform helpers. */
export function sdkBody(body: Buffer): Readable {
  return Object.assign(Readable.from([body]), {
    transformToString: async (encoding?: BufferEncoding) => body.toString(encoding ?? "utf-8"),
    transformToByteArray: async () => new Uint8Array(body),
  });
}

/**
 * An S3Client (or, given the class, every S3Client) whose bucket is a Map, through aws-sdk-client-mock: enough of S3 for the exporters (Head/Get/Put,
 * multipart upload as uploadStream drives it, DeleteObjects). `aborted` lists the keys of multipart uploads aborted.
 */
export function fakeS3(target?: typeof S3Client): {
  s3: S3Client;
  objects: Map<string, StoredObject>;
  mock: ReturnType<typeof mockClient>;
  aborted: string[];
} {
  const s3 = new S3Client({ region: "eu-west-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const objects = new Map<string, StoredObject>();
  const uploads = new Map<string, { key: string; parts: Map<number, Buffer>; metadata: Record<string, string>; contentType?: string }>();
  const aborted: string[] = [];
  // Given the class, every S3Client is faked: how tests reach the clients entry points create at module scope.
  const mock = mockClient(target ?? s3);
  mock.on(HeadObjectCommand).callsFake(async (input) => {
    const object = objects.get(input.Key);
    if (object === undefined) throw notFound("NotFound");
    return { ContentLength: object.body.length, ETag: '"etag"', Metadata: object.metadata, ContentType: object.contentType };
  });
  mock.on(GetObjectCommand).callsFake(async (input) => {
    const object = objects.get(input.Key);
    if (object === undefined) throw notFound("NoSuchKey");
    return { Body: sdkBody(object.body), ContentLength: object.body.length, Metadata: object.metadata };
  });
  mock.on(PutObjectCommand).callsFake(async (input) => {
    objects.set(input.Key, { body: await bytesOf(input.Body), metadata: input.Metadata ?? {}, contentType: input.ContentType });
    return { ETag: '"etag"' };
  });
  mock.on(CreateMultipartUploadCommand).callsFake(async (input) => {
    const uploadId = `upload-${uploads.size + 1}`;
    uploads.set(uploadId, { key: input.Key, parts: new Map(), metadata: input.Metadata ?? {}, contentType: input.ContentType });
    return { UploadId: uploadId, Bucket: input.Bucket, Key: input.Key };
  });
  mock.on(UploadPartCommand).callsFake(async (input) => {
    uploads.get(input.UploadId)!.parts.set(input.PartNumber, await bytesOf(input.Body));
    return { ETag: `"part-${input.PartNumber}"` };
  });
  mock.on(CompleteMultipartUploadCommand).callsFake(async (input) => {
    const upload = uploads.get(input.UploadId)!;
    const parts = [...upload.parts.entries()].sort(([a], [b]) => a - b).map(([, body]) => body);
    objects.set(upload.key, { body: Buffer.concat(parts), metadata: upload.metadata, contentType: upload.contentType });
    return { Bucket: input.Bucket, Key: input.Key, ETag: '"etag"' };
  });
  mock.on(AbortMultipartUploadCommand).callsFake(async (input) => {
    aborted.push(uploads.get(input.UploadId)!.key);
    uploads.delete(input.UploadId);
    return {};
  });
  mock.on(DeleteObjectsCommand).callsFake(async (input) => {
    for (const { Key } of input.Delete.Objects) objects.delete(Key);
    return { Deleted: input.Delete.Objects, Errors: [] };
  });
  return { s3, objects, mock, aborted };
}

/**
 * Stores a document (any JSON value, or JSON text as it is) as an object, with `format-version` metadata (the
 * document's `formatVersion`) unless told otherwise.
 */
export function putDocument(objects: Map<string, StoredObject>, key: string, document: unknown, metadata?: Record<string, string>): void {
  const text = typeof document === "string" ? document : JSON.stringify(document);
  const version = typeof document === "string" ? undefined : (document as { formatVersion?: unknown })?.formatVersion;
  objects.set(key, {
    body: Buffer.from(text),
    metadata: metadata ?? (typeof version === "number" ? { "format-version": String(version) } : {}),
    contentType: "application/json",
  });
}

/** All of a streamed document, in memory: header and pages. */
export async function readWhole(document: DocumentStream): Promise<ExportDocument> {
  const pages: Page[] = [];
  for await (const page of document.pages) pages.push(page);
  return { ...document.header, pages };
}

export async function collectText(chunks: AsyncIterable<string | Uint8Array>): Promise<string> {
  return (await collectBytes(chunks)).toString("utf-8");
}

export async function collectBytes(chunks: AsyncIterable<string | Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** Fails with the parser's own message unless `xml` is well-formed XML. */
export function assertWellFormedXml(xml: string): void {
  const result = XMLValidator.validate(xml);
  if (result !== true) {
    throw new Error(`not well-formed XML: ${result.err.msg} at line ${result.err.line}, column ${result.err.col}`);
  }
}

/** The nested page `<svg>` elements of a multi-page export, as parsed XML. */
export function svgPages(xml: string): Array<Record<string, unknown>> {
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", trimValues: false, isArray: (name) => name === "svg" || name === "text" }).parse(xml);
  const outer = parsed.svg[0];
  return (outer.svg ?? []) as Array<Record<string, unknown>>;
}

export async function pdfPageCount(bytes: Uint8Array): Promise<number> {
  return (await PDFDocument.load(bytes)).getPageCount();
}
