import type { ExportFormat } from "../requests";
import { renderPdf } from "./pdf";
import type { Renderer } from "./range";
import { renderSvg } from "./svg";

/**
 * The rendering module, shared by the Lambda exporters and the Fargate worker.
 *
 * Entry points that need one format import its renderer directly (`./svg`, `./pdf`) so that, for example, the SVG
 * Lambda's bundle does not carry PDFKit and fontkit (≈ 4 MB of JavaScript parsed at every cold start).
 */
export const RENDERERS: Readonly<Record<ExportFormat, Renderer>> = { svg: renderSvg, pdf: renderPdf };

export { type PageRange, type Renderer, type RenderOptions, pageCount, resolveRange } from "./range";
