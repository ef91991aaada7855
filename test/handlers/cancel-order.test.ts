import { describeOrderOutcome } from "./order-outcomes";
import { handler } from "../../handlers/cancel-order";

describeOrderOutcome({
  title: "CancelOrder",
  handler,
  status: "CANCELLED",
  eventType: "OrderCancelled",
  caught: { errorType: "OutOfStock", errorMessage: 'sku "SKU-PEN": 1 requested, 0 in stock' },
  otherStatus: "COMPLETED",
  logMessage: "order cancelled",
});
