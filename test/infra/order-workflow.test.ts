import { expect } from "chai";
import type { ResolvedStatement } from "../../infra/policy";
import { OrderStates, orderWorkflow } from "../../infra/order-workflow";
import { LAMBDA_TRANSIENT_ERRORS, type AslDefinition } from "../../infra/workflow";
import { allStates, expectGolden, expectValidAsl, withStates } from "./asl";
import { ORDER_FUNCTIONS, ORDER_PROPS } from "./golden/sources";

const functions = ORDER_FUNCTIONS;
const dlq = ORDER_PROPS.notificationDlq;

describe("order workflow", () => {
  let definition: AslDefinition;
  let statements: ResolvedStatement[];
  let states: Record<string, any>;
  beforeEach(() => ({ definition, statements, states } = withStates(orderWorkflow(ORDER_PROPS))));

  it("renders as the golden definition and passes asl-validator", () => {
    expectValidAsl(definition);
    expectGolden("order-workflow", definition);
  });

  it("runs the seed's steps in order and ends COMPLETED", () => {
    const path: string[] = [];
    for (let name: string | undefined = definition.StartAt; name; name = states[name].Next) path.push(name);
    expect(path).to.deep.equal(["OrderPlacement", "PaymentProcessing", "InventoryManagement", "Shipping", "Notification", "OrderCompleted"]);
    expect(definition.TimeoutSeconds).to.equal(900);
  });

  it("catches PaymentFailed from PaymentProcessing into HandlePaymentFailure", () => {
    expect(states.PaymentProcessing.Catch[0]).to.deep.equal({ ErrorEquals: ["PaymentFailed"], Next: "HandlePaymentFailure", ResultPath: "$.error" });
    expect(states.HandlePaymentFailure.Next).to.equal(OrderStates.PaymentFailed);
  });

  it("compensates after payment: out of stock refunds, shipping failure releases stock and refunds, both cancel", () => {
    expect(states.InventoryManagement.Catch).to.deep.equal([{ ErrorEquals: ["States.ALL"], Next: "RefundPayment", ResultPath: "$.error" }]);
    expect(states.Shipping.Catch).to.deep.equal([{ ErrorEquals: ["States.ALL"], Next: "ReleaseInventory", ResultPath: "$.error" }]);
    expect([states.ReleaseInventory.Next, states.RefundPayment.Next, states.CancelOrder.Next]).to.deep.equal(["RefundPayment", "CancelOrder", "OrderCancelled"]);
  });

  it("keeps a failed notification on the queue and still ends COMPLETED", () => {
    expect(states.Notification.Catch).to.deep.equal([{ ErrorEquals: ["States.ALL"], Next: "KeepFailedNotification", ResultPath: "$.notificationError" }]);
    expect(states.KeepFailedNotification.Resource).to.equal("arn:aws:states:::sqs:sendMessage");
    expect(states.KeepFailedNotification.Parameters.QueueUrl).to.equal(dlq.url);
    expect(states.KeepFailedNotification.Next).to.equal("OrderCompleted");
  });

  it("gives every Task a timeout and retries on every transient Lambda error with capped, jittered backoff", () => {
    const tasks = allStates(definition).filter(([, s]) => s.Type === "Task");
    expect(tasks).to.have.length(11);
    for (const [name, task] of tasks) {
      expect(task.TimeoutSeconds, name).to.be.a("number").and.greaterThan(0);
      const retry = task.Retry.find((r: any) => r.ErrorEquals.includes("Lambda.ServiceException"));
      if (task.Resource.startsWith("arn:aws:lambda:")) {
        expect(retry.ErrorEquals, name).to.deep.equal([...LAMBDA_TRANSIENT_ERRORS]);
        expect([retry.JitterStrategy, retry.MaxDelaySeconds, retry.BackoffRate], name).to.deep.equal(["FULL", 8, 2]);
      }
    }
    expect(states.PaymentProcessing.TimeoutSeconds).to.equal(15);
  });

  it("retries a gateway that did not answer, then voids the uncertain charge before failing the payment", () => {
    expect(states.PaymentProcessing.Retry[1]).to.deep.equal({ ErrorEquals: ["PaymentGatewayUnavailable"], IntervalSeconds: 2, MaxAttempts: 2, BackoffRate: 2, MaxDelaySeconds: 10, JitterStrategy: "FULL" });
    expect(states.PaymentProcessing.Catch[1]).to.deep.equal({ ErrorEquals: ["States.ALL"], Next: "VoidUncertainCharge", ResultPath: "$.error" });
    expect(states.VoidUncertainCharge.Resource).to.equal(functions.refundPayment);
    expect(states.VoidUncertainCharge.Next).to.equal("HandlePaymentFailure");
  });

  it("retries the gateway the same way on both refunds, the void of an uncertain charge and the compensation", () => {
    for (const name of ["VoidUncertainCharge", "RefundPayment"]) {
      expect(states[name].Retry, name).to.deep.include(states.PaymentProcessing.Retry[1]);
    }
  });

  it("lets the role invoke exactly the nine aliases it calls and send only to its queue", () => {
    expect(statements).to.deep.equal([
      { sid: "InvokeFunctions", actions: ["lambda:InvokeFunction"], resources: Object.values(functions).sort() },
      { sid: "SendToQueues", actions: ["sqs:SendMessage"], resources: [dlq.arn] },
    ]);
  });
});
