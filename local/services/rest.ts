import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AccessDeniedError, type Principal } from "../iam/principals";
import { Access, ServiceError } from "./errors";

/**
 * A signed request the front door hands to a service that answers it whole (Lambda's REST API, ECS): who sent it,
 * its body already read, and the IAM check to put each access to before serving.
 */
export interface ServiceRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly body: Buffer;
  readonly principal: Principal;
  /** Asks IAM (and the front door's fault rules) about each access; throws AccessDeniedError or the fault. */
  readonly authorize: (accesses: Access[]) => void;
}

/** A service the front door routes to by the SigV4 signing name, which writes its own answers and errors. */
export interface ServiceEndpoint {
  serve(request: ServiceRequest): Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, contentType = "application/json"): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text), "x-amzn-requestid": randomUUID(), ...headers });
  res.end(text);
}

/** Any error as the service error it is answered with: an IAM denial under the protocol's own code. */
export function asServiceError(err: unknown, deniedCode = "AccessDeniedException", otherCode = "ServiceException"): ServiceError {
  if (err instanceof ServiceError) return err;
  if (err instanceof AccessDeniedError) return new ServiceError(deniedCode, err.message, 403);
  return new ServiceError(otherCode, String((err as Error)?.message ?? err), 500);
}

/**
 * An error as JSON-speaking AWS services send it: the status, the `x-amzn-ErrorType` header, and a body with the
 * code (`__type`; SQS namespaces it) and the message; REST services (Lambda) add who is at fault (`Type`).
 */
export function sendJsonError(
  res: ServerResponse,
  err: unknown,
  contentType: string,
  options: { readonly type?: (code: string) => string; readonly headers?: (error: ServiceError) => Record<string, string>; readonly faultType?: boolean; readonly otherCode?: string } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const error = asServiceError(err, "AccessDeniedException", options.otherCode);
  const extra = (err as { body?: Record<string, unknown> }).body ?? {};
  const body = { __type: options.type?.(error.code) ?? error.code, ...(options.faultType ? { Type: error.status < 500 ? "User" : "Service" } : {}), message: error.message, ...extra };
  sendJson(res, error.status, body, { "x-amzn-errortype": error.code, ...options.headers?.(error) }, contentType);
}
