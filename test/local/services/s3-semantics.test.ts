import { expect } from "chai";
import type { IncomingMessage, ServerResponse } from "node:http";
import { S3Semantics } from "../../../local/services/s3/semantics";

/** A GET of `key` in bucket `docs` with `headers`, as the front door hands it on. */
function get(key: string, headers: Record<string, string> = {}): IncomingMessage {
  return { method: "GET", url: `/docs/${key}`, headers } as unknown as IncomingMessage;
}

describe("S3 semantics in front of s3rver (local/services/s3/semantics.ts): reads", () => {
  const stored = new Map([["docs/a.json", '"etag-a"']]);
  let heads: string[];
  let passed: IncomingMessage[];
  let semantics: S3Semantics;
  const res = { setHeader: () => undefined } as unknown as ServerResponse;
  const pass = (req: IncomingMessage) => void passed.push(req);
  const lister = { mayList: () => true };
  const noLister = { mayList: () => false };

  beforeEach(() => {
    heads = [];
    passed = [];
    semantics = new S3Semantics(async (bucket, key) => {
      heads.push(`${bucket}/${key}`);
      return stored.get(`${bucket}/${key}`);
    });
  });

  it("hands a plain read by a caller with s3:ListBucket to s3rver without asking it for the object first", async () => {
    await semantics.serve(get("a.json"), res, lister, pass);
    await semantics.serve(get("missing.json"), res, lister, pass);
    expect([heads, passed.length]).to.deep.equal([[], 2]);
  });

  it("reads the stored ETag for an If-Match, and refuses a mismatch with 412 PreconditionFailed", async () => {
    await semantics.serve(get("a.json", { "if-match": '"etag-a"' }), res, lister, pass);
    const refused = await semantics.serve(get("a.json", { "if-match": '"other"' }), res, lister, pass).catch((e: Error) => e);
    expect(heads).to.deep.equal(["docs/a.json", "docs/a.json"]);
    expect(passed).to.have.length(1);
    expect(refused).to.include({ name: "PreconditionFailed", message: "At least one of the pre-conditions you specified did not hold", status: 412 });
  });

  it("answers 403 AccessDenied, not 404, for a missing key read by a caller without s3:ListBucket, and passes an existing one", async () => {
    const refused = await semantics.serve(get("missing.json"), res, noLister, pass).catch((e: Error & { status?: number }) => e);
    await semantics.serve(get("a.json"), res, noLister, pass);
    expect(refused).to.include({ name: "AccessDenied", message: "Access Denied", status: 403 });
    expect(heads).to.deep.equal(["docs/missing.json", "docs/a.json"]);
    expect(passed).to.have.length(1);
  });
});
