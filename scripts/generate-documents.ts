/**
 * Generates the example export documents, deterministically (same bytes on every run):
 *
 *   examples/documents/invoice-1-page.json        committed
 *   examples/documents/invoice-1-page.v1.json     committed; the same invoice in format version 1
 *   examples/documents/catalogue-40-pages.json    committed
 *   examples/documents/catalogue-2000-pages.json  generated on demand, not committed (≈ 10 MB)
 *
 * Usage: npx tsx scripts/generate-documents.ts [OUT_DIR]   (default examples/documents)
 *
 * The builders are exported for tests and the benchmark, which make documents of any size in memory.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Element, ExportDocument, Page } from "../handlers/export/document";
import { DOCUMENT_FORMAT_VERSION } from "../handlers/shared/format";

/** A4 in points. */
export const A4 = { width: 595.28, height: 841.89 } as const;

/** Park–Miller "minimal standard" generator: tiny, seedable, the same sequence on every platform. */
function random(seed: number): () => number {
  let state = seed % 2147483647 || 1;
  return () => {
    state = (state * 16807) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

const PRODUCT_WORDS = ["Oak", "Steel", "Linen", "Cedar", "Copper", "Wool", "Slate", "Birch", "Amber", "Cobalt"];
const PRODUCT_KINDS = ["Chair", "Lamp", "Table", "Shelf", "Rug", "Vase", "Clock", "Stool", "Mirror", "Bench"];
const PALETTE = ["#1f4e79", "#2e7d32", "#b71c1c", "#6a1b9a", "#ef6c00", "#00838f", "#4e342e", "#37474f"];

function text(x: number, y: number, value: string, size: number, color: string, font?: "Helvetica" | "Helvetica-Bold" | "Courier"): Element {
  return font === undefined
    ? { type: "text", x, y, text: value, size, color }
    : { type: "text", x, y, text: value, size, color, font };
}

/** One catalogue page: header band, 3 × 2 product cards with a drawn icon, footer with the page number. */
function cataloguePage(n: number, pages: number, next: () => number): Page {
  const elements: Element[] = [
    { type: "rect", x: 0, y: 0, width: A4.width, height: 64, fill: "#1f2933" },
    text(36, 40, "Northwind Home — Catalogue 2025", 20, "#ffffff", "Helvetica-Bold"),
    text(A4.width - 110, 40, `Section ${Math.ceil(n / 10)}`, 11, "#cbd2d9"),
  ];
  const cardWidth = (A4.width - 36 * 2 - 24) / 2;
  const cardHeight = 220;
  for (let i = 0; i < 6; i++) {
    const x = 36 + (i % 2) * (cardWidth + 24);
    const y = 90 + Math.floor(i / 2) * (cardHeight + 20);
    const colour = PALETTE[Math.floor(next() * PALETTE.length)];
    const name = `${PRODUCT_WORDS[Math.floor(next() * PRODUCT_WORDS.length)]} ${PRODUCT_KINDS[Math.floor(next() * PRODUCT_KINDS.length)]}`;
    const price = (19 + Math.floor(next() * 480) + 0.99).toFixed(2);
    const sku = `NW-${String(n).padStart(4, "0")}-${i + 1}`;
    const cx = round2(x + cardWidth / 2);
    const top = y + 20;
    elements.push(
      { type: "rect", x: round2(x), y, width: round2(cardWidth), height: cardHeight, fill: "#f5f7fa", stroke: "#d9e2ec", strokeWidth: 1 },
      // A stylised product: a body with a curved top and a base, drawn with every path command the schema allows.
      {
        type: "path",
        d: `M${round2(cx - 40)} ${top + 100} L${round2(cx - 40)} ${top + 50} Q${cx} ${top} ${round2(cx + 40)} ${top + 50} V${top + 100} H${round2(cx - 40)} Z`,
        fill: colour,
      },
      {
        type: "path",
        d: `M${round2(cx - 55)} ${top + 110} C${round2(cx - 30)} ${top + 125} ${round2(cx + 30)} ${top + 125} ${round2(cx + 55)} ${top + 110}`,
        stroke: "#52606d",
        strokeWidth: 2,
      },
      text(round2(x + 14), y + 160, name, 14, "#1f2933", "Helvetica-Bold"),
      text(round2(x + 14), y + 180, `Ref. ${sku} · in stock`, 9, "#616e7c"),
      text(round2(x + 14), y + 204, `€ ${price}`, 16, colour, "Courier"),
      { type: "line", x1: round2(x + 14), y1: y + 188, x2: round2(x + cardWidth - 14), y2: y + 188, stroke: "#d9e2ec", strokeWidth: 0.5 },
    );
  }
  elements.push(
    { type: "line", x1: 36, y1: A4.height - 40, x2: A4.width - 36, y2: A4.height - 40, stroke: "#9aa5b1", strokeWidth: 0.75 },
    text(36, A4.height - 24, "Prices include VAT. Northwind Home & Co. <northwind.example>", 8, "#616e7c"),
    text(A4.width - 90, A4.height - 24, `Page ${n} of ${pages}`, 8, "#616e7c"),
  );
  return { elements };
}

/** A product catalogue of `pages` A4 pages (48 elements, ≈ 5 KB of JSON per page). */
export function catalogueDocument(pages: number): ExportDocument {
  const next = random(20_250_101);
  return {
    formatVersion: DOCUMENT_FORMAT_VERSION,
    title: `Northwind Home catalogue (${pages} pages)`,
    pageSize: { ...A4 },
    pages: Array.from({ length: pages }, (_, i) => cataloguePage(i + 1, pages, next)),
  };
}

/** A one-page invoice with a table, totals and a drawn logo. */
export function invoiceDocument(): ExportDocument {
  const lines = [
    ["Espresso machine, stainless", 1, 349.0],
    ["Burr grinder", 1, 129.5],
    ["Descaling tablets (12)", 3, 8.9],
    ["Milk jug 600 ml", 2, 14.25],
    ["Delivery", 1, 6.0],
  ] as const;
  const elements: Element[] = [
    { type: "path", d: "M36 36 L60 36 C72 36 80 44 80 56 C80 68 72 76 60 76 L36 76 Z", fill: "#0b7285" },
    { type: "path", d: "M44 46 H62 Q70 56 62 66 H44 Z", fill: "#ffffff" },
    text(92, 62, "Brewline Supplies Ltd", 20, "#0b7285", "Helvetica-Bold"),
    text(400, 50, "INVOICE", 24, "#212529", "Helvetica-Bold"),
    text(400, 70, "No. INV-2025-00042", 10, "#495057", "Courier"),
    text(400, 84, "Date 2025-03-14", 10, "#495057", "Courier"),
    text(36, 130, "Bill to:", 10, "#868e96", "Helvetica-Bold"),
    text(36, 146, "Café “Les Deux Tasses”", 12, "#212529"),
    text(36, 162, "12 Rue des Martyrs, 75009 Paris", 10, "#495057"),
    { type: "rect", x: 36, y: 200, width: 523.28, height: 24, fill: "#e9ecef" },
    text(44, 216, "Description", 10, "#212529", "Helvetica-Bold"),
    text(360, 216, "Qty", 10, "#212529", "Helvetica-Bold"),
    text(410, 216, "Unit", 10, "#212529", "Helvetica-Bold"),
    text(490, 216, "Amount", 10, "#212529", "Helvetica-Bold"),
  ];
  let y = 244;
  let total = 0;
  for (const [description, quantity, unit] of lines) {
    const amount = quantity * unit;
    total += amount;
    elements.push(
      text(44, y, description, 10, "#212529"),
      text(364, y, String(quantity), 10, "#212529", "Courier"),
      text(410, y, unit.toFixed(2), 10, "#212529", "Courier"),
      text(490, y, amount.toFixed(2), 10, "#212529", "Courier"),
      { type: "line", x1: 36, y1: y + 8, x2: 559.28, y2: y + 8, stroke: "#dee2e6", strokeWidth: 0.5 },
    );
    y += 24;
  }
  const vat = total * 0.2;
  elements.push(
    text(410, y + 16, "Subtotal", 10, "#495057"),
    text(490, y + 16, total.toFixed(2), 10, "#212529", "Courier"),
    text(410, y + 32, "VAT 20 %", 10, "#495057"),
    text(490, y + 32, vat.toFixed(2), 10, "#212529", "Courier"),
    { type: "rect", x: 400, y: y + 42, width: 159.28, height: 26, stroke: "#0b7285", strokeWidth: 1.5 },
    text(410, y + 60, "Total EUR", 12, "#0b7285", "Helvetica-Bold"),
    text(490, y + 60, (total + vat).toFixed(2), 12, "#0b7285", "Courier"),
    text(36, 780, "Payment within 30 days to IBAN FR76 3000 6000 0112 3456 7890 189. Thank you & à bientôt!", 9, "#868e96"),
  );
  return { formatVersion: DOCUMENT_FORMAT_VERSION, title: "Invoice INV-2025-00042", pageSize: { ...A4 }, pages: [{ elements }] };
}

/** `#0b7285` → `rgb(11, 114, 133)`, as version 1 wrote colours. */
function rgb(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgb(${r}, ${g}, ${b})`;
}

/** The same document in format version 1: page size at top level, colours as rgb(r, g, b). */
export function toVersion1(document: ExportDocument): Record<string, unknown> {
  const colourKeys = new Set(["color", "fill", "stroke"]);
  return {
    formatVersion: 1,
    title: document.title,
    pageWidth: document.pageSize.width,
    pageHeight: document.pageSize.height,
    pages: document.pages.map((page) => ({
      elements: page.elements.map((element) =>
        Object.fromEntries(Object.entries(element).map(([k, v]) => [k, colourKeys.has(k) ? rgb(String(v)) : v])),
      ),
    })),
  };
}

/** JSON with one element per line: readable diffs without the bulk of full pretty-printing. */
export function stringifyDocument(document: object): string {
  const { pages, ...head } = document as { pages: Page[] };
  const headJson = JSON.stringify(head).slice(0, -1);
  const pagesJson = pages
    .map((page) => `  {"elements": [\n${page.elements.map((e) => `    ${JSON.stringify(e)}`).join(",\n")}\n  ]}`)
    .join(",\n");
  return `${headJson},"pages": [\n${pagesJson}\n]}\n`;
}

function main(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const files: Record<string, object> = {
    "invoice-1-page.json": invoiceDocument(),
    "invoice-1-page.v1.json": toVersion1(invoiceDocument()),
    "catalogue-40-pages.json": catalogueDocument(40),
    "catalogue-2000-pages.json": catalogueDocument(2000),
  };
  for (const [name, document] of Object.entries(files)) {
    const file = path.join(outDir, name);
    writeFileSync(file, stringifyDocument(document));
    console.log(`wrote ${file}`);
  }
}

if (require.main === module) {
  main(process.argv[2] ?? path.join(__dirname, "..", "examples", "documents"));
}
