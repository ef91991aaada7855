import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { CreateBucketCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { LOCAL_PARTITION } from "../../program/resource-state";
import { Access } from "../errors";
import { S3Semantics, type S3Caller } from "./semantics";

// s3rver ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver: new (options: Record<string, unknown>) => {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
} = require("s3rver");

/** s3rver accepts any SigV4 signature (it does not verify them) but only from an access key it knows. */
const S3RVER_KEY = "S3RVER";

/**
 * S3 backed by s3rver (a filesystem-backed implementation of the S3 REST API), in a temporary folder removed on stop.
 * The front door hands each request to s3rver's handler in-process, unread, after the authorization check.
 */
export class LocalS3 {
  private server?: InstanceType<typeof S3rver>;
  private handler?: (req: IncomingMessage, res: ServerResponse) => void;
  private directory?: string;
  client?: S3Client;
  readonly buckets = new Set<string>();
  private readonly semantics = new S3Semantics(async (bucket, key) => {
    try {
      return (await this.client!.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag;
    } catch (e) {
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw e;
    }
  });

  constructor(
    private readonly region: string,
    /** A folder to keep buckets and objects in across boots; a temporary one, removed on stop, without it. */
    private readonly persistDirectory?: string,
  ) {}

  async start(): Promise<void> {
    if (this.persistDirectory) fs.mkdirSync(this.persistDirectory, { recursive: true });
    this.directory = this.persistDirectory ?? fs.mkdtempSync(path.join(os.tmpdir(), "local-s3-"));
    this.server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: this.directory, resetOnClose: !this.persistDirectory });
    const { port } = await this.server.run();
    this.handler = this.server.callback();
    this.client = new S3Client({
      region: this.region,
      endpoint: `http://127.0.0.1:${port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
    });
  }

  async stop(): Promise<void> {
    this.client?.destroy();
    await this.server?.close();
    this.server = undefined;
    if (this.directory && !this.persistDirectory) fs.rmSync(this.directory, { recursive: true, force: true });
  }

  async createBucket(name: string): Promise<void> {
    try {
      await this.client!.send(new CreateBucketCommand({ Bucket: name }));
    } catch (err) {
      // Kept from an earlier boot (--persist), with its objects.
      if (!(this.persistDirectory && ["BucketAlreadyExists", "BucketAlreadyOwnedByYou"].includes((err as Error).name))) throw err;
    }
    this.buckets.add(name);
  }

  /** Reads an object straight from the store (for tests and the CLI): body, content type and user metadata. */
  async getObject(bucket: string, key: string): Promise<{ body: Buffer; contentType?: string; metadata: Record<string, string> }> {
    const out = await this.client!.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { body: Buffer.from(await out.Body!.transformToByteArray()), contentType: out.ContentType, metadata: out.Metadata ?? {} };
  }

  async headObject(bucket: string, key: string): Promise<{ contentType?: string; metadata: Record<string, string>; size: number }> {
    const out = await this.client!.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { contentType: out.ContentType, metadata: out.Metadata ?? {}, size: out.ContentLength ?? 0 };
  }

  async listKeys(bucket: string, prefix?: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.client!.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      keys.push(...(out.Contents ?? []).map((c) => c.Key!));
      token = out.NextContinuationToken;
    } while (token);
    return keys;
  }

  /** Deletes keys straight from the store (DeleteObjects, for the keys the caller may delete): what was deleted, what failed. */
  async deleteObjects(bucket: string, keys: readonly string[]): Promise<{ deleted: string[]; errors: Array<{ key: string; code: string; message: string }> }> {
    if (keys.length === 0) return { deleted: [], errors: [] };
    const out = await this.client!.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    return {
      deleted: (out.Deleted ?? []).map((d) => d.Key!),
      errors: (out.Errors ?? []).map((e) => ({ key: e.Key!, code: e.Code ?? "InternalError", message: e.Message ?? "" })),
    };
  }

  /** The IAM action and resource of a REST request (path-style: /bucket/key). */
  describe(method: string, pathname: string, query: URLSearchParams, headers: IncomingMessage["headers"]): Access[] {
    const [, rawBucket = "", ...rest] = pathname.split("/");
    const bucket = decodeURIComponent(rawBucket);
    const key = rest.map(decodeURIComponent).join("/");
    const bucketArn = `arn:${LOCAL_PARTITION}:s3:::${bucket}`;
    if (!bucket) return [{ action: "s3:ListAllMyBuckets", resource: "*" }];
    if (!key) {
      if (method === "PUT") return [{ action: query.has("policy") ? "s3:PutBucketPolicy" : "s3:CreateBucket", resource: bucketArn }];
      if (method === "DELETE") return [{ action: "s3:DeleteBucket", resource: bucketArn }];
      if (method === "POST" && query.has("delete")) return [{ action: "s3:DeleteObject", resource: `${bucketArn}/*` }];
      if (query.has("location")) return [{ action: "s3:GetBucketLocation", resource: bucketArn }];
      if (query.has("versions")) return [{ action: "s3:ListBucketVersions", resource: bucketArn }];
      if (query.has("uploads")) return [{ action: "s3:ListBucketMultipartUploads", resource: bucketArn }];
      return [{ action: "s3:ListBucket", resource: bucketArn }];
    }
    const objectArn = `${bucketArn}/${key}`;
    switch (method) {
      case "GET":
      case "HEAD": {
        // A read naming a version needs the *Version action (S3 user guide, "Actions ... for object operations").
        const version = query.has("versionId") ? "Version" : "";
        if (method === "GET" && query.has("uploadId")) return [{ action: "s3:ListMultipartUploadParts", resource: objectArn }];
        return [{ action: query.has("tagging") ? `s3:GetObject${version}Tagging` : `s3:GetObject${version}`, resource: objectArn }];
      }
      case "DELETE":
        if (query.has("uploadId")) return [{ action: "s3:AbortMultipartUpload", resource: objectArn }];
        return [{ action: query.has("versionId") ? "s3:DeleteObjectVersion" : "s3:DeleteObject", resource: objectArn }];
      case "PUT": {
        if (query.has("tagging")) return [{ action: "s3:PutObjectTagging", resource: objectArn }];
        const source = headers["x-amz-copy-source"];
        const copy = typeof source === "string" ? [{ action: "s3:GetObject", resource: `arn:${LOCAL_PARTITION}:s3:::${decodeURIComponent(source.replace(/^\//, "").split("?")[0])}` }] : [];
        return [{ action: "s3:PutObject", resource: objectArn }, ...copy];
      }
      default:
        return [{ action: "s3:PutObject", resource: objectArn }];
    }
  }

  /**
   * Serves a request after the authorization check: what S3 enforces and s3rver does not is applied first (see
   * semantics.ts; a refusal is thrown as ServiceError), then s3rver answers, with the caller's access key swapped for
   * the one it knows.
   */
  async serve(req: IncomingMessage, res: ServerResponse, caller: S3Caller): Promise<void> {
    const auth = req.headers.authorization;
    if (auth) req.headers.authorization = auth.replace(/Credential=[^/]+\//, `Credential=${S3RVER_KEY}/`);
    // Presigned URLs carry the credential in the query string.
    if (req.url?.includes("X-Amz-Credential=")) req.url = req.url.replace(/X-Amz-Credential=[^%&/]+(%2F|\/)/, `X-Amz-Credential=${S3RVER_KEY}$1`);
    await this.semantics.serve(req, res, caller, (request) => this.handler!(request, res));
  }
}
