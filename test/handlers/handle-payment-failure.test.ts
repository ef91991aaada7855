import { describeOrderOutcome } from "./order-outcomes";
import { handler } from "../../handlers/handle-payment-failure";

describeOrderOutcome({
  title: "HandlePaymentFailure",
  handler,
  status: "PAYMENT_FAILED",
  eventType: "PaymentFailed",
  caught: { errorType: "PaymentFailed", errorMessage: 'payment for order "order-1" declined: card_declined (Your card was declined.)' },
  otherStatus: "CANCELLED",
  logMessage: "order payment failed",
});
