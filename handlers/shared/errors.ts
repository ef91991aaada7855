/**
 * Named errors. Their `name` is what Step Functions matches in `Catch.ErrorEquals` and `Retry.ErrorEquals`,
 * so the workflow definitions in infra/ import these constants instead of repeating the strings.
 */
export const ErrorNames = {
  /** The order input failed validation, or names an unknown SKU. Terminal: order REJECTED. */
  OrderRejected: "OrderRejected",
  /** The gateway declined the card (declined, insufficient funds). Terminal: order PAYMENT_FAILED. */
  PaymentFailed: "PaymentFailed",
  /** The gateway did not answer in time or answered 5xx; safe to retry because charges carry an idempotency key. */
  PaymentGatewayUnavailable: "PaymentGatewayUnavailable",
  /** Not enough stock for at least one line; everything this order reserved has been released. */
  OutOfStock: "OutOfStock",
  /** The carrier cannot ship to the address. */
  ShippingFailed: "ShippingFailed",
  /** A payload crossing a function boundary carries a `formatVersion` this code does not know. */
  UnsupportedFormatVersion: "UnsupportedFormatVersion",
  /** A document failed schema validation or cannot be read. */
  InvalidDocument: "InvalidDocument",
  /** An export request (workflow input or a payload between export steps) failed validation. */
  InvalidExportRequest: "InvalidExportRequest",
  /** A status transition that the order's current status does not allow (e.g. COMPLETED → CANCELLED). */
  InvalidOrderTransition: "InvalidOrderTransition",
} as const;

export type ErrorName = (typeof ErrorNames)[keyof typeof ErrorNames];

/** Base class: sets `name` so the Lambda runtime reports it as `errorType`, which Step Functions uses as the error name. */
export class NamedError extends Error {
  constructor(name: ErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

export class OrderRejectedError extends NamedError {
  constructor(message: string, readonly field?: string) {
    super(ErrorNames.OrderRejected, message);
  }
}

export class PaymentFailedError extends NamedError {
  constructor(message: string, readonly declineCode: string) {
    super(ErrorNames.PaymentFailed, message);
  }
}

export class PaymentGatewayUnavailableError extends NamedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorNames.PaymentGatewayUnavailable, message, options);
  }
}

export class OutOfStockError extends NamedError {
  constructor(message: string, readonly sku: string) {
    super(ErrorNames.OutOfStock, message);
  }
}

export class ShippingFailedError extends NamedError {
  constructor(message: string) {
    super(ErrorNames.ShippingFailed, message);
  }
}

export class UnsupportedFormatVersionError extends NamedError {
  constructor(what: string, found: unknown, supported: readonly number[]) {
    super(
      ErrorNames.UnsupportedFormatVersion,
      `${what}: formatVersion ${JSON.stringify(found)} is not supported (supported: ${supported.join(", ")})`,
    );
  }
}

export class InvalidDocumentError extends NamedError {
  constructor(message: string) {
    super(ErrorNames.InvalidDocument, message);
  }
}

export class InvalidExportRequestError extends NamedError {
  constructor(message: string) {
    super(ErrorNames.InvalidExportRequest, message);
  }
}

export class InvalidOrderTransitionError extends NamedError {
  constructor(message: string) {
    super(ErrorNames.InvalidOrderTransition, message);
  }
}
