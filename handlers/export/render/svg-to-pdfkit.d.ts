// svg-to-pdfkit ships no types; this declares the part of its API the PDF renderer uses.
declare module "svg-to-pdfkit" {
  interface SvgToPdfOptions {
    /** Treat SVG user units as points instead of CSS pixels (1 px = 0.75 pt). */
    assumePt?: boolean;
    width?: number;
    height?: number;
    preserveAspectRatio?: string;
    warningCallback?: (message: string) => void;
    /** Maps an SVG font family to a PDFKit font name. */
    fontCallback?: (family: string, bold: boolean, italic: boolean, fontOptions: { fauxBold?: boolean; fauxItalic?: boolean }) => string;
  }
  function SVGtoPDF(doc: PDFKit.PDFDocument, svg: string, x?: number, y?: number, options?: SvgToPdfOptions): void;
  export = SVGtoPDF;
}
