import { randomUUID } from "node:crypto";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { AccessDeniedError, Principal, PrincipalRegistry } from "./iam/principals";
import { LOCAL_PARTITION } from "./program/resource-state";
import { LocalDynamoDb } from "./services/dynamodb";
import { Access, ServiceError } from "./services/errors";
import { LocalS3 } from "./services/s3";
import { replay } from "./services/s3/semantics";
import { escapeXml, LocalSns } from "./services/sns";
import { LocalSqs } from "./services/sqs";
import { LocalSsm } from "./services/ssm";
import { asServiceError, sendJsonError, type ServiceEndpoint } from "./services/rest";

/** Serves the Step Functions API (StartExecution, SendTaskSuccess, ...) for a principal. */
export type SfnApi = (operation: string, input: Record<string, any>, principal: Principal) => Promise<unknown>;
/** The IAM action/resource of a Step Functions API call (the token's state machine for SendTask*). */
export type SfnDescribe = (operation: string, input: Record<string, any>) => Access[];

/** A failure the front door answers instead of serving, for testing error paths (e.g. SNS down). */
export interface FaultRule {
  readonly service?: string;
  readonly action?: string;
  /** Principal name (function name, state machine name) the fault applies to. */
  readonly principal?: string;
  readonly resource?: string;
  /** Only requests whose body contains this text (e.g. an order id); never matches S3 requests, whose body is not read. */
  readonly bodyIncludes?: string;
  readonly error: { readonly code: string; readonly message?: string; readonly status?: number };
  /** How many matching requests fail; unlimited when unset. */
  remaining?: number;
}

export interface FrontDoorServices {
  /** The stack's region: a request signed for another is refused, as AWS's regional endpoints refuse it. */
  readonly region: string;
  readonly principals: PrincipalRegistry;
  readonly dynamodb: LocalDynamoDb;
  readonly s3: LocalS3;
  readonly sns: LocalSns;
  readonly sqs: LocalSqs;
  readonly ssm: LocalSsm;
  readonly sfn: { readonly api: SfnApi; readonly describe: SfnDescribe };
  /** The ECS agent's endpoints for running containers (task metadata, task-role credentials). */
  readonly ecsAgent?: (kind: "metadata" | "credentials", taskId: string, rest: string) => unknown;
  /** Services that answer whole requests themselves (Lambda, ECS), by SigV4 signing name. */
  readonly endpoints?: Readonly<Record<string, ServiceEndpoint>>;
  /** Unsigned local routes under /_local/ (the `serve` control endpoint): true when the route answered. */
  readonly localRoutes?: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean;
}

/** Where the ECS agent's endpoints are served (ECS_CONTAINER_METADATA_URI_V4, AWS_CONTAINER_CREDENTIALS_FULL_URI). */
export const ECS_AGENT_PATH = "/_local/ecs";

/** SDK v3 reads these (one per service) to send requests to the local front door instead of AWS. */
export const ENDPOINT_VARIABLES = [
  "AWS_ENDPOINT_URL_DYNAMODB",
  "AWS_ENDPOINT_URL_S3",
  "AWS_ENDPOINT_URL_SNS",
  "AWS_ENDPOINT_URL_SQS",
  "AWS_ENDPOINT_URL_SSM",
  "AWS_ENDPOINT_URL_SFN",
] as const;

/**
 * One local HTTP endpoint for every AWS service the code calls. Which service a request is for, and who sent it, both
 * come from its SigV4 Authorization header (`Credential=<access key>/<date>/<region>/<service>/aws4_request`), as in
 * AWS. Each request's IAM action and resource are derived and put to the principal registry's authorizer before the
 * request is served. Signatures are not verified: the access key alone identifies the caller.
 */
export class FrontDoor {
  private server?: http.Server;
  readonly faults: FaultRule[] = [];
  /** Requests served, by service, for the benchmark and the summary. */
  readonly counts: Record<string, number> = {};

  constructor(private readonly services: FrontDoorServices) {}

  async start(port = 0): Promise<string> {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end(String(err?.message ?? err));
        }
      });
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) =>
        reject(err.code === "EADDRINUSE" ? Object.assign(new Error(`port ${port} is already in use on 127.0.0.1 (another local cloud? choose another with --port)`), { code: err.code }) : err),
      );
      server.listen(port, "127.0.0.1", resolve);
    });
    this.server = server;
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** The AWS_ENDPOINT_URL_* variables pointing every SDK client at this endpoint. */
  endpointEnv(): Record<string, string> {
    return Object.fromEntries(ENDPOINT_VARIABLES.map((v) => [v, this.url]));
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    if (url.pathname.startsWith(`${ECS_AGENT_PATH}/`)) return this.serveEcsAgent(req, res, url);
    if (url.pathname.startsWith("/_local/") && this.services.localRoutes?.(req, res, url)) return;
    const credential = parseCredential(req.headers.authorization, url.searchParams);
    const service = credential?.service ?? guessService(req);
    this.counts[service] = (this.counts[service] ?? 0) + 1;
    if (!credential) {
      return this.fail(res, service, new ServiceError(service === "s3" ? "AccessDenied" : "MissingAuthenticationTokenException", "Request is missing Authentication Token", 403));
    }
    if (credential.region !== this.services.region) return this.fail(res, service, wrongRegion(service, credential.region, this.services.region));
    const principal = this.services.principals.byAccessKey(credential.accessKeyId);
    if (!principal) {
      const code = service === "s3" ? "InvalidAccessKeyId" : service === "sns" ? "InvalidClientTokenId" : "UnrecognizedClientException";
      return this.fail(res, service, new ServiceError(code, "The security token included in the request is invalid.", 403));
    }
    try {
      if (service === "s3") {
        // DeleteObjects is authorized per key (s3:DeleteObject on each object, as IAM does): its body is read first.
        if (req.method === "POST" && url.searchParams.has("delete")) return this.serveS3DeleteObjects(req, res, url, await readBody(req), principal);
        return this.serveS3(req, res, url, principal);
      }
      const body = await readBody(req);
      switch (service) {
        case "dynamodb":
          return this.serveDynamoDb(req, res, url, body, principal);
        case "sns":
          return this.serveSns(res, body, principal);
        case "sqs":
        case "ssm":
        case "states":
          return await this.serveJson(service, req, res, body, principal);
        default: {
          const endpoint = this.services.endpoints?.[service];
          if (!endpoint) throw new ServiceError("UnknownServiceException", `The local cloud does not serve ${service}`, 400);
          return await endpoint.serve({ req, res, url, body, principal, authorize: (accesses) => this.authorize(service, principal, accesses, body) });
        }
      }
    } catch (err) {
      this.fail(res, service, err);
    }
  }

  /**
   * The ECS agent, as a Fargate container reaches it: unsigned GETs of the task's metadata and its role's
   * credentials, the task identified by the id in the path (as the agent identifies it by the container).
   */
  private serveEcsAgent(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const m = /^\/_local\/ecs\/(metadata|credentials)\/([0-9a-f]+)(\/.*)?$/.exec(url.pathname);
    const body = m && req.method === "GET" ? this.services.ecsAgent?.(m[1] as "metadata" | "credentials", m[2], m[3] ?? "") : undefined;
    res.setHeader("content-type", "application/json");
    if (body === undefined) {
      res.statusCode = 404;
      res.end(JSON.stringify({ message: "no running task with this id" }));
      return;
    }
    res.end(JSON.stringify(body));
  }

  /** Asks the authorizer for each (action, resource), then applies any matching fault rule. */
  private authorize(service: string, principal: Principal, accesses: readonly Access[], body?: Buffer): void {
    for (const a of accesses) this.services.principals.check({ principal, service, action: a.action, resource: a.resource, ...(a.context ? { context: a.context } : {}) });
    if (this.faults.length) for (const a of accesses) this.injectFault(service, principal, a, body);
  }

  private injectFault(service: string, principal: Principal, access: Access, body: Buffer | undefined): void {
    const rule = this.faults.find(
      (f) =>
        (f.remaining === undefined || f.remaining > 0) &&
        (!f.service || f.service === service) &&
        (!f.action || f.action === access.action) &&
        (!f.principal || f.principal === principal.name) &&
        (!f.resource || f.resource === access.resource) &&
        (!f.bodyIncludes || (body !== undefined && body.includes(f.bodyIncludes))),
    );
    if (!rule) return;
    if (rule.remaining !== undefined) rule.remaining--;
    throw new ServiceError(rule.error.code, rule.error.message ?? "injected fault", rule.error.status ?? 500);
  }

  private serveS3(req: http.IncomingMessage, res: http.ServerResponse, url: URL, principal: Principal): void {
    try {
      this.authorize("s3", principal, this.services.s3.describe(req.method ?? "GET", url.pathname, url.searchParams, req.headers));
    } catch (err) {
      req.resume();
      return this.fail(res, "s3", err);
    }
    this.passToS3(req, res, principal);
  }

  /**
   * DeleteObjects as S3 authorizes it: s3:DeleteObject per key, each key's outcome in the DeleteResult ("For each key,
   * Amazon S3 performs a delete action and returns the result of that delete, success or failure" — S3 API Reference,
   * DeleteObjects). A key the caller may not delete is an AccessDenied Error of its own and stays; the others go.
   */
  private async serveS3DeleteObjects(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: Buffer, principal: Principal): Promise<void> {
    const bucket = decodeURIComponent(url.pathname.split("/")[1] ?? "");
    const xml = body.toString("utf8");
    const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1]));
    const denied = new Set<string>();
    try {
      for (const key of keys) {
        const access = { action: "s3:DeleteObject", resource: `arn:${LOCAL_PARTITION}:s3:::${bucket}/${key}` };
        try {
          this.services.principals.check({ principal, service: "s3", ...access });
        } catch (err) {
          if (!(err instanceof AccessDeniedError)) throw err;
          denied.add(key);
        }
        if (this.faults.length) this.injectFault("s3", principal, access, undefined);
      }
      if (denied.size > 0) {
        const deleted = await this.services.s3.deleteObjects(bucket, keys.filter((k) => !denied.has(k)));
        const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(xml);
        const entries = [
          ...(quiet ? [] : deleted.deleted.map((k) => `<Deleted><Key>${escapeXml(k)}</Key></Deleted>`)),
          ...[...denied].map((k) => `<Error><Key>${escapeXml(k)}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`),
          ...deleted.errors.map((e) => `<Error><Key>${escapeXml(e.key)}</Key><Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message></Error>`),
        ];
        res.writeHead(200, { "content-type": "application/xml", "x-amz-request-id": randomUUID() });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${entries.join("")}</DeleteResult>`);
        return;
      }
    } catch (err) {
      return this.fail(res, "s3", err);
    }
    // The body was consumed: s3rver gets a replay of it with the original request's metadata.
    this.passToS3(replay(req, body), res, principal);
  }

  private passToS3(req: http.IncomingMessage, res: http.ServerResponse, principal: Principal): void {
    // Whether a missing key is 404 or 403 depends on s3:ListBucket, which S3 decides without a request of its own:
    // asked of the authorizer, not recorded as an access.
    const mayList = (bucket: string) =>
      this.services.principals.authorizer({ principal, service: "s3", action: "s3:ListBucket", resource: `arn:${LOCAL_PARTITION}:s3:::${bucket}` }).allowed;
    this.services.s3.serve(req, res, { mayList }).catch((err: unknown) => {
      req.resume();
      this.fail(res, "s3", err);
    });
  }

  private serveDynamoDb(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: Buffer, principal: Principal): void {
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.split(".")[1] ?? "";
    let input: Record<string, any> = {};
    try {
      input = body.length ? JSON.parse(body.toString("utf8")) : {};
    } catch {
      // dynalite answers malformed JSON with its own SerializationException.
    }
    this.authorize("dynamodb", principal, this.services.dynamodb.describe(operation, input), body);
    this.services.dynamodb.serve(req.headers, url.pathname + url.search, body, res);
  }

  private serveSns(res: http.ServerResponse, body: Buffer, principal: Principal): void {
    const params = Object.fromEntries(new URLSearchParams(body.toString("utf8")));
    const action = params.Action ?? "";
    this.authorize("sns", principal, this.services.sns.describe(action, params), body);
    const xml = this.services.sns.handleQuery(action, params, principal);
    res.writeHead(200, { "content-type": "text/xml", "x-amzn-requestid": randomUUID() });
    res.end(xml);
  }

  private async serveJson(service: "sqs" | "ssm" | "states", req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, principal: Principal): Promise<void> {
    const contentType = String(req.headers["content-type"] ?? "");
    if (service === "sqs" && contentType.includes("x-www-form-urlencoded")) {
      throw new ServiceError("InvalidAction", "The local SQS speaks the JSON protocol only (SDK v3 ≥ 3.450)", 400);
    }
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.split(".")[1] ?? "";
    let input: Record<string, any>;
    try {
      input = body.length ? JSON.parse(body.toString("utf8")) : {};
    } catch {
      throw new ServiceError("SerializationException", "Malformed JSON body", 400);
    }
    let result: unknown;
    if (service === "sqs") {
      this.authorize(service, principal, this.services.sqs.describe(operation, input), body);
      result = this.services.sqs.handleJson(operation, input, principal.name);
    } else if (service === "ssm") {
      this.authorize(service, principal, this.services.ssm.describe(operation, input), body);
      result = this.services.ssm.handleJson(operation, input, principal);
    } else {
      this.authorize(service, principal, this.services.sfn.describe(operation, input), body);
      result = await this.services.sfn.api(operation, input, principal);
    }
    const json = JSON.stringify(result ?? {});
    res.writeHead(200, {
      "content-type": service === "ssm" ? "application/x-amz-json-1.1" : "application/x-amz-json-1.0",
      "content-length": Buffer.byteLength(json),
      "x-amzn-requestid": randomUUID(),
    });
    res.end(json);
  }

  /** Answers an error in the protocol of the service. */
  private fail(res: http.ServerResponse, service: string, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const error = asServiceError(err, service === "s3" ? "AccessDenied" : service === "sns" ? "AuthorizationError" : "AccessDeniedException", "InternalFailure");
    const requestId = randomUUID();
    if (service === "s3") {
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message><RequestId>${requestId}</RequestId></Error>`;
      res.writeHead(error.status, { "content-type": "application/xml", "x-amz-request-id": requestId });
      res.end(xml);
      return;
    }
    if (service === "sns") {
      const xml =
        `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${error.fault}</Type>` +
        `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      res.writeHead(error.status, { "content-type": "text/xml", "x-amzn-requestid": requestId });
      res.end(xml);
      return;
    }
    sendJsonError(res, error, service === "ssm" ? "application/x-amz-json-1.1" : "application/x-amz-json-1.0", {
      ...(service === "sqs" ? { type: (code: string) => `com.amazonaws.sqs#${code}`, headers: (e: ServiceError) => ({ "x-amzn-query-error": `${e.code};${e.fault}` }) } : {}),
    });
  }
}

function parseCredential(authorization: string | undefined, query: URLSearchParams): { accessKeyId: string; region: string; service: string } | undefined {
  const credential = authorization?.match(/Credential=([^,\s]+)/)?.[1] ?? query.get("X-Amz-Credential") ?? undefined;
  if (!credential) return undefined;
  const [accessKeyId, , region, service] = credential.split("/");
  if (!accessKeyId || !service) return undefined;
  return { accessKeyId, region, service };
}

/**
 * A signature scoped to another region, as each protocol reports it: S3 names both regions (400
 * AuthorizationHeaderMalformed); the JSON services answer InvalidSignatureException, the query ones
 * SignatureDoesNotMatch, "Credential should be scoped to a valid region" (messages as reported in aws-sdk-js#4545,
 * aws-sdk-ruby#508; status codes per protocol's usual signature errors — not verified against AWS).
 */
function wrongRegion(service: string, region: string, expected: string): ServiceError {
  if (service === "s3") return new ServiceError("AuthorizationHeaderMalformed", `The authorization header is malformed; the region '${region}' is wrong; expecting '${expected}'`, 400);
  if (service === "sns") return new ServiceError("SignatureDoesNotMatch", `Credential should be scoped to a valid region. `, 403);
  return new ServiceError("InvalidSignatureException", `Credential should be scoped to a valid region. `, 400);
}

/** Only for answering unsigned requests in the right format. */
function guessService(req: http.IncomingMessage): string {
  const target = String(req.headers["x-amz-target"] ?? "");
  if (target.startsWith("DynamoDB")) return "dynamodb";
  if (target.startsWith("AmazonSQS")) return "sqs";
  if (target.startsWith("AmazonSSM")) return "ssm";
  if (target.startsWith("AWSStepFunctions")) return "states";
  return String(req.headers["content-type"] ?? "").includes("x-www-form-urlencoded") ? "sns" : "s3";
}

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
