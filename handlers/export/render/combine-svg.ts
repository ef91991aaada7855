import { EXPORT_OBJECT_FORMAT_VERSION } from "../../shared/format";
import { SVG_FOOTER, XML_DECLARATION, svgHeader, unescapeXml } from "./svg";

/**
 * Combines the SVG parts of a parallel export into one SVG, streamed: each part is read once, front to back, and only
 * its header and the last few characters are ever held. Parts place their pages at document coordinates (svg.ts), so
 * combining is: a new outer header for all pages, then each part's pages verbatim, then the footer.
 */

/** What the outer `<svg>` start tag of a part says about it. */
export interface SvgPartHeader {
  readonly formatVersion: number;
  readonly pageWidth: number;
  readonly pageHeight: number;
  readonly firstPage: number;
  readonly pages: number;
  readonly title: string;
}

/** A header longer than this is not one this code wrote (the title is ≤ 500 characters, ≤ 3,000 escaped). */
const MAX_HEADER_LENGTH = 16 * 1024;
const HEADER_END = "</title>\n";

function attribute(tag: string, name: string): number {
  const match = new RegExp(`\\s${name}="([0-9.]+)"`).exec(tag);
  if (match === null) throw new Error(`SVG part has no ${name} attribute: not written by this exporter`);
  return Number(match[1]);
}

/** Parses the header this exporter writes: XML declaration, outer `<svg …>` start tag, `<title>`. */
export function parseSvgPartHeader(header: string): SvgPartHeader {
  if (!header.startsWith(XML_DECLARATION)) throw new Error("SVG part does not start with this exporter's XML declaration");
  const tagEnd = header.indexOf(">\n", XML_DECLARATION.length);
  const tag = header.slice(XML_DECLARATION.length, tagEnd + 1);
  const title = /^<title>([^<]*)<\/title>\n$/.exec(header.slice(tagEnd + 2));
  if (!tag.startsWith("<svg ") || title === null) throw new Error("SVG part header is not in this exporter's layout");
  return {
    formatVersion: attribute(tag, "data-format-version"),
    pageWidth: attribute(tag, "data-page-width"),
    pageHeight: attribute(tag, "data-page-height"),
    firstPage: attribute(tag, "data-first-page"),
    pages: attribute(tag, "data-pages"),
    title: unescapeXml(title[1]),
  };
}

export interface SvgPart {
  readonly header: SvgPartHeader;
  /** The part's pages: everything between its header and its closing `</svg>`. */
  readonly body: AsyncGenerator<string>;
}

/** Reads a part's header and returns it with a generator of the rest of the part minus the closing tag. */
export async function openSvgPart(chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, name: string): Promise<SvgPart> {
  const iterator = (async function* () {
    yield* chunks;
  })();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const decode = (chunk: Uint8Array | string): string => (typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
  let text = "";
  let end = -1;
  while (end < 0) {
    const next = await iterator.next();
    if (next.done) throw new Error(`${name}: ended inside the SVG header`);
    text += decode(next.value);
    end = text.indexOf(HEADER_END);
    if (end < 0 && text.length > MAX_HEADER_LENGTH) throw new Error(`${name}: no SVG header in the first ${MAX_HEADER_LENGTH} characters`);
  }
  const header = parseSvgPartHeader(text.slice(0, end + HEADER_END.length));
  let pending = text.slice(end + HEADER_END.length);

  async function* body(): AsyncGenerator<string> {
    // Hold back as many characters as the footer has, so the footer can be dropped once the part ends.
    const keep = SVG_FOOTER.length;
    for (;;) {
      if (pending.length > keep) {
        yield pending.slice(0, pending.length - keep);
        pending = pending.slice(pending.length - keep);
      }
      const next = await iterator.next();
      if (next.done) break;
      pending += decode(next.value);
    }
    pending += decoder.decode();
    if (!pending.endsWith(SVG_FOOTER)) throw new Error(`${name}: does not end with </svg> (truncated?)`);
    if (pending.length > keep) yield pending.slice(0, pending.length - keep);
  }
  return { header, body: body() };
}

export interface SvgPartSource {
  /** Names the part in errors (its S3 key). */
  readonly name: string;
  /** Pages the part should hold, as its render step reported. */
  readonly pages: number;
  /** Opens the part's bytes; called once, in order, when the part is reached. */
  readonly open: () => Promise<AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>>;
}

/**
 * Streams the combined SVG of `parts` (in page order). Checks that every part is of this layout version, has the
 * first part's page size, holds the pages the workflow says it does and starts where the previous one ended.
 */
export async function* combineSvg(parts: readonly SvgPartSource[]): AsyncGenerator<string> {
  if (parts.length === 0) throw new Error("combineSvg: no parts");
  const totalPages = parts.reduce((sum, part) => sum + part.pages, 0);
  let first: SvgPartHeader | undefined;
  let nextPage = 0;
  for (const source of parts) {
    const part = await openSvgPart(await source.open(), source.name);
    const { header } = part;
    if (header.formatVersion !== EXPORT_OBJECT_FORMAT_VERSION) {
      throw new Error(`${source.name}: layout version ${header.formatVersion}, expected ${EXPORT_OBJECT_FORMAT_VERSION}`);
    }
    if (first === undefined) {
      first = header;
      nextPage = header.firstPage;
      yield svgHeader({
        title: header.title,
        pageSize: { width: header.pageWidth, height: header.pageHeight },
        firstPage: header.firstPage,
        pages: totalPages,
      });
    } else if (header.pageWidth !== first.pageWidth || header.pageHeight !== first.pageHeight) {
      throw new Error(`${source.name}: page size ${header.pageWidth}×${header.pageHeight} differs from the first part's`);
    }
    if (header.firstPage !== nextPage || header.pages !== source.pages) {
      throw new Error(
        `${source.name}: holds pages ${header.firstPage}–${header.firstPage + header.pages - 1}, ` +
          `expected ${nextPage}–${nextPage + source.pages - 1}`,
      );
    }
    nextPage += header.pages;
    yield* part.body;
  }
  yield SVG_FOOTER;
}
