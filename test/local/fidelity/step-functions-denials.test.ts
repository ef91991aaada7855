import { expect } from "chai";
import type { LocalCloud } from "../../../local/cloud";
import { DEFAULT_LAMBDA_RETRY } from "../../../infra/workflow";
import { expectedDenials, sharedCloud, sharedMini } from "../support";

/**
 * A call a state machine makes with its own role and is refused surfaces under the integration's error name, with the
 * service's error code in the cause — `Lambda.AWSLambdaException` (AccessDeniedException), `ECS.AccessDeniedException`,
 * `SQS.AmazonSQSException` (AccessDenied) — and is therefore retried by a Retry naming it, as on AWS. Sources: Step
 * Functions developer guide, "Handling errors in Step Functions workflows" (Lambda.AWSLambdaException among the
 * Lambda service exceptions to retry) and the service integration pages for Lambda, ECS and SQS.
 */
describe("fidelity: a state machine's denied calls carry the integration's error names", function () {
  this.timeout(120_000);

  describe("mini program", () => {
    let cloud: LocalCloud;
    const flow = () => cloud.principals.all().find((p) => p.kind === "state-machine" && p.name === "mini-flow")!;
    const runDenied = async (action: string, input: Record<string, unknown>, name: string) => {
      const restore = cloud.iam.revoke(flow(), action);
      try {
        return await cloud.run(cloud.output("stateMachineArn") as string, input, name);
      } finally {
        restore();
      }
    };

    before(async () => {
      cloud = await sharedMini();
    });

    it("fails a denied lambda:InvokeFunction with Lambda.AWSLambdaException and AccessDeniedException in the cause", async () => {
      const e = await runDenied("lambda:InvokeFunction", { scenario: "echo", name: "Ada" }, "fidelity-denied-invoke");
      expect(e.status).to.equal("FAILED");
      expect(e.error?.error).to.equal("Lambda.AWSLambdaException");
      expect(e.error?.cause).to.match(/^User: arn:aws:sts::000000000000:assumed-role\/.+ is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:.+:function:mini-echo:live .*\(Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; /);
    });

    it("fails a denied sqs:SendMessage with SQS.AmazonSQSException, sending nothing", async () => {
      const before = cloud.sqs.messages(cloud.output("queueUrl") as string).length;
      const e = await runDenied("sqs:SendMessage", { scenario: "queue", id: "fidelity-denied" }, "fidelity-denied-sqs");
      expect([e.status, e.error?.error]).to.deep.equal(["FAILED", "SQS.AmazonSQSException"]);
      expect(e.error?.cause).to.contain("Error Code: AccessDenied;");
      expect(cloud.sqs.messages(cloud.output("queueUrl") as string)).to.have.length(before);
    });

    it("catches a denied ecs:RunTask, and a denied iam:PassRole of the task's roles, as ECS.AccessDeniedException", async () => {
      const runTask = await runDenied("ecs:RunTask", { scenario: "ecs", mode: "succeed", job: {} }, "fidelity-denied-runtask");
      const passRole = await runDenied("iam:PassRole", { scenario: "ecs", mode: "succeed", job: {} }, "fidelity-denied-passrole");
      const caught = [runTask, passRole].map((e) => (e.output as { error: { Error: string; Cause: string } }).error);
      expect(caught.map((c) => c.Error)).to.deep.equal(["ECS.AccessDeniedException", "ECS.AccessDeniedException"]);
      expect(caught[0].Cause).to.contain("ecs:RunTask").and.contain("Service: AmazonECS");
      expect(caught[1].Cause).to.contain("iam:PassRole");
    });
  });

  describe("the real program (dev stack)", () => {
    it("retries OrderPlacement when its invoke is denied, as the Lambda retry rule names Lambda.AWSLambdaException, then fails the pipeline", async () => {
      const cloud = await sharedCloud("fidelity-sfn-denials");
      const orders = cloud.principals.all().find((p) => p.kind === "state-machine" && p.name.endsWith("-orders"))!;
      expectedDenials.push({ principal: `state-machine:${orders.name}`, action: "lambda:InvokeFunction" });
      const before = cloud.principals.accessLog.length;
      const restore = cloud.iam.revoke(orders, "lambda:InvokeFunction");
      let run;
      try {
        run = await cloud.run(cloud.output("orderStateMachineArn") as string, { formatVersion: 1, orderId: "fidelity-denied" }, "fidelity-denied-invoke");
      } finally {
        restore();
      }
      const denied = cloud.principals.accessLog.slice(before).filter((e) => e.principal === `state-machine:${orders.name}` && !e.allowed);
      expect(denied.map((e) => e.action)).to.deep.equal(Array(DEFAULT_LAMBDA_RETRY.maxAttempts + 1).fill("lambda:InvokeFunction"));
      expect(run.path).to.deep.equal([...Array(DEFAULT_LAMBDA_RETRY.maxAttempts + 1).fill("OrderPlacement"), "OrderPipelineFailed"]);
      expect(run.status).to.equal("FAILED");
    });
  });
});
