/**
 * A minimal S3 on 127.0.0.1 for the exporter benchmark: serves objects from files and discards what is written, so a
 * benchmarked function runs its real code path (SDK, HTTP, streaming download, multipart upload with its part buffers)
 * while the memory of storage stays out of the measured process. Path-style requests only (the SDK uses path style
 * for an IP endpoint). Answers the operations the export functions use: HeadObject, GetObject, PutObject, the
 * multipart upload calls, DeleteObjects.
 */
import { createReadStream, statSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface StoredFile {
  readonly file: string;
  /** Object metadata, names without `x-amz-meta-`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface FakeS3 {
  /** `http://127.0.0.1:PORT`, for AWS_ENDPOINT_URL_S3. */
  readonly endpoint: string;
  /** Objects served, by key (any bucket). */
  readonly objects: Map<string, StoredFile>;
  /** Bytes received per written key (PutObject, or the sum of an upload's parts). */
  readonly written: Map<string, number>;
  close(): Promise<void>;
}

const xml = (body: string): string => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;

async function drain(request: IncomingMessage): Promise<number> {
  let bytes = 0;
  for await (const chunk of request) bytes += (chunk as Buffer).byteLength;
  return bytes;
}

export async function startFakeS3(): Promise<FakeS3> {
  const objects = new Map<string, StoredFile>();
  const written = new Map<string, number>();
  const uploads = new Map<string, string>();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    const [, bucket, ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    const query = url.searchParams;
    const send = (status: number, headers: Record<string, string | number> = {}, body?: string): void => {
      response.writeHead(status, { ...(body === undefined ? {} : { "content-type": "application/xml" }), ...headers });
      response.end(body);
    };

    switch (request.method) {
      case "HEAD":
      case "GET": {
        await drain(request);
        const stored = objects.get(key);
        if (stored === undefined) {
          return request.method === "HEAD"
            ? send(404)
            : send(404, {}, xml(`<Error><Code>NoSuchKey</Code><Message>no such key</Message><Key>${key}</Key></Error>`));
        }
        const headers: Record<string, string | number> = {
          "content-length": statSync(stored.file).size,
          "content-type": "application/octet-stream",
          etag: '"bench"',
          "last-modified": new Date(0).toUTCString(),
        };
        for (const [name, value] of Object.entries(stored.metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
        response.writeHead(200, headers);
        if (request.method === "HEAD") return void response.end();
        createReadStream(stored.file).pipe(response);
        return;
      }
      case "PUT": {
        const bytes = await drain(request);
        const uploadId = query.get("uploadId");
        const target = uploadId === null ? key : uploads.get(uploadId)!;
        written.set(target, (uploadId === null ? 0 : (written.get(target) ?? 0)) + bytes);
        return send(200, { etag: `"part-${query.get("partNumber") ?? 1}"` });
      }
      case "POST": {
        await drain(request);
        if (query.has("uploads")) {
          const uploadId = `upload-${uploads.size + 1}`;
          uploads.set(uploadId, key);
          written.set(key, 0);
          return send(200, {}, xml(`<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`));
        }
        if (query.has("uploadId")) {
          return send(200, {}, xml(`<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>"bench"</ETag></CompleteMultipartUploadResult>`));
        }
        if (query.has("delete")) return send(200, {}, xml("<DeleteResult></DeleteResult>"));
        return send(400, {}, xml("<Error><Code>NotImplemented</Code></Error>"));
      }
      case "DELETE":
        await drain(request);
        if (query.has("uploadId")) written.delete(uploads.get(query.get("uploadId")!) ?? "");
        return send(204);
      default:
        return send(405);
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      response.destroy(error);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objects,
    written,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
