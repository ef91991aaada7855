import { expect } from "chai";
import { createHash } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type ChecksumAlgorithm,
  type CompletedPart,
} from "@aws-sdk/client-s3";
import type { LocalCloud } from "../../../local/cloud";
import type { PolicyDocument } from "../../../local/iam/evaluate";
import type { Principal } from "../../../local/iam/principals";
import { LOCAL_ACCOUNT } from "../../../local/program/resource-state";
import { checksumOf, MIN_PART_BYTES } from "../../../local/services/s3/semantics";
import { sdkFailure, sharedMini } from "../support";

/**
 * S3 as S3 answers, where s3rver alone would not. Sources: Amazon S3 API reference (UploadPart,
 * CompleteMultipartUpload — EntityTooSmall, InvalidPart, InvalidPartOrder; GetObject — If-Match and "If the object
 * you request doesn't exist, the error that Amazon S3 returns depends on whether you also have the s3:ListBucket
 * permission"), S3 user guide "Checking object integrity" (checksums of parts, multipart ETags) and "Policy actions
 * for Amazon S3" (GetObjectVersion, ListMultipartUploadParts).
 */
describe("fidelity: S3 as S3", function () {
  this.timeout(60_000);
  let cloud: LocalCloud;
  let s3: S3Client;
  let bucket: string;
  const md5 = (b: Buffer) => createHash("md5").update(b).digest();
  const failure = sdkFailure;

  before(async () => {
    cloud = await sharedMini();
    s3 = new S3Client({ ...cloud.clientConfig(), forcePathStyle: true });
    bucket = cloud.output("bucketName") as string;
  });

  /** Uploads `parts` to a new multipart upload; returns what Complete needs. */
  async function upload(key: string, parts: Buffer[], algorithm?: ChecksumAlgorithm): Promise<{ uploadId: string; completed: CompletedPart[] }> {
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...(algorithm ? { ChecksumAlgorithm: algorithm } : {}) }));
    const completed: CompletedPart[] = [];
    for (const [i, body] of parts.entries()) {
      const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: i + 1, Body: body }));
      completed.push({ PartNumber: i + 1, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32 });
    }
    return { uploadId: created.UploadId!, completed };
  }

  describe("multipart uploads", () => {
    it("refuses to complete an upload whose non-final part is under 5 MiB with EntityTooSmall", async () => {
      const { uploadId, completed } = await upload("fidelity/too-small", [Buffer.alloc(MIN_PART_BYTES - 1, 1), Buffer.alloc(10, 2)], "CRC32");
      const error = await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "fidelity/too-small", UploadId: uploadId, MultipartUpload: { Parts: completed } })));
      expect(error).to.deep.include({ name: "EntityTooSmall", status: 400, message: "Your proposed upload is smaller than the minimum allowed size" });
    });

    it("gives a completed object the multipart ETag (MD5 of the parts' MD5s, then -N) on Complete, GET and HEAD, and honours If-Match with it", async () => {
      const parts = [Buffer.alloc(MIN_PART_BYTES, 3), Buffer.alloc(1000, 4)];
      const { uploadId, completed } = await upload("fidelity/multipart", parts, "CRC32");
      expect(completed.map((p) => p.ChecksumCRC32)).to.deep.equal(parts.map((p) => checksumOf("CRC32", p)));
      const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "fidelity/multipart", UploadId: uploadId, MultipartUpload: { Parts: completed } }));
      const expected = `"${createHash("md5").update(Buffer.concat(parts.map(md5))).digest("hex")}-2"`;
      expect(done.ETag).to.equal(expected);
      expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "fidelity/multipart" }))).ETag).to.equal(expected);
      const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "fidelity/multipart", IfMatch: expected }));
      expect(read.ETag).to.equal(expected);
      expect(Buffer.from(await read.Body!.transformToByteArray()).equals(Buffer.concat(parts))).to.equal(true);
    });

    it("refuses a part with a checksum for an upload created without one, and the reverse", async () => {
      // The SDK sends a CRC32 with every part by default (requestChecksumCalculation WHEN_SUPPORTED).
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "fidelity/no-algorithm" }));
      const withChecksum = await failure(s3.send(new UploadPartCommand({ Bucket: bucket, Key: "fidelity/no-algorithm", UploadId: created.UploadId, PartNumber: 1, Body: Buffer.alloc(10) })));
      expect(withChecksum).to.deep.include({ name: "InvalidRequest", status: 400, message: "Checksum Type mismatch occurred, expected checksum Type: null, actual checksum Type: crc32" });
      const plain = new S3Client({ ...cloud.clientConfig(), forcePathStyle: true, requestChecksumCalculation: "WHEN_REQUIRED" });
      const sha = await plain.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "fidelity/sha", ChecksumAlgorithm: "SHA256" }));
      const without = await failure(plain.send(new UploadPartCommand({ Bucket: bucket, Key: "fidelity/sha", UploadId: sha.UploadId, PartNumber: 1, Body: Buffer.alloc(10) })));
      expect(without).to.deep.include({ name: "InvalidRequest", message: "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: null" });
    });

    it("refuses a part whose checksum does not match its bytes with BadDigest", async () => {
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "fidelity/bad-digest", ChecksumAlgorithm: "CRC32" }));
      const error = await failure(
        s3.send(new UploadPartCommand({ Bucket: bucket, Key: "fidelity/bad-digest", UploadId: created.UploadId, PartNumber: 1, Body: Buffer.alloc(10, 7), ChecksumCRC32: checksumOf("CRC32", Buffer.alloc(10, 8)) })),
      );
      expect(error).to.deep.include({ name: "BadDigest", status: 400, message: "The CRC32 you specified did not match the calculated checksum." });
    });

    it("wants each part's checksum repeated at Complete for an upload created with an algorithm, and parts in ascending order", async () => {
      const { uploadId, completed } = await upload("fidelity/complete-checksums", [Buffer.alloc(MIN_PART_BYTES, 5), Buffer.alloc(10, 6)], "CRC32");
      const complete = (Parts: CompletedPart[]) => failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "fidelity/complete-checksums", UploadId: uploadId, MultipartUpload: { Parts } })));
      expect(await complete(completed.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })))).to.deep.include({
        name: "InvalidRequest",
        message: "The upload was created using a crc32 checksum. The complete request must include the checksum for each part. It was missing for part 1 in the request.",
      });
      expect(await complete([completed[0], { ...completed[1], ChecksumCRC32: completed[0].ChecksumCRC32 }])).to.deep.include({ name: "InvalidPart", status: 400 });
      expect(await complete([completed[1], completed[0]])).to.deep.include({ name: "InvalidPartOrder", status: 400 });
      expect(await complete([completed[0], { ...completed[1], ETag: '"0123"' }])).to.deep.include({ name: "InvalidPart" });
      expect(await complete(completed)).to.equal(undefined);
    });
  });

  describe("reads", () => {
    it("answers 412 PreconditionFailed to a GET or HEAD whose If-Match names another ETag", async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "fidelity/if-match", Body: "v1" }));
      const get = await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "fidelity/if-match", IfMatch: '"0000"' })));
      expect(get).to.deep.include({ name: "PreconditionFailed", status: 412, message: "At least one of the pre-conditions you specified did not hold" });
      const head = await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "fidelity/if-match", IfMatch: '"0000"' })));
      expect(head?.status).to.equal(412);
      const ok = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "fidelity/if-match", IfMatch: put.ETag }));
      expect(await ok.Body!.transformToString()).to.equal("v1");
    });

    describe("as a caller with s3:GetObject on the bucket's objects", () => {
      let reader: Principal;
      let restore: () => void;
      const role = (statements: object[]): PolicyDocument => ({ Version: "2012-10-17", Statement: statements } as unknown as PolicyDocument);
      const read = (key: string, extra: Partial<{ VersionId: string }> = {}) =>
        failure(new S3Client({ ...cloud.clientConfig(reader), forcePathStyle: true }).send(new GetObjectCommand({ Bucket: bucket, Key: key, ...extra })));

      before(() => {
        reader = cloud.principals.issue("lambda", "fidelity-s3-reader", `arn:aws:iam::${LOCAL_ACCOUNT}:role/fidelity-s3-reader`);
      });
      afterEach(() => restore?.());

      it("is told AccessDenied (403), not NoSuchKey, for a missing key without s3:ListBucket", async () => {
        restore = cloud.iam.override(reader, () => [role([{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucket}/*` }])]);
        expect(await read("fidelity/missing")).to.deep.include({ name: "AccessDenied", status: 403 });
      });

      it("is told NoSuchKey (404) for a missing key with s3:ListBucket on the bucket", async () => {
        restore = cloud.iam.override(reader, () => [
          role([
            { Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucket}/*` },
            { Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${bucket}` },
          ]),
        ]);
        expect(await read("fidelity/missing")).to.deep.include({ name: "NoSuchKey", status: 404 });
      });

      it("needs s3:GetObjectVersion to read by versionId, and s3:ListMultipartUploadParts to list an upload's parts", async () => {
        restore = cloud.iam.override(reader, () => [role([{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucket}/*` }])]);
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "fidelity/versioned", Body: "v" }));
        const before = cloud.principals.accessLog.length;
        expect(await read("fidelity/versioned", { VersionId: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY" })).to.deep.include({ name: "AccessDenied", status: 403 });
        const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "fidelity/parts" }));
        const list = await failure(new S3Client({ ...cloud.clientConfig(reader), forcePathStyle: true }).send(new ListPartsCommand({ Bucket: bucket, Key: "fidelity/parts", UploadId: created.UploadId })));
        expect(list).to.deep.include({ name: "AccessDenied", status: 403 });
        const denied = cloud.principals.accessLog.slice(before).filter((e) => e.principal === "lambda:fidelity-s3-reader" && !e.allowed).map((e) => e.action);
        expect(denied).to.deep.equal(["s3:GetObjectVersion", "s3:ListMultipartUploadParts"]);
      });
    });
  });
});
