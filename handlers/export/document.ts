// Namespace import: lets esbuild drop the parts of zod a bundle does not use (≈90 KB instead of ≈450 KB).
import * as z from "zod";
import { InvalidDocumentError, UnsupportedFormatVersionError } from "../shared/errors";
import { DOCUMENT_FORMAT_VERSION, SUPPORTED_DOCUMENT_FORMAT_VERSIONS } from "../shared/format";
import { describeIssues } from "./issues";
import { checkPathData } from "./path-data";

/**
 * Limits of a document. They bound the work of one export. The exporters read a document page by page
 * (document-stream.ts), so their memory does not depend on these, except for a document whose header follows its
 * pages, which is buffered whole (bounded by maxDocumentBytes; see README.md, "Memory").
 */
export const DOCUMENT_LIMITS = {
  /** Pages per document. */
  maxPages: 10_000,
  /** Elements per page. */
  maxElementsPerPage: 2_000,
  /** Characters in one text element. */
  maxTextLength: 2_000,
  /** Characters in the title. */
  maxTitleLength: 500,
  /** Characters in one path's `d`. */
  maxPathDataLength: 10_000,
  /** Every coordinate and length lies within ±this (points). */
  coordinateLimit: 100_000,
  /** Largest page side in points: 200 in, the largest page a PDF viewer must support (ISO 32000-1, Annex C). */
  maxPageSide: 14_400,
  /** Largest font size in points. */
  maxFontSize: 1_000,
  /** Largest stroke width in points. */
  maxStrokeWidth: 1_000,
  /** Largest document object in bytes (checked with HeadObject before downloading); ≈ 3,280 catalogue pages. */
  maxDocumentBytes: 16 * 1024 * 1024,
  /**
   * Deepest nesting of JSON arrays and objects the reader accepts. A valid document nests 5 deep (document, pages,
   * page, elements, element); the bound keeps a hostile `[[[[…` from growing the parser's stacks with the object size.
   */
  maxJsonDepth: 32,
} as const;

export const FONTS = ["Helvetica", "Helvetica-Bold", "Courier"] as const;
export type Font = (typeof FONTS)[number];

const L = DOCUMENT_LIMITS;

const coordinate = z.number().min(-L.coordinateLimit).max(L.coordinateLimit);
const length = z.number().min(0).max(L.coordinateLimit);
const strokeWidth = z.number().min(0).max(L.maxStrokeWidth);

/**
 * Characters XML 1.0 allows (§2.2). Anything else (control characters, lone surrogates) would make the SVG
 * ill-formed, and there is no escape for them in XML 1.0, so the schema rejects them instead of dropping them silently.
 */
const XML_TEXT = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const xmlText = (max: number) =>
  z.string().max(max).regex(XML_TEXT, { error: "contains a control character or lone surrogate, which XML cannot carry" });

const HEX_COLOUR = z.string().regex(/^#[0-9a-fA-F]{6}$/, { error: "expected a colour as #rrggbb" });

/** Version 1 wrote colours as CSS functional notation: `rgb(12, 34, 56)`. */
const RGB_COLOUR = z
  .string()
  .regex(/^rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)$/, { error: "expected a colour as rgb(r, g, b)" })
  .transform((value, ctx) => {
    const channels = value.match(/\d+/g)!.map(Number);
    if (channels.some((c) => c > 255)) {
      ctx.addIssue({ code: "custom", message: "expected rgb(r, g, b) components from 0 to 255" });
      return z.NEVER;
    }
    return `#${channels.map((c) => c.toString(16).padStart(2, "0")).join("")}`;
  });

const pathData = z
  .string()
  .max(L.maxPathDataLength)
  .superRefine((d, ctx) => {
    const problem = checkPathData(d, { coordinateLimit: L.coordinateLimit });
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  });

/** Element schemas, parameterised by how the format version writes colours. */
function elementSchema<C extends z.ZodType<string, string>>(colour: C) {
  return z.discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("text"),
      x: coordinate,
      /** Baseline of the text, as in SVG. */
      y: coordinate,
      text: xmlText(L.maxTextLength),
      size: z.number().gt(0).max(L.maxFontSize),
      color: colour,
      font: z.enum(FONTS).optional(),
    }),
    z.strictObject({
      type: z.literal("rect"),
      x: coordinate,
      y: coordinate,
      width: length,
      height: length,
      fill: colour.optional(),
      stroke: colour.optional(),
      strokeWidth: strokeWidth.optional(),
    }),
    z.strictObject({
      type: z.literal("line"),
      x1: coordinate,
      y1: coordinate,
      x2: coordinate,
      y2: coordinate,
      stroke: colour,
      strokeWidth: strokeWidth,
    }),
    z.strictObject({
      type: z.literal("path"),
      d: pathData,
      fill: colour.optional(),
      stroke: colour.optional(),
      strokeWidth: strokeWidth.optional(),
    }),
  ]);
}

function pageSchema<C extends z.ZodType<string, string>>(colour: C) {
  return z.strictObject({ elements: z.array(elementSchema(colour)).max(L.maxElementsPerPage) });
}

function pagesSchema<C extends z.ZodType<string, string>>(colour: C) {
  return z.array(pageSchema(colour)).min(1).max(L.maxPages);
}

const pageSide = z.number().gt(0).max(L.maxPageSide);
const titleText = xmlText(L.maxTitleLength);

const pageV2Schema = pageSchema(HEX_COLOUR);
const pageV1Schema = pageSchema(RGB_COLOUR);

/** Every field but `formatVersion` and `pages`, in the order the full schema checks them (so messages list them alike). */
const headerV2Shape = { title: titleText, pageSize: z.strictObject({ width: pageSide, height: pageSide }) };
const headerV1Shape = { title: titleText, pageWidth: pageSide, pageHeight: pageSide };

export const documentV2Schema = z.strictObject({
  formatVersion: z.literal(2),
  ...headerV2Shape,
  pages: pagesSchema(HEX_COLOUR),
});

/** Version 1: page size as top-level `pageWidth`/`pageHeight`, colours as `rgb(r, g, b)`. Otherwise the same. */
export const documentV1Schema = z
  .strictObject({
    formatVersion: z.literal(1),
    ...headerV1Shape,
    pages: pagesSchema(RGB_COLOUR),
  })
  .transform(
    ({ title, pageWidth, pageHeight, pages }): ExportDocument => ({
      formatVersion: DOCUMENT_FORMAT_VERSION,
      title,
      pageSize: { width: pageWidth, height: pageHeight },
      pages,
    }),
  );

export type ExportDocument = z.infer<typeof documentV2Schema>;
export type Page = ExportDocument["pages"][number];
export type Element = Page["elements"][number];
export type PageSize = ExportDocument["pageSize"];
/** Everything but the pages: what a renderer needs before the first page. */
export type DocumentHeader = Omit<ExportDocument, "pages">;

/**
 * The schemas the streaming reader (document-stream.ts) validates a document with, by format version: the header
 * fields (every top-level field but `formatVersion` and `pages`, whose checks are the reader's) and one page. They are
 * the parts of documentV1Schema / documentV2Schema, so a page fails with the same message either way.
 */
export const DOCUMENT_PART_SCHEMAS = {
  2: {
    header: z.strictObject(headerV2Shape),
    /** Header fields a document of this version must have before its pages to be read in constant memory. */
    headerFields: Object.keys(headerV2Shape),
    page: pageV2Schema,
  },
  1: {
    header: z
      .strictObject(headerV1Shape)
      .transform(({ title, pageWidth, pageHeight }) => ({ title, pageSize: { width: pageWidth, height: pageHeight } })),
    headerFields: Object.keys(headerV1Shape),
    page: pageV1Schema,
  },
} as const;

/**
 * Validates a parsed JSON document of any supported version and returns it in the current version. For documents
 * already in memory (tests, tools); the exporters read S3 objects page by page with document-stream.ts instead.
 *
 * @param source names the document in error messages (e.g. its S3 URI).
 * @throws UnsupportedFormatVersionError for a formatVersion other than 1 or 2.
 * @throws InvalidDocumentError naming the first problems by path: `pages[3].elements[7].x: expected a finite number`.
 */
export function parseDocument(raw: unknown, source = "document"): ExportDocument {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidDocumentError(`${source}: expected a JSON object`);
  }
  const version = (raw as { formatVersion?: unknown }).formatVersion;
  const schema = version === 1 ? documentV1Schema : version === 2 ? documentV2Schema : undefined;
  if (schema === undefined) {
    throw new UnsupportedFormatVersionError(source, version, SUPPORTED_DOCUMENT_FORMAT_VERSIONS);
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new InvalidDocumentError(`${source}: ${describeIssues(result.error, "top level")}`);
  }
  return result.data;
}

/** JSON text → value; invalid JSON is an InvalidDocumentError. */
export function parseJson(text: string, source = "document"): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidDocumentError(`${source}: not valid JSON (${(error as Error).message})`);
  }
}

/** Parses the text of a document object: JSON, then parseDocument. */
export function parseDocumentJson(text: string, source = "document"): ExportDocument {
  return parseDocument(parseJson(text, source), source);
}
