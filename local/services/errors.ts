/** An error a local AWS service answers with: the service's error code, its HTTP status, and a message. */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Sender (the caller's fault) or Receiver (the service's), as awsQuery-style errors report it. */
    readonly fault: "Sender" | "Receiver" = status >= 500 ? "Receiver" : "Sender",
  ) {
    super(message);
    this.name = code;
  }
}

/** What a request will do, in IAM terms: one entry per (action, resource) pair it needs. */
export interface Access {
  readonly action: string;
  readonly resource: string;
  /** Condition keys the request carries (e.g. `ecs:cluster`). */
  readonly context?: Readonly<Record<string, string>>;
}
