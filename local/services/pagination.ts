import { ServiceError } from "./errors";

/**
 * One page of a list, as AWS list APIs page: `maxResults` (0 or absent: the API's default page size) and an opaque
 * `nextToken` that names where the next page starts. A token is only good for the list it came from (`scope`: the
 * operation and its filters); any other token is InvalidToken (Step Functions) or the API's own error code.
 */
export interface PageRequest {
  readonly maxResults?: number;
  readonly nextToken?: string;
  /** The operation and the arguments the list depends on: a token from another list is refused. */
  readonly scope: string;
  readonly defaultSize: number;
  readonly maxSize: number;
  /** The member names the API uses in its validation messages. @default maxResults / nextToken */
  readonly names?: { readonly size: string; readonly token: string };
  /** The error code for a token this service did not issue. @default InvalidToken */
  readonly invalidTokenCode?: string;
}

export function page<T>(items: readonly T[], request: PageRequest): { items: T[]; nextToken?: string } {
  const names = request.names ?? { size: "maxResults", token: "nextToken" };
  const size = request.maxResults ?? 0;
  if (!Number.isInteger(size) || size < 0 || size > request.maxSize) {
    throw new ServiceError("ValidationException", `1 validation error detected: Value '${size}' at '${names.size}' failed to satisfy constraint: Member must have value less than or equal to ${request.maxSize}`, 400);
  }
  let offset = 0;
  if (request.nextToken !== undefined) {
    const decoded = decodeToken(request.nextToken);
    if (!decoded || decoded.scope !== request.scope) {
      throw new ServiceError(request.invalidTokenCode ?? "InvalidToken", `Invalid Token: '${names.token} ${request.nextToken.slice(0, 64)} is not valid for this request'`, 400);
    }
    offset = decoded.offset;
  }
  const end = offset + (size || request.defaultSize);
  return { items: items.slice(offset, end), ...(end < items.length ? { nextToken: encodeToken({ scope: request.scope, offset: end }) } : {}) };
}

function encodeToken(token: { scope: string; offset: number }): string {
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decodeToken(text: string): { scope: string; offset: number } | undefined {
  try {
    const token = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as { scope?: unknown; offset?: unknown };
    return typeof token.scope === "string" && Number.isInteger(token.offset) && (token.offset as number) >= 0 ? { scope: token.scope, offset: token.offset as number } : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds since the epoch, as AWS JSON protocols send timestamps. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}
