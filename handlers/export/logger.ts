import type { Logger } from "@aws-lambda-powertools/logger";

/** What the export logic needs of a logger (handlers/shared/logger.ts in production); tests pass a recorder. */
export type Log = Pick<Logger, "debug" | "info" | "warn" | "error">;
