import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { expect } from "chai";
import { combineExport } from "../../../handlers/export/combine";
import type { EstimateConfig, ExportsConfig } from "../../../handlers/export/config";
import { estimateExport } from "../../../handlers/export/estimate";
import type { Log } from "../../../handlers/export/logger";
import { renderPdf } from "../../../handlers/export/render/pdf";
import { renderSvg } from "../../../handlers/export/render/svg";
import { renderExport } from "../../../handlers/export/render-export";
import { MAX_CHUNKS } from "../../../handlers/export/requests";
import { headDocument, readDocument, scanDocument, uploadStream } from "../../../handlers/export/s3";
import { splitExport } from "../../../handlers/export/split";
import { InvalidDocumentError, InvalidExportRequestError, UnsupportedFormatVersionError } from "../../../handlers/shared/errors";
import { catalogueDocument, invoiceDocument, stringifyDocument, toVersion1 } from "../../../scripts/generate-documents";
import { BUCKET, assertWellFormedXml, fakeS3, pdfPageCount, putDocument, readWhole, svgPages } from "./fakes";

const silent: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Log;
const exportsConfig: ExportsConfig = { bucket: BUCKET, exportsPrefix: "exports/" };
const ROUTE_LIMITS = { mapMaxConcurrency: 10, mapSecondsAvailable: 12_000, mapChunkSeconds: { svg: 780, pdf: 840 }, fargateSecondsAvailable: 10_680, fargateSpeedup: { svg: 4, pdf: 2 } };
const estimateConfig: EstimateConfig = { bucket: BUCKET, secondsPerPage: { svg: 0.5, pdf: 30 }, lambdaBudgetSeconds: 720, routeLimits: ROUTE_LIMITS };

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

/** The document with page `index` (0-based) made invalid: a text element's `x` as a string. */
function withBadPage(document: ReturnType<typeof catalogueDocument>, index: number): unknown {
  const pages: unknown[] = [...document.pages];
  const elements: unknown[] = [...document.pages[index].elements];
  elements[7] = { ...document.pages[index].elements[7], x: "12" };
  pages[index] = { elements };
  return { ...document, pages };
}

describe("export workflow steps", () => {
  describe("reading documents from S3", () => {
    it("upgrades a version 1 document that has no format-version metadata", async () => {
      const { s3, objects } = fakeS3();
      putDocument(objects, "docs/v1.json", toVersion1(invoiceDocument()), {});
      expect(await readWhole(await readDocument(s3, await headDocument(s3, BUCKET, "docs/v1.json")))).to.deep.equal(invoiceDocument());
    });

    it("refuses an unsupported x-amz-meta-format-version before downloading the body", async () => {
      const { s3, objects, mock } = fakeS3();
      putDocument(objects, "docs/v9.json", invoiceDocument(), { "format-version": "9" });
      const error = await rejection(headDocument(s3, BUCKET, "docs/v9.json"));
      expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
      expect(error.message).to.equal(
        `s3://${BUCKET}/docs/v9.json (x-amz-meta-format-version): formatVersion "9" is not supported (supported: 1, 2)`,
      );
      expect(mock.commandCalls(GetObjectCommand)).to.have.length(0);
    });

    it("refuses a document whose metadata and body disagree on the format version", async () => {
      const { s3, objects } = fakeS3();
      putDocument(objects, "docs/mixed.json", invoiceDocument(), { "format-version": "1" });
      const document = await headDocument(s3, BUCKET, "docs/mixed.json");
      expect((await rejection(readDocument(s3, document))).message).to.equal(
        `s3://${BUCKET}/docs/mixed.json: x-amz-meta-format-version is 1 but the document says formatVersion 2`,
      );
    });

    it("reports a missing document as InvalidDocument", async () => {
      const { s3 } = fakeS3();
      const error = await rejection(headDocument(s3, BUCKET, "docs/missing.json"));
      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.message).to.equal(`s3://${BUCKET}/docs/missing.json: no such document`);
    });

    it("reports a document S3 answers 403 for (missing, without s3:ListBucket) as InvalidDocument", async () => {
      const { s3, mock } = fakeS3();
      mock.on(HeadObjectCommand).rejects(Object.assign(new Error("Forbidden"), { name: "Forbidden", $metadata: { httpStatusCode: 403 } }));
      const error = await rejection(headDocument(s3, BUCKET, "docs/hidden.json"));
      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.message).to.equal(`s3://${BUCKET}/docs/hidden.json: no such document, or not readable by this function (S3 answered 403)`);
    });

    it("refuses a document larger than 16 MiB without downloading it", async () => {
      const { s3, mock } = fakeS3();
      mock.on(HeadObjectCommand).resolves({ ContentLength: 16 * 1024 * 1024 + 1, ETag: '"e"', Metadata: {} });
      expect((await rejection(headDocument(s3, BUCKET, "docs/huge.json"))).message).to.equal(
        `s3://${BUCKET}/docs/huge.json: 16777217 bytes, more than the 16777216 a document may have`,
      );
      expect(mock.commandCalls(GetObjectCommand)).to.have.length(0);
    });

    it("pins every read of a document to the ETag HeadObject saw", async () => {
      const { s3, objects, mock } = fakeS3();
      putDocument(objects, "docs/invoice.json", invoiceDocument());
      const document = await headDocument(s3, BUCKET, "docs/invoice.json");
      expect(await scanDocument(s3, document)).to.deep.equal({ header: { formatVersion: 2, title: "Invoice INV-2025-00042", pageSize: invoiceDocument().pageSize }, pages: 1 });
      await readWhole(await readDocument(s3, document));
      expect(mock.commandCalls(GetObjectCommand).map((call) => call.args[0].input.IfMatch)).to.deep.equal(['"etag"', '"etag"']);
    });
  });

  describe("uploading exports", () => {
    const MiB = 1024 * 1024;
    const request = { bucket: BUCKET, key: "exports/u.bin", contentType: "application/octet-stream", metadata: { "job-id": "u" } };

    it("sends 5 MiB parts in order, whatever the chunks, asking S3 for CRC32 part checksums as the SDK sends them", async () => {
      const { s3, objects, mock } = fakeS3();
      const chunks = [Buffer.alloc(3 * MiB, 1), "é".repeat(2 * MiB), Buffer.alloc(6 * MiB, 3), Buffer.alloc(100, 4)];
      const expected = Buffer.concat(chunks.map((chunk) => Buffer.from(chunk)));
      expect(await uploadStream(s3, request, chunks)).to.equal(expected.length);
      expect(objects.get("exports/u.bin")!.body.equals(expected)).to.equal(true);
      expect(objects.get("exports/u.bin")!.metadata).to.deep.equal({ "job-id": "u" });
      const sizes = mock.commandCalls(UploadPartCommand).map((call) => (call.args[0].input.Body as Uint8Array).byteLength);
      expect(sizes).to.deep.equal([5 * MiB, 5 * MiB, expected.length - 10 * MiB]);
      expect(mock.commandCalls(CreateMultipartUploadCommand)[0].args[0].input.ChecksumAlgorithm).to.equal("CRC32");
      const completed = mock.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input.MultipartUpload!.Parts!;
      expect(completed.map((part) => [part.PartNumber, part.ETag])).to.deep.equal([[1, '"part-1"'], [2, '"part-2"'], [3, '"part-3"']]);
    });

    it("sends an export under one part as one PutObject", async () => {
      const { s3, objects, mock } = fakeS3();
      expect(await uploadStream(s3, request, ["<svg>", "</svg>"])).to.equal(11);
      expect(objects.get("exports/u.bin")!.body.toString()).to.equal("<svg></svg>");
      expect(mock.commandCalls(CreateMultipartUploadCommand)).to.have.length(0);
    });

    it("aborts the multipart upload when a part fails, and fails with the part's error", async () => {
      const { s3, objects, mock, aborted } = fakeS3();
      mock.on(UploadPartCommand, { PartNumber: 2 }).rejects(Object.assign(new Error("slow down"), { name: "SlowDown" }));
      const error = await rejection(uploadStream(s3, request, [Buffer.alloc(12 * MiB)]));
      expect(error.name).to.equal("SlowDown");
      expect(aborted).to.deep.equal(["exports/u.bin"]);
      expect(objects.has("exports/u.bin")).to.equal(false);
    });
  });

  describe("export-estimate", () => {
    it("estimates pages × seconds per page and the pages one Lambda can do within the budget", async () => {
      const { s3, objects } = fakeS3();
      putDocument(objects, "docs/catalogue.json", catalogueDocument(40));
      expect(await estimateExport({ s3, config: estimateConfig }, { jobId: "job-1", documentKey: "docs/catalogue.json", format: "pdf" })).to.deep.equal({
        formatVersion: 1,
        pages: 40,
        estimatedSeconds: 1200,
        secondsPerPage: 30,
        lambdaBudgetSeconds: 720,
        pagesPerChunk: 24,
        route: "map",
        reason: "estimated 1,200 s for 40 pages at 30 s each, over the Lambda budget of 720 s: split into 2 chunks of 24 pages, 1 waves of 10, about 720 s and at most 840 s",
      });
      const svg = await estimateExport({ s3, config: estimateConfig }, { formatVersion: 1, jobId: "job-1", documentKey: "docs/catalogue.json", format: "svg", parallel: true });
      expect(svg).to.include({ estimatedSeconds: 20, secondsPerPage: 0.5, pagesPerChunk: 1440, route: "lambda" });
      const oneWorker = await estimateExport({ s3, config: estimateConfig }, { jobId: "job-1", documentKey: "docs/catalogue.json", format: "pdf", parallel: false });
      expect(oneWorker).to.include({ route: "fargate" });
    });

    it("counts the pages of a document whose header follows its pages", async () => {
      const { s3, objects } = fakeS3();
      const { pages, ...header } = catalogueDocument(7);
      putDocument(objects, "docs/late-header.json", { pages, ...header });
      expect(await estimateExport({ s3, config: estimateConfig }, { jobId: "j", documentKey: "docs/late-header.json", format: "svg" })).to.include({ pages: 7 });
    });

    it("validates every page: an invalid one fails the estimate with InvalidDocument naming it", async () => {
      const { s3, objects } = fakeS3();
      putDocument(objects, "docs/bad.json", withBadPage(catalogueDocument(40), 33));
      const error = await rejection(estimateExport({ s3, config: estimateConfig }, { jobId: "j", documentKey: "docs/bad.json", format: "svg" }));
      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.message).to.equal(`s3://${BUCKET}/docs/bad.json: pages[33].elements[7].x: expected a finite number`);
    });

    it("never returns a chunk of zero pages when one page exceeds the budget", async () => {
      const { s3, objects } = fakeS3();
      putDocument(objects, "docs/invoice.json", invoiceDocument());
      const config = { ...estimateConfig, secondsPerPage: { svg: 0.5, pdf: 1000 } };
      expect(await estimateExport({ s3, config }, { jobId: "j", documentKey: "docs/invoice.json", format: "pdf" })).to.include({ pagesPerChunk: 1 });
    });

    it("refuses a bad request with InvalidExportRequest naming the fields", async () => {
      const { s3 } = fakeS3();
      const error = await rejection(estimateExport({ s3, config: estimateConfig }, { jobId: "../etc", documentKey: "", format: "png" }));
      expect(error).to.be.instanceOf(InvalidExportRequestError);
      expect(error.name).to.equal("InvalidExportRequest");
      expect(error.message).to.equal(
        "export request: jobId: expected 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit; " +
          "documentKey: expected at least 1 character; format: expected one of \"svg\", \"pdf\"",
      );
    });

    it("refuses a request of another state format version", async () => {
      const { s3 } = fakeS3();
      const error = await rejection(estimateExport({ s3, config: estimateConfig }, { formatVersion: 2, jobId: "j", documentKey: "d", format: "svg" }));
      expect(error).to.be.instanceOf(UnsupportedFormatVersionError);
      expect(error.message).to.equal("export request: formatVersion 2 is not supported (supported: 1)");
    });
  });

  describe("export-svg and export-pdf", () => {
    it("renders the whole document to exports/<jobId>.svg with its metadata", async () => {
      const { s3, objects } = fakeS3();
      putDocument(objects, "docs/catalogue.json", catalogueDocument(40));
      const result = await renderExport(
        { format: "svg", render: renderSvg, s3, config: exportsConfig, log: silent },
        { formatVersion: 1, jobId: "job-7", documentKey: "docs/catalogue.json" },
      );
      const stored = objects.get("exports/job-7.svg")!;
      expect(result).to.deep.equal({ formatVersion: 1, jobId: "job-7", outputKey: "exports/job-7.svg", pages: 40, bytes: stored.body.length, runtime: "lambda" });
      expect(stored.metadata).to.deep.equal({ "format-version": "1", "job-id": "job-7", pages: "40", runtime: "lambda" });
      expect(stored.contentType).to.equal("image/svg+xml");
      assertWellFormedXml(stored.body.toString());
    });

    it("renders a Map iteration's range to its part key", async () => {
      const { s3, objects } = fakeS3();
      putDocument(objects, "docs/catalogue.json", catalogueDocument(40));
      const result = await renderExport(
        { format: "pdf", render: renderPdf, s3, config: exportsConfig, log: silent },
        { formatVersion: 1, jobId: "job-8", documentKey: "docs/catalogue.json", pages: [25, 40], outputKey: "parts/job-8/part-00002.pdf" },
      );
      expect(result).to.include({ outputKey: "parts/job-8/part-00002.pdf", pages: 16 });
      expect(await pdfPageCount(objects.get("parts/job-8/part-00002.pdf")!.body)).to.equal(16);
      expect(objects.get("parts/job-8/part-00002.pdf")!.contentType).to.equal("application/pdf");
    });

    it("uploads an export larger than one 5 MiB part as a multipart upload", async () => {
      const { s3, objects, mock } = fakeS3();
      putDocument(objects, "docs/big.json", catalogueDocument(1200));
      const result = await renderExport(
        { format: "svg", render: renderSvg, s3, config: exportsConfig, log: silent },
        { formatVersion: 1, jobId: "big", documentKey: "docs/big.json" },
      );
      expect(mock.commandCalls(CreateMultipartUploadCommand)).to.have.length(1);
      expect(mock.commandCalls(UploadPartCommand).length).to.be.greaterThan(1);
      expect(result.bytes).to.be.greaterThan(5 * 1024 * 1024);
      const body = objects.get("exports/big.svg")!.body;
      expect(body.length).to.equal(result.bytes);
      expect(svgPages(body.toString())).to.have.length(1200);
    });

    it("refuses a range beyond the document with InvalidExportRequest, writing nothing", async () => {
      const { s3, objects } = fakeS3();
      putDocument(objects, "docs/invoice.json", invoiceDocument());
      const error = await rejection(
        renderExport({ format: "svg", render: renderSvg, s3, config: exportsConfig, log: silent }, { formatVersion: 1, jobId: "j", documentKey: "docs/invoice.json", pages: [1, 2] }),
      );
      expect(error).to.be.instanceOf(InvalidExportRequestError);
      expect(error.message).to.equal("pages [1, 2] is not a range within the document's pages 1–1");
      expect(objects.has("exports/j.svg")).to.equal(false);
    });

    it("fails on an invalid page N with InvalidDocument naming it, aborting the multipart upload already under way", async () => {
      const { s3, objects, mock, aborted } = fakeS3();
      putDocument(objects, "docs/bad.json", withBadPage(catalogueDocument(1200), 1150));
      const error = await rejection(
        renderExport({ format: "svg", render: renderSvg, s3, config: exportsConfig, log: silent }, { formatVersion: 1, jobId: "bad", documentKey: "docs/bad.json" }),
      );
      expect(error).to.be.instanceOf(InvalidDocumentError);
      expect(error.message).to.equal(`s3://${BUCKET}/docs/bad.json: pages[1150].elements[7].x: expected a finite number`);
      expect(mock.commandCalls(UploadPartCommand).length).to.be.greaterThan(0); // rendering had begun
      expect(mock.commandCalls(CompleteMultipartUploadCommand)).to.have.length(0);
      expect(aborted).to.deep.equal(["exports/bad.svg"]);
      expect(objects.has("exports/bad.svg")).to.equal(false);
    });

    it("fails on an invalid page outside its range too (pages outside it are read and dropped), writing nothing", async () => {
      const { s3, objects, mock } = fakeS3();
      putDocument(objects, "docs/bad.json", withBadPage(catalogueDocument(40), 30));
      const error = await rejection(
        renderExport(
          { format: "pdf", render: renderPdf, s3, config: exportsConfig, log: silent },
          { formatVersion: 1, jobId: "bad", documentKey: "docs/bad.json", pages: [2, 3], outputKey: "parts/bad/part-00001.pdf" },
        ),
      );
      expect(error.message).to.equal(`s3://${BUCKET}/docs/bad.json: pages[30].elements[7].x: expected a finite number`);
      expect(mock.commandCalls(PutObjectCommand)).to.have.length(0);
      expect(mock.commandCalls(CreateMultipartUploadCommand)).to.have.length(0);
      expect(objects.has("parts/bad/part-00001.pdf")).to.equal(false);
    });

    it("exports a document whose header follows its pages", async () => {
      const { s3, objects } = fakeS3();
      const { pages, ...header } = catalogueDocument(12);
      putDocument(objects, "docs/late-header.json", { pages, ...header });
      const result = await renderExport(
        { format: "svg", render: renderSvg, s3, config: exportsConfig, log: silent },
        { formatVersion: 1, jobId: "late", documentKey: "docs/late-header.json" },
      );
      expect(result).to.include({ pages: 12 });
      expect(svgPages(objects.get("exports/late.svg")!.body.toString())).to.have.length(12);
    });

    it("reads a document written as the example generator writes it (one element per line)", async () => {
      const { s3, objects } = fakeS3();
      putDocument(objects, "docs/catalogue.json", stringifyDocument(catalogueDocument(3)), { "format-version": "2" });
      const result = await renderExport(
        { format: "svg", render: renderSvg, s3, config: exportsConfig, log: silent },
        { formatVersion: 1, jobId: "gen", documentKey: "docs/catalogue.json", pages: [2, 3] },
      );
      expect(result).to.include({ pages: 2 });
      expect(svgPages(objects.get("exports/gen.svg")!.body.toString()).map((page) => page.id)).to.deep.equal(["page-2", "page-3"]);
    });

    it("refuses a range written backwards before reading anything", async () => {
      const { s3, mock } = fakeS3();
      const error = await rejection(
        renderExport({ format: "svg", render: renderSvg, s3, config: exportsConfig, log: silent }, { formatVersion: 1, jobId: "j", documentKey: "d", pages: [3, 2] }),
      );
      expect(error.message).to.equal("export-svg event: pages: expected [from, to] with from ≤ to");
      expect(mock.calls()).to.have.length(0);
    });
  });

  describe("export-split", () => {
    it("cuts the pages into chunks of pagesPerChunk with zero-padded part keys", () => {
      const { chunks } = splitExport({ partsPrefix: "parts/" }, { formatVersion: 1, jobId: "job-9", documentKey: "docs/c.json", format: "pdf", pages: 50, pagesPerChunk: 24 });
      expect(chunks).to.deep.equal([
        { formatVersion: 1, jobId: "job-9", documentKey: "docs/c.json", format: "pdf", pages: [1, 24], outputKey: "parts/job-9/part-00001.pdf" },
        { formatVersion: 1, jobId: "job-9", documentKey: "docs/c.json", format: "pdf", pages: [25, 48], outputKey: "parts/job-9/part-00002.pdf" },
        { formatVersion: 1, jobId: "job-9", documentKey: "docs/c.json", format: "pdf", pages: [49, 50], outputKey: "parts/job-9/part-00003.pdf" },
      ]);
    });

    it(`makes up to ${MAX_CHUNKS} chunks covering every page once, and refuses one more rather than exceed the budget`, () => {
      const { chunks } = splitExport({ partsPrefix: "p/" }, { formatVersion: 1, jobId: "j", documentKey: "d", format: "svg", pages: 2_000, pagesPerChunk: 2 });
      expect(chunks).to.have.length(MAX_CHUNKS);
      expect(chunks[0].pages).to.deep.equal([1, 2]);
      expect(chunks[999]).to.deep.include({ pages: [1_999, 2_000], outputKey: "p/j/part-01000.svg" });
      chunks.forEach((chunk, i) => i > 0 && expect(chunk.pages[0]).to.equal(chunks[i - 1].pages[1] + 1));
      expect(() => splitExport({ partsPrefix: "p/" }, { formatVersion: 1, jobId: "j", documentKey: "d", format: "svg", pages: 2_001, pagesPerChunk: 2 })).to.throw(
        InvalidExportRequestError,
        "export-split event: 2001 pages in chunks of 2 make 1001 chunks, more than the Map runs (1000)",
      );
    });

    it("refuses a pagesPerChunk of zero", () => {
      expect(() => splitExport({ partsPrefix: "p/" }, { formatVersion: 1, jobId: "j", documentKey: "d", format: "svg", pages: 10, pagesPerChunk: 0 }))
        .to.throw(InvalidExportRequestError, "export-split event: pagesPerChunk: expected a number ≥ 1");
    });
  });

  describe("export-combine", () => {
    async function renderParts(format: "svg" | "pdf", jobId: string) {
      const { s3, objects, mock } = fakeS3();
      putDocument(objects, "docs/catalogue.json", catalogueDocument(40));
      const deps = { format, render: format === "svg" ? renderSvg : renderPdf, s3, config: exportsConfig, log: silent } as const;
      const { chunks } = splitExport({ partsPrefix: "parts/" }, { formatVersion: 1, jobId, documentKey: "docs/catalogue.json", format, pages: 40, pagesPerChunk: 16 });
      const parts = [];
      for (const chunk of chunks) parts.push(await renderExport(deps, chunk));
      return { s3, objects, mock, parts };
    }

    it("joins SVG parts into exports/<jobId>.svg with all pages and deletes the parts", async () => {
      const { s3, objects, parts } = await renderParts("svg", "job-s");
      const result = await combineExport({ s3, config: exportsConfig, log: silent }, { formatVersion: 1, jobId: "job-s", format: "svg", parts });
      const stored = objects.get("exports/job-s.svg")!;
      expect(result).to.deep.equal({ formatVersion: 1, jobId: "job-s", outputKey: "exports/job-s.svg", pages: 40, bytes: stored.body.length, runtime: "map" });
      expect(svgPages(stored.body.toString())).to.have.length(40);
      expect(stored.metadata).to.deep.equal({ "format-version": "1", "job-id": "job-s", pages: "40", runtime: "map" });
      expect([...objects.keys()].filter((key) => key.startsWith("parts/"))).to.deep.equal([]);
    });

    it("merges PDF parts into exports/<jobId>.pdf with the sum of their pages", async () => {
      const { s3, objects, parts } = await renderParts("pdf", "job-p");
      expect(parts.map((part) => part.pages)).to.deep.equal([16, 16, 8]);
      const result = await combineExport({ s3, config: exportsConfig, log: silent }, { formatVersion: 1, jobId: "job-p", format: "pdf", parts });
      expect(result).to.include({ outputKey: "exports/job-p.pdf", pages: 40, runtime: "map" });
      expect(await pdfPageCount(objects.get("exports/job-p.pdf")!.body)).to.equal(40);
    });

    it("on a retry after it already wrote the export, only deletes the parts again", async () => {
      const { s3, objects, parts } = await renderParts("svg", "job-r");
      const event = { formatVersion: 1, jobId: "job-r", format: "svg", parts };
      const first = await combineExport({ s3, config: exportsConfig, log: silent }, event);
      expect(await combineExport({ s3, config: exportsConfig, log: silent }, event)).to.deep.equal(first);
    });

    it("combines when S3 answers 403 for the not-yet-written export (no s3:ListBucket)", async () => {
      const { s3, objects, mock, parts } = await renderParts("svg", "job-f");
      mock.on(HeadObjectCommand, { Key: "exports/job-f.svg" }).rejects(Object.assign(new Error("Forbidden"), { name: "Forbidden", $metadata: { httpStatusCode: 403 } }));
      const result = await combineExport({ s3, config: exportsConfig, log: silent }, { formatVersion: 1, jobId: "job-f", format: "svg", parts });
      expect(result).to.include({ outputKey: "exports/job-f.svg", pages: 40 });
      expect(objects.has("exports/job-f.svg")).to.equal(true);
    });

    it("fails, keeping the parts, when a part is missing", async () => {
      const { s3, objects, parts } = await renderParts("svg", "job-m");
      objects.delete(parts[1].outputKey);
      const error = await rejection(combineExport({ s3, config: exportsConfig, log: silent }, { formatVersion: 1, jobId: "job-m", format: "svg", parts }));
      expect(error.name).to.equal("NoSuchKey");
      expect(objects.has(parts[0].outputKey)).to.equal(true);
      expect(objects.has("exports/job-m.svg")).to.equal(false);
    });
  });
});
