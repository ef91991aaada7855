import { expect } from "chai";
import { DOCUMENT_LIMITS, parseDocument } from "../../../handlers/export/document";
import { InvalidDocumentError } from "../../../handlers/shared/errors";

/**
 * Every document limit at its bound (accepted) and one past it (refused, naming the field). A limit checked outside
 * the schema is pinned where it is checked: maxDocumentBytes by the exporters' HeadObject check (steps.test.ts),
 * maxJsonDepth by the streaming reader (document-stream.test.ts).
 */
const L = DOCUMENT_LIMITS;
const BLACK = "#000000";

const document = (overrides: Record<string, unknown> = {}, elements: unknown[] = []) => ({
  formatVersion: 2,
  title: "t",
  pageSize: { width: 200, height: 100 },
  pages: [{ elements }],
  ...overrides,
});
const text = (fields: Record<string, unknown>) => ({ type: "text", x: 1, y: 1, text: "a", size: 10, color: BLACK, ...fields });
const rect = (fields: Record<string, unknown>) => ({ type: "rect", x: 0, y: 0, width: 1, height: 1, fill: BLACK, ...fields });
const line = (fields: Record<string, unknown>) => ({ type: "line", x1: 0, y1: 0, x2: 1, y2: 1, stroke: BLACK, strokeWidth: 1, ...fields });
const path = (fields: Record<string, unknown>) => ({ type: "path", d: "M 0 0 L 1 1", stroke: BLACK, ...fields });
/** Path data of exactly `length` characters: "M 0 0" padded with repeated " L 1 1" and trailing spaces. */
const pathDataOf = (length: number) => {
  const body = "M 0 0" + " L 1 1".repeat(Math.floor((length - 5) / 6));
  return body + " ".repeat(length - body.length);
};

interface LimitCase {
  readonly limit: keyof typeof DOCUMENT_LIMITS;
  readonly what: string;
  /** The document with the value at the bound (`ok: true`) or one past it. */
  readonly build: (ok: boolean) => unknown;
  readonly message: string;
}

const cases: LimitCase[] = [
  { limit: "maxPages", what: "pages", build: (ok) => document({ pages: Array.from({ length: L.maxPages + (ok ? 0 : 1) }, () => ({ elements: [] })) }), message: `pages: expected at most ${L.maxPages} pages` },
  { limit: "maxElementsPerPage", what: "elements on a page", build: (ok) => document({}, Array.from({ length: L.maxElementsPerPage + (ok ? 0 : 1) }, () => rect({}))), message: `pages[0].elements: expected at most ${L.maxElementsPerPage} elements` },
  { limit: "maxTextLength", what: "characters of a text", build: (ok) => document({}, [text({ text: "a".repeat(L.maxTextLength + (ok ? 0 : 1)) })]), message: `pages[0].elements[0].text: expected at most ${L.maxTextLength} characters` },
  { limit: "maxTitleLength", what: "characters of the title", build: (ok) => document({ title: "t".repeat(L.maxTitleLength + (ok ? 0 : 1)) }), message: `title: expected at most ${L.maxTitleLength} characters` },
  { limit: "maxPathDataLength", what: "characters of path data", build: (ok) => document({}, [path({ d: pathDataOf(L.maxPathDataLength + (ok ? 0 : 1)) })]), message: `pages[0].elements[0].d: expected at most ${L.maxPathDataLength} characters` },
  { limit: "coordinateLimit", what: "a positive coordinate", build: (ok) => document({}, [text({ x: L.coordinateLimit + (ok ? 0 : 1) })]), message: `pages[0].elements[0].x: expected a number ≤ ${L.coordinateLimit}` },
  { limit: "coordinateLimit", what: "a negative coordinate", build: (ok) => document({}, [line({ y2: -L.coordinateLimit - (ok ? 0 : 1) })]), message: `pages[0].elements[0].y2: expected a number ≥ -${L.coordinateLimit}` },
  { limit: "coordinateLimit", what: "a length", build: (ok) => document({}, [rect({ height: L.coordinateLimit + (ok ? 0 : 1) })]), message: `pages[0].elements[0].height: expected a number ≤ ${L.coordinateLimit}` },
  { limit: "coordinateLimit", what: "a number in path data", build: (ok) => document({}, [path({ d: `M 0 0 L ${-L.coordinateLimit - (ok ? 0 : 1)} 0` })]), message: `pages[0].elements[0].d: number ${-L.coordinateLimit - 1} at character 8 is outside ±${L.coordinateLimit}` },
  { limit: "maxPageSide", what: "the page height", build: (ok) => document({ pageSize: { width: 100, height: L.maxPageSide + (ok ? 0 : 1) } }), message: `pageSize.height: expected a number ≤ ${L.maxPageSide}` },
  { limit: "maxFontSize", what: "a font size", build: (ok) => document({}, [text({ size: L.maxFontSize + (ok ? 0 : 1) })]), message: `pages[0].elements[0].size: expected a number ≤ ${L.maxFontSize}` },
  { limit: "maxStrokeWidth", what: "a line's stroke width", build: (ok) => document({}, [line({ strokeWidth: L.maxStrokeWidth + (ok ? 0 : 1) })]), message: `pages[0].elements[0].strokeWidth: expected a number ≤ ${L.maxStrokeWidth}` },
  { limit: "maxStrokeWidth", what: "a rect's stroke width", build: (ok) => document({}, [rect({ stroke: BLACK, strokeWidth: L.maxStrokeWidth + (ok ? 0 : 1) })]), message: `pages[0].elements[0].strokeWidth: expected a number ≤ ${L.maxStrokeWidth}` },
  { limit: "maxStrokeWidth", what: "a path's stroke width", build: (ok) => document({}, [path({ strokeWidth: L.maxStrokeWidth + (ok ? 0 : 1) })]), message: `pages[0].elements[0].strokeWidth: expected a number ≤ ${L.maxStrokeWidth}` },
];

describe("document limits, each at its bound and one past it", () => {
  it("covers every limit of DOCUMENT_LIMITS here or where it is checked", () => {
    const checkedElsewhere = ["maxDocumentBytes", "maxJsonDepth"];
    expect([...new Set([...cases.map((c) => c.limit), ...checkedElsewhere])].sort()).to.deep.equal(Object.keys(L).sort());
  });

  it("builds path data of exactly the length asked for", () => {
    for (const length of [L.maxPathDataLength, L.maxPathDataLength + 1, 11]) expect(pathDataOf(length)).to.have.length(length);
  });

  for (const { limit, what, build, message } of cases) {
    it(`${limit}: accepts ${what} at the bound and refuses one past it`, () => {
      expect(() => parseDocument(build(true)), "at the bound").not.to.throw();
      let refused: unknown;
      try {
        parseDocument(build(false));
      } catch (error) {
        refused = error;
      }
      expect(refused).to.be.instanceOf(InvalidDocumentError);
      expect((refused as Error).message).to.equal(`document: ${message}`);
    });
  }
});
