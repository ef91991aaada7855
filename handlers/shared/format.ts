/**
 * Format versions of every payload that crosses a function boundary (state payloads, SNS messages, documents,
 * exported objects). A reader accepts the versions it lists and upgrades older ones; anything else is an
 * UnsupportedFormatVersion error, never a silent guess.
 */
export const ORDER_STATE_FORMAT_VERSION = 1 as const;
export const NOTIFICATION_FORMAT_VERSION = 1 as const;
export const EXPORT_STATE_FORMAT_VERSION = 1 as const;

/** Version of the export document format written today; version 1 documents are upgraded on read. */
export const DOCUMENT_FORMAT_VERSION = 2 as const;
/** Document versions a reader accepts (older ones are upgraded to DOCUMENT_FORMAT_VERSION). */
export const SUPPORTED_DOCUMENT_FORMAT_VERSIONS = [1, 2] as const;
/**
 * Version of the layout of exported files (SVG: pages stacked vertically as nested `<svg>` elements; PDF: one PDF
 * page per document page). Written to the objects' `format-version` metadata; combine refuses parts of another version.
 */
export const EXPORT_OBJECT_FORMAT_VERSION = 1 as const;
