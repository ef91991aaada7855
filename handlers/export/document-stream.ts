import { getManyValues, isMany, none } from "stream-chain/defs.js";
import { Assembler } from "stream-json/core/assembler.js";
import { type Token, jsonParser } from "stream-json/core/parser.js";
import type * as z from "zod";
import { InvalidDocumentError, UnsupportedFormatVersionError } from "../shared/errors";
import { DOCUMENT_FORMAT_VERSION, SUPPORTED_DOCUMENT_FORMAT_VERSIONS } from "../shared/format";
import { DOCUMENT_LIMITS, DOCUMENT_PART_SCHEMAS, type DocumentHeader, type ExportDocument, type Page } from "./document";
import { describeIssues } from "./issues";

/**
 * The streaming document reader: a document's bytes in, its header and then its pages out, one page at a time, so an
 * exporter's memory does not grow with the page count.
 *
 * stream-json tokenises the text; its Assembler builds each page (and each top-level field) from the tokens; every
 * page is validated on its own by the same zod page schema as a whole document (document.ts), its issues placed at
 * `pages[N]`, so messages read as before: `pages[3].elements[7].x: expected a finite number`.
 *
 * Constant memory needs the header — `formatVersion` (or the object's metadata), `title` and the page size — before
 * `pages`, which is how documents are written (scripts/generate-documents.ts). A document whose header follows its
 * pages is still read correctly, by holding its pages until the header arrives; DOCUMENT_LIMITS.maxDocumentBytes
 * bounds that case.
 */

export interface DocumentStream {
  /** Validated, in the current format version. */
  readonly header: DocumentHeader;
  /**
   * The pages in order, validated and upgraded to the current version as they are reached; iterate once. The
   * iteration ends only after the rest of the document has been read and checked (fields after `pages`, the page
   * count, the format version), so a consumer that reads to the end has read a valid document — and one that fails
   * on page N has failed before finishing its output.
   */
  readonly pages: AsyncIterable<Page>;
  /**
   * Stops reading and releases the input (for S3, the download's connection). Iterating the pages to their end, or
   * breaking out of the loop, does this too; call it when the pages may not have been iterated at all.
   */
  close(): Promise<void>;
}

/** A document read through without keeping its pages (scanDocumentStream). */
export interface DocumentScan {
  readonly header: DocumentHeader;
  readonly pages: number;
}

export interface DocumentReadOptions {
  /** Names the document in error messages (its S3 URI). */
  readonly source?: string;
  /**
   * The format version the object's metadata declares (`x-amz-meta-format-version`), already known to be supported:
   * the body's `formatVersion` must agree with it, and pages before a late `formatVersion` are read by it.
   */
  readonly declaredVersion?: string;
}

type Bytes = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/**
 * Opens a document for reading page by page: reads up to the start of `pages` (or, for a document whose header
 * follows its pages, to its end), validates the header and returns it with the pages still to be read.
 *
 * @throws InvalidDocumentError (not JSON, schema, metadata and body disagreeing), UnsupportedFormatVersionError —
 *   here for what precedes the pages, from the pages' iteration for the rest.
 */
export async function readDocumentStream(bytes: Bytes, options: DocumentReadOptions = {}): Promise<DocumentStream> {
  return open(bytes, options, true) as Promise<DocumentStream>;
}

/**
 * Reads a document through, checking everything but the content of its pages, and counts them: the cheap first pass
 * of an export whose output header needs the page count before the first page. Holds no page.
 *
 * @throws as readDocumentStream, except for problems inside a page.
 */
export async function scanDocumentStream(bytes: Bytes, options: DocumentReadOptions = {}): Promise<DocumentScan> {
  const document = await open(bytes, options, false);
  let pages = 0;
  for await (const _ of document.pages) pages++;
  return { header: document.header, pages };
}

/** A document already in memory, as a stream (tests and tools; the exporters read S3 objects). */
export function documentStreamOf(document: ExportDocument): DocumentStream {
  const { pages, ...header } = document;
  return {
    header,
    pages: (async function* () {
      yield* pages;
    })(),
    close: async () => undefined,
  };
}

// --- Reading -------------------------------------------------------------------------------------------------------

type Version = (typeof SUPPORTED_DOCUMENT_FORMAT_VERSIONS)[number];

async function open(
  bytes: Bytes,
  options: DocumentReadOptions,
  assemblePages: boolean,
): Promise<{ header: DocumentHeader; pages: AsyncIterable<Page | undefined>; close(): Promise<void> }> {
  const source = options.source ?? "document";
  const declared = options.declaredVersion;
  const events = documentEvents(bytes, source, assemblePages);
  /** Top-level fields other than `pages`, as read. */
  const fields = new Map<string, unknown>();
  let bodyVersion: { value: unknown } | undefined;
  let version: Version | undefined = declared === undefined ? undefined : (Number(declared) as Version);

  function addField(key: string, value: unknown): void {
    fields.set(key, value);
    if (key !== "formatVersion") return;
    bodyVersion = { value };
    if (declared !== undefined) {
      if (Number(declared) !== value) throw versionMismatch(source, declared, value);
    } else if (!(SUPPORTED_DOCUMENT_FORMAT_VERSIONS as readonly unknown[]).includes(value)) {
      throw new UnsupportedFormatVersionError(source, value, SUPPORTED_DOCUMENT_FORMAT_VERSIONS);
    } else {
      version = value as Version;
    }
  }
  const headerComplete = (): boolean => version !== undefined && DOCUMENT_PART_SCHEMAS[version].headerFields.every((key) => fields.has(key));

  // Up to the pages: stream them if the header is complete by then, else hold them until it is (the document's end).
  const held: unknown[] = [];
  let pagesFound = false;
  let ended = false;
  try {
    for (;;) {
      const next = await events.next();
      if (next.done) {
        ended = true;
        break;
      }
      const event = next.value;
      if (event.kind === "field") addField(event.key, event.value);
      else if (event.kind === "page") held.push(event.value);
      else {
        pagesFound = true;
        if (headerComplete()) break;
      }
    }
  } catch (error) {
    await events.return(undefined);
    throw error;
  }

  if (version === undefined) throw new UnsupportedFormatVersionError(source, bodyVersion?.value, SUPPORTED_DOCUMENT_FORMAT_VERSIONS);
  const schemas = DOCUMENT_PART_SCHEMAS[version];
  const checkHeader = (): DocumentHeader => {
    const { formatVersion: _, ...rest } = Object.fromEntries(fields);
    const result = schemas.header.safeParse(rest);
    if (!result.success) {
      const missingPages = ended && !pagesFound ? [pagesIssue({ code: "invalid_type", expected: "array" })] : [];
      throw new InvalidDocumentError(`${source}: ${describeIssues([...result.error.issues, ...missingPages], "top level")}`);
    }
    return { formatVersion: DOCUMENT_FORMAT_VERSION, ...result.data };
  };
  let header: DocumentHeader;
  try {
    header = checkHeader();
    if (!pagesFound) throw new InvalidDocumentError(`${source}: ${describeIssues([pagesIssue({ code: "invalid_type", expected: "array" })], "top level")}`);
  } catch (error) {
    await events.return(undefined);
    throw error;
  }

  const fieldsBeforePages = fields.size;
  async function* pages(): AsyncGenerator<Page | undefined> {
    let index = 0;
    const take = (raw: unknown): Page | undefined => {
      const page = assemblePages ? validatePage(schemas.page, raw, index, source) : undefined;
      index++;
      return page;
    };
    try {
      for (let i = 0; i < held.length; i++) {
        const raw = held[i];
        held[i] = undefined;
        yield take(raw);
      }
      if (!ended) {
        for await (const event of events) {
          if (event.kind === "page") yield take(event.value);
          else if (event.kind === "field") addField(event.key, event.value);
        }
      }
      // The rest of the document: what could only be checked at its end.
      if (index === 0) throw new InvalidDocumentError(`${source}: ${describeIssues([pagesIssue({ code: "too_small", minimum: 1 })], "top level")}`);
      if (fields.size > fieldsBeforePages) checkHeader();
      if (bodyVersion === undefined) throw versionMismatch(source, declared!, undefined);
    } finally {
      await events.return(undefined);
    }
  }
  return {
    header,
    pages: pages(),
    close: async () => {
      await events.return(undefined);
    },
  };
}

function validatePage(schema: z.ZodType<Page>, raw: unknown, index: number, source: string): Page {
  const result = schema.safeParse(raw);
  if (!result.success) throw new InvalidDocumentError(`${source}: ${describeIssues(result.error, "top level", ["pages", index])}`);
  return result.data;
}

function versionMismatch(source: string, declared: string, found: unknown): InvalidDocumentError {
  return new InvalidDocumentError(`${source}: x-amz-meta-format-version is ${declared} but the document says formatVersion ${JSON.stringify(found)}`);
}

/** An issue about `pages` as a whole, worded as the whole-document schema words it. */
function pagesIssue(
  issue: { code: "invalid_type"; expected: "array" } | { code: "too_small"; minimum: number } | { code: "too_big"; maximum: number },
): z.core.$ZodIssue {
  const base = { path: ["pages"], input: undefined, message: "" };
  if (issue.code === "invalid_type") return { ...base, ...issue } as z.core.$ZodIssue;
  return { ...base, ...issue, origin: "array", inclusive: true } as z.core.$ZodIssue;
}

// --- Tokens to events ----------------------------------------------------------------------------------------------

/** What the token walk reports, in document order. */
type DocumentEvent =
  /** A top-level field other than `pages`, assembled. */
  | { readonly kind: "field"; readonly key: string; readonly value: unknown }
  /** The `pages` array starts. */
  | { readonly kind: "pagesStart" }
  /** One element of `pages`, assembled (or `undefined` when pages are only counted). */
  | { readonly kind: "page"; readonly value: unknown };

/**
 * Text is handed to the parser in slices of at most this many bytes, whatever the size of the chunks that arrive, so
 * the tokens and pages in flight at once stay a few pages' worth (a whole body in one chunk, as a test double may send,
 * would otherwise be assembled at once).
 */
const SLICE_BYTES = 64 * 1024;

async function* documentEvents(bytes: Bytes, source: string, assemblePages: boolean): AsyncGenerator<DocumentEvent> {
  const parse = jsonParser({ streamValues: false });
  // ignoreBOM keeps a byte-order mark in the text, where the parser refuses it, as JSON.parse does.
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const walker = new DocumentWalker(source, assemblePages);
  let offset = 0;
  function* feed(text: string | typeof none): Generator<DocumentEvent> {
    let output: ReturnType<typeof parse>;
    try {
      // stream-chain's protocol: called with `none`, a flushable stage finishes (its typings only name its input type).
      output = parse(text as string);
    } catch (error) {
      const reason = (error as Error).message.replace(/^Parser cannot parse input: /, "");
      throw new InvalidDocumentError(`${source}: not valid JSON (${reason}, at or before byte ${offset})`);
    }
    if (output === none) return;
    for (const token of isMany(output) ? getManyValues(output) : [output as Token]) walker.token(token);
    yield* walker.take();
  }
  for await (const chunk of bytes) {
    const data = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    for (let start = 0; start < data.byteLength; start += SLICE_BYTES) {
      const slice = data.subarray(start, start + SLICE_BYTES);
      offset += slice.byteLength;
      yield* feed(decoder.decode(slice, { stream: true }));
    }
  }
  yield* feed(decoder.decode());
  yield* feed(none);
}

/**
 * Turns the parser's tokens into DocumentEvents. The document must be an object; its `pages` must be an array, each
 * element of which becomes one event; any other top-level field becomes one event with its value.
 */
class DocumentWalker {
  /** Open arrays and objects. */
  private depth = 0;
  /** The last top-level key read. */
  private key = "";
  private readonly keys = new Set<string>();
  /** While a value is being read: the depth it started at and what it is. */
  private value: { depth: number; kind: "field" | "page" | "skipped page" } | undefined;
  private readonly assembler = new Assembler();
  private pages = 0;
  private events: DocumentEvent[] = [];

  constructor(
    private readonly source: string,
    private readonly assemblePages: boolean,
  ) {}

  /** The events of the tokens since the last call. */
  take(): DocumentEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  token(token: Token): void {
    if (this.value !== undefined) return this.valueToken(token);
    const name = token.name;
    if (this.depth === 0) {
      if (name !== "startObject") throw this.invalid("expected a JSON object");
      this.depth = 1;
    } else if (this.depth === 1) {
      if (name === "keyValue") {
        this.key = token.value;
        // JSON.parse would keep the last of two; a reader that has already rendered the first cannot.
        if (this.keys.has(this.key)) throw this.invalid(`top level: field ${JSON.stringify(this.key)} appears twice`);
        this.keys.add(this.key);
      } else if (name === "endObject") {
        this.depth = 0;
      } else if (this.key === "pages") {
        if (name !== "startArray") throw this.invalid(`pages: expected an array`);
        this.depth = 2;
        this.events.push({ kind: "pagesStart" });
      } else {
        this.startValue("field", token);
      }
    } else if (name === "endArray") {
      this.depth = 1; // the end of `pages`
    } else {
      if (++this.pages > DOCUMENT_LIMITS.maxPages) {
        throw this.invalid(describeIssues([pagesIssue({ code: "too_big", maximum: DOCUMENT_LIMITS.maxPages })], "top level"));
      }
      this.startValue(this.assemblePages ? "page" : "skipped page", token);
    }
  }

  private startValue(kind: "field" | "page" | "skipped page", token: Token): void {
    this.value = { depth: this.depth, kind };
    this.valueToken(token);
  }

  private valueToken(token: Token): void {
    const value = this.value!;
    const name = token.name;
    if (name === "startObject" || name === "startArray") {
      if (++this.depth > DOCUMENT_LIMITS.maxJsonDepth) throw this.invalid(`arrays and objects nested more than ${DOCUMENT_LIMITS.maxJsonDepth} deep`);
    } else if (name === "endObject" || name === "endArray") {
      this.depth--;
    }
    if (value.kind !== "skipped page") this.assembler.consume(token);
    if (this.depth !== value.depth) return;
    // The value is complete.
    if (value.kind === "field") this.events.push({ kind: "field", key: this.key, value: this.assembler.current });
    else this.events.push({ kind: "page", value: value.kind === "page" ? this.assembler.current : undefined });
    this.assembler.current = null;
    this.value = undefined;
  }

  private invalid(message: string): InvalidDocumentError {
    return new InvalidDocumentError(`${this.source}: ${message}`);
  }
}
