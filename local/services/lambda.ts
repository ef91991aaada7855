import { createHash } from "node:crypto";
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import type { Principal } from "../iam/principals";
import { LOCAL_ACCOUNT, LOCAL_PARTITION } from "../program/resource-state";
import type { FunctionSpec, LambdaRuntime } from "../runtimes/lambda/runtime";
import { Access, ServiceError } from "./errors";
import { page } from "./pagination";
import { sendJson, sendJsonError, type ServiceRequest } from "./rest";

/**
 * The Lambda API (REST JSON, `/2015-03-31/functions/...`) over the local runtime, as the AWS CLI and the SDKs call
 * it: Invoke (RequestResponse, Event, DryRun; `Qualifier` an alias or version; `LogType: Tail`), ListFunctions,
 * GetFunction, GetFunctionConfiguration and ListAliases. Errors as Lambda sends them: a status code, the
 * `x-amzn-ErrorType` header and `{ "Type", "message" }` — a function's own error is a 200 with
 * `X-Amz-Function-Error: Unhandled` and the error document as the payload.
 */
export class LambdaApi {
  constructor(
    private readonly lambda: LambdaRuntime,
    private readonly region: string,
  ) {}

  async serve(request: ServiceRequest): Promise<void> {
    try {
      await this.route(request);
    } catch (err) {
      sendJsonError(request.res, err, "application/json", { faultType: true });
    }
  }

  private async route({ req, res, url, body, principal, authorize }: ServiceRequest): Promise<void> {
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== "2015-03-31" || parts[1] !== "functions") throw new ServiceError("UnknownOperationException", `The local Lambda does not serve ${req.method} ${url.pathname}`, 400);
    const [, , functionRef, sub] = parts;
    const query = url.searchParams;
    if (!functionRef) {
      if (req.method !== "GET") throw unknownOperation(req);
      authorize([{ action: "lambda:ListFunctions", resource: "*" }]);
      const functions = this.lambda.functions().sort((a, b) => a.name.localeCompare(b.name));
      const { items, nextToken } = page(functions, {
        maxResults: query.has("MaxItems") ? Number(query.get("MaxItems")) : undefined,
        nextToken: query.get("Marker") ?? undefined,
        scope: "ListFunctions",
        defaultSize: 50,
        maxSize: 50,
        names: { size: "maxItems", token: "marker" },
        invalidTokenCode: "InvalidParameterValueException",
      });
      return sendJson(res, 200, { Functions: items.map((f) => this.configuration(f)), ...(nextToken ? { NextMarker: nextToken } : {}) });
    }
    const target = this.resolve(functionRef, query.get("Qualifier") ?? undefined);
    const resource = target.qualifier ? `${target.spec.arn}:${target.qualifier}` : target.spec.arn;
    if (req.method === "POST" && sub === "invocations") return this.invoke(req, res, target, resource, body, principal, authorize);
    if (req.method !== "GET") throw unknownOperation(req);
    switch (sub) {
      case undefined:
        authorize([{ action: "lambda:GetFunction", resource }]);
        return sendJson(res, 200, {
          Configuration: this.configuration(target.spec, target.qualifier),
          Code: { RepositoryType: "S3", Location: `file://${target.spec.codeDir}` },
          ...(target.spec.tags && Object.keys(target.spec.tags).length ? { Tags: target.spec.tags } : {}),
          ...(target.spec.reservedConcurrency ? { Concurrency: { ReservedConcurrentExecutions: target.spec.reservedConcurrency } } : {}),
        });
      case "configuration":
        authorize([{ action: "lambda:GetFunctionConfiguration", resource }]);
        return sendJson(res, 200, this.configuration(target.spec, target.qualifier));
      case "aliases": {
        authorize([{ action: "lambda:ListAliases", resource: target.spec.arn }]);
        const version = query.get("FunctionVersion");
        const aliases = this.lambda.aliasesOf(target.spec.name).filter((a) => !version || a.functionVersion === version);
        const { items, nextToken } = page(aliases, {
          maxResults: query.has("MaxItems") ? Number(query.get("MaxItems")) : undefined,
          nextToken: query.get("Marker") ?? undefined,
          scope: `ListAliases ${target.spec.name} ${version ?? ""}`,
          defaultSize: 50,
          maxSize: 10_000,
          names: { size: "maxItems", token: "marker" },
          invalidTokenCode: "InvalidParameterValueException",
        });
        return sendJson(res, 200, {
          Aliases: items.map((a) => ({
            AliasArn: `${target.spec.arn}:${a.name}`,
            Name: a.name,
            FunctionVersion: a.functionVersion,
            Description: a.description ?? "",
            RevisionId: revisionOf(`${a.functionName}:${a.name}:${a.functionVersion}`),
          })),
          ...(nextToken ? { NextMarker: nextToken } : {}),
        });
      }
      default:
        throw unknownOperation(req);
    }
  }

  private async invoke(
    req: IncomingMessage,
    res: ServerResponse,
    target: { spec: FunctionSpec; qualifier?: string },
    resource: string,
    body: Buffer,
    principal: Principal,
    authorize: (accesses: Access[]) => void,
  ): Promise<void> {
    authorize([{ action: "lambda:InvokeFunction", resource }]);
    const invocationType = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
    if (!["RequestResponse", "Event", "DryRun"].includes(invocationType)) throw new ServiceError("InvalidParameterValueException", `Unsupported invocation type ${invocationType}`, 400);
    let event: unknown = {};
    if (body.length) {
      try {
        event = JSON.parse(body.toString("utf8"));
      } catch {
        throw new ServiceError("InvalidRequestContentException", "Could not parse request body into json: Could not parse payload into json", 400);
      }
    }
    // An unqualified call runs $LATEST; an alias runs the version it points to.
    const version = !target.qualifier || /^(\d+|\$LATEST)$/.test(target.qualifier) ? (target.qualifier ?? "$LATEST") : (this.lambda.aliasesOf(target.spec.name).find((a) => a.name === target.qualifier)?.functionVersion ?? target.spec.version);
    const ref = target.qualifier ? `${target.spec.name}:${target.qualifier}` : target.spec.name;
    if (invocationType === "DryRun") return sendJson(res, 204, undefined);
    if (invocationType === "Event") {
      // Queued and run once; Lambda would retry a failed asynchronous invocation twice, the local cloud does not.
      void this.lambda.invoke(ref, event, { caller: principal.name }).catch(() => undefined);
      return sendJson(res, 202, undefined, { "x-amz-executed-version": version });
    }
    const outcome = await this.lambda.invoke(ref, event, { caller: principal.name });
    const headers: Record<string, string> = { "x-amz-executed-version": version };
    if (req.headers["x-amz-log-type"] === "Tail") headers["x-amz-log-result"] = this.logTail(outcome.record.requestId, outcome.record.durationMs, target.spec);
    if (outcome.ok) return sendJson(res, 200, outcome.payload ?? null, headers);
    switch (outcome.kind) {
      case "throttled":
        throw Object.assign(new ServiceError("TooManyRequestsException", "Rate Exceeded.", 429), { body: { Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" } });
      case "service-error":
        throw new ServiceError(outcome.error.errorType.replace(/^Lambda\./, ""), outcome.error.errorMessage, 500);
      default:
        if (outcome.error.errorType === "RequestTooLargeException") throw new ServiceError("RequestTooLargeException", outcome.error.errorMessage, 413);
        return sendJson(res, 200, { errorType: outcome.error.errorType, errorMessage: outcome.error.errorMessage, ...(outcome.error.trace ? { trace: outcome.error.trace } : {}) }, { ...headers, "x-amz-function-error": "Unhandled" });
    }
  }

  /** The last 4 KB of the invocation's log, base64, as `LogType: Tail` returns it. */
  private logTail(requestId: string, durationMs: number, spec: FunctionSpec): string {
    const lines = this.lambda.logs.filter((l) => l.requestId === requestId).map((l) => l.line);
    const text = [`START RequestId: ${requestId} Version: ${spec.version}`, ...lines, `END RequestId: ${requestId}`, `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tMemory Size: ${spec.memorySize} MB`, ""].join("\n");
    const bytes = Buffer.from(text);
    return bytes.subarray(Math.max(0, bytes.length - 4096)).toString("base64");
  }

  /** A function name or ARN, with or without a qualifier, and the `Qualifier` parameter (which must agree). */
  private resolve(ref: string, qualifier: string | undefined): { spec: FunctionSpec; qualifier?: string } {
    const named = this.lambda.resolve(ref);
    const target = named && qualifier && named.qualifier !== qualifier ? (named.qualifier ? undefined : this.lambda.resolve(`${named.spec.name}:${qualifier}`)) : named;
    if (!target) {
      const name = ref.replace(/^arn:[^:]+:lambda:[^:]+:\d+:function:/, "");
      throw new ServiceError("ResourceNotFoundException", `Function not found: arn:${LOCAL_PARTITION}:lambda:${this.region}:${LOCAL_ACCOUNT}:function:${name}${qualifier ? `:${qualifier}` : ""}`, 404);
    }
    return target;
  }

  /** FunctionConfiguration, as GetFunctionConfiguration and ListFunctions return it. */
  private configuration(spec: FunctionSpec, qualifier?: string): Record<string, unknown> {
    const code = codeFacts(spec.codeDir);
    const alias = qualifier ? this.lambda.aliasesOf(spec.name).find((a) => a.name === qualifier) : undefined;
    return {
      FunctionName: spec.name,
      FunctionArn: qualifier ? `${spec.arn}:${qualifier}` : spec.arn,
      Runtime: spec.runtime,
      Role: spec.roleArn,
      Handler: spec.handler,
      CodeSize: code.size,
      CodeSha256: code.sha256,
      Description: spec.description ?? "",
      Timeout: spec.timeoutSeconds,
      MemorySize: spec.memorySize,
      LastModified: new Date(spec.lastModified ?? 0).toISOString().replace("Z", "+0000"),
      Version: alias?.functionVersion ?? (qualifier && qualifier !== "$LATEST" ? qualifier : "$LATEST"),
      Environment: { Variables: spec.environment },
      TracingConfig: { Mode: spec.tracingMode ?? "PassThrough" },
      RevisionId: revisionOf(`${spec.name}:${code.sha256}:${spec.memorySize}:${spec.timeoutSeconds}`),
      State: "Active",
      LastUpdateStatus: "Successful",
      PackageType: "Zip",
      Architectures: spec.architectures?.length ? spec.architectures : ["x86_64"],
      EphemeralStorage: { Size: 512 },
      LoggingConfig: {
        LogFormat: spec.logFormat ?? "Text",
        ...(spec.applicationLogLevel ? { ApplicationLogLevel: spec.applicationLogLevel } : {}),
        LogGroup: spec.logGroup,
      },
    };
  }
}

function unknownOperation(req: IncomingMessage): ServiceError {
  return new ServiceError("UnknownOperationException", `The local Lambda does not serve ${req.method} ${req.url}`, 400);
}

const codeFactsCache = new Map<string, { size: number; sha256: string }>();

/** Size and SHA-256 (base64) of the deployed bundle's entry file, as Lambda reports them for the package. */
function codeFacts(codeDir: string): { size: number; sha256: string } {
  let facts = codeFactsCache.get(codeDir);
  if (!facts) {
    const file = path.join(codeDir, "index.mjs");
    const bytes = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
    facts = { size: bytes.length, sha256: createHash("sha256").update(bytes).digest("base64") };
    codeFactsCache.set(codeDir, facts);
  }
  return facts;
}

function revisionOf(text: string): string {
  const hex = createHash("sha256").update(text).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
