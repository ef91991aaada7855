import { Logger } from "@aws-lambda-powertools/logger";

/**
 * The one structured logger. Service name and level come from POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL,
 * which infra sets per function.
 */
export const logger = new Logger();
