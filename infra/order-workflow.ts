import { ErrorNames } from "../handlers/shared/errors";
import { ORDER_STATE_FORMAT_VERSION } from "../handlers/shared/format";
import { DEFAULT_LAMBDA_RETRY, RenderedWorkflow, RetryRule, Workflow } from "./workflow";

/** The alias ARNs the order workflow invokes, one per step. */
export interface OrderFunctionArns {
  readonly orderPlacement: string;
  readonly paymentProcessing: string;
  readonly inventoryManagement: string;
  readonly shipping: string;
  readonly notification: string;
  readonly handlePaymentFailure: string;
  readonly refundPayment: string;
  readonly releaseInventory: string;
  readonly cancelOrder: string;
}

export interface OrderWorkflowProps {
  readonly functions: OrderFunctionArns;
  /** Each step's Task timeout: its function's timeout (the Task gives up when the function would). */
  readonly timeouts: Record<keyof OrderFunctionArns, number>;
  /** Where a failed customer notification is kept for a later retry. */
  readonly notificationDlq: { readonly url: string; readonly arn: string };
  /** Upper bound for a whole execution: no order is left hanging. */
  readonly timeoutSeconds: number;
}

/** State names, as the seed named them; tests and the local cloud read them from the rendered definition. */
export const OrderStates = {
  OrderPlacement: "OrderPlacement",
  PaymentProcessing: "PaymentProcessing",
  InventoryManagement: "InventoryManagement",
  Shipping: "Shipping",
  Notification: "Notification",
  HandlePaymentFailure: "HandlePaymentFailure",
  VoidUncertainCharge: "VoidUncertainCharge",
  ReleaseInventory: "ReleaseInventory",
  RefundPayment: "RefundPayment",
  CancelOrder: "CancelOrder",
  KeepFailedNotification: "KeepFailedNotification",
  OrderCompleted: "OrderCompleted",
  OrderRejected: "OrderRejected",
  PaymentFailed: "PaymentFailed",
  OrderCancelled: "OrderCancelled",
  OrderPipelineFailed: "OrderPipelineFailed",
} as const;

/**
 * The gateway did not answer (timeout, 5xx). Charges carry the order id as idempotency key, so a retry cannot charge
 * twice; after these attempts the outcome is treated as unknown and the charge voided.
 */
export const PAYMENT_GATEWAY_RETRY: RetryRule = {
  errors: [ErrorNames.PaymentGatewayUnavailable],
  intervalSeconds: 2,
  maxAttempts: 2,
  backoffRate: 2,
  maxDelaySeconds: 10,
  jitter: "FULL",
};

const ANY_ERROR = ["States.ALL"];

/**
 * OrderPlacement → PaymentProcessing → InventoryManagement → Shipping → Notification.
 *
 * Business outcomes end in Succeed states (the execution did its job: it decided the order), with the order's
 * terminal status recorded in the orders table; only failures of the pipeline itself — a compensation that could
 * not finish — end in the Fail state, which is what the ExecutionsFailed alarm watches.
 */
export function orderWorkflow(props: OrderWorkflowProps): RenderedWorkflow {
  const f = props.functions;
  const t = props.timeouts;
  const S = OrderStates;
  const retry = [DEFAULT_LAMBDA_RETRY];
  const pipelineFailed = { errors: ANY_ERROR, next: S.OrderPipelineFailed, resultPath: "$.pipelineError" };
  return new Workflow({ comment: "Order pipeline: place, pay, reserve stock, ship, notify; compensates after payment.", timeoutSeconds: props.timeoutSeconds })
    .lambda(S.OrderPlacement, {
      comment: "Validates and prices the order, stores it once (conditional put); the result replaces the client input.",
      functionArn: f.orderPlacement,
      timeoutSeconds: t.orderPlacement,
      retry,
      catch: [{ errors: [ErrorNames.OrderRejected], next: S.OrderRejected }, pipelineFailed],
      next: S.PaymentProcessing,
    })
    .lambda(S.PaymentProcessing, {
      comment: "Charges through the gateway with the order id as idempotency key.",
      functionArn: f.paymentProcessing,
      timeoutSeconds: t.paymentProcessing,
      resultPath: "$.payment",
      retry: [...retry, PAYMENT_GATEWAY_RETRY],
      catch: [
        { errors: [ErrorNames.PaymentFailed], next: S.HandlePaymentFailure },
        { errors: ANY_ERROR, next: S.VoidUncertainCharge },
      ],
      next: S.InventoryManagement,
    })
    .lambda(S.VoidUncertainCharge, {
      comment: "The charge's outcome is unknown (gateway unreachable): refund whatever may have been charged.",
      functionArn: f.refundPayment,
      timeoutSeconds: t.refundPayment,
      resultPath: "$.refund",
      retry: [...retry, PAYMENT_GATEWAY_RETRY],
      catch: [pipelineFailed],
      next: S.HandlePaymentFailure,
    })
    .lambda(S.HandlePaymentFailure, {
      comment: "Marks the order PAYMENT_FAILED and tells the customer.",
      functionArn: f.handlePaymentFailure,
      timeoutSeconds: t.handlePaymentFailure,
      resultPath: "$.outcome",
      retry,
      catch: [pipelineFailed],
      next: S.PaymentFailed,
    })
    .lambda(S.InventoryManagement, {
      comment: "Reserves stock with conditional updates; a shortage releases this order's lines and raises OutOfStock.",
      functionArn: f.inventoryManagement,
      timeoutSeconds: t.inventoryManagement,
      resultPath: "$.reservation",
      retry,
      catch: [{ errors: ANY_ERROR, next: S.RefundPayment }],
      next: S.Shipping,
    })
    .lambda(S.Shipping, {
      comment: "Records the shipment and marks the order COMPLETED.",
      functionArn: f.shipping,
      timeoutSeconds: t.shipping,
      resultPath: "$.shipment",
      retry,
      catch: [{ errors: ANY_ERROR, next: S.ReleaseInventory }],
      next: S.Notification,
    })
    .lambda(S.ReleaseInventory, {
      comment: "Compensation: gives this order's reserved stock back.",
      functionArn: f.releaseInventory,
      timeoutSeconds: t.releaseInventory,
      resultPath: "$.release",
      retry,
      catch: [pipelineFailed],
      next: S.RefundPayment,
    })
    .lambda(S.RefundPayment, {
      comment: "Compensation: refunds the charge (idempotent per order).",
      functionArn: f.refundPayment,
      timeoutSeconds: t.refundPayment,
      resultPath: "$.refund",
      retry: [...retry, PAYMENT_GATEWAY_RETRY],
      catch: [pipelineFailed],
      next: S.CancelOrder,
    })
    .lambda(S.CancelOrder, {
      comment: "Marks the order CANCELLED with the reason and tells the customer.",
      functionArn: f.cancelOrder,
      timeoutSeconds: t.cancelOrder,
      resultPath: "$.outcome",
      retry,
      catch: [pipelineFailed],
      next: S.OrderCancelled,
    })
    .lambda(S.Notification, {
      comment: "Tells the customer the order shipped. The order is already COMPLETED; a failure here only parks the message.",
      functionArn: f.notification,
      timeoutSeconds: t.notification,
      resultPath: "$.notification",
      retry,
      catch: [{ errors: ANY_ERROR, next: S.KeepFailedNotification, resultPath: "$.notificationError" }],
      next: S.OrderCompleted,
    })
    .sqsSendMessage(S.KeepFailedNotification, {
      comment: "Keeps the failed notification for a later retry.",
      queueUrl: props.notificationDlq.url,
      queueArn: props.notificationDlq.arn,
      messageBody: {
        formatVersion: ORDER_STATE_FORMAT_VERSION,
        type: "OrderCompleted",
        "orderId.$": "$.order.orderId",
        "shipment.$": "$.shipment",
        "error.$": "$.notificationError",
      },
      timeoutSeconds: 30,
      resultPath: null,
      retry: [{ errors: ANY_ERROR, intervalSeconds: 1, maxAttempts: 3, backoffRate: 2, maxDelaySeconds: 8, jitter: "FULL" }],
      catch: [pipelineFailed],
      next: S.OrderCompleted,
    })
    .succeed(S.OrderCompleted)
    .succeed(S.OrderRejected)
    .succeed(S.PaymentFailed)
    .succeed(S.OrderCancelled)
    .fail(S.OrderPipelineFailed, {
      comment: "A step or a compensation failed for a reason no retry fixed; the ExecutionsFailed alarm fires.",
      errorPath: "$.pipelineError.Error",
      causePath: "$.pipelineError.Cause",
    })
    .render(S.OrderPlacement);
}
