import { expect } from "chai";
import { DEFAULT_LAMBDA_RETRY, EcsTaskProps, mergeStatements, Workflow } from "../../infra/workflow";

const FN_A = "arn:aws:lambda:eu-central-1:000000000000:function:a:live";
const FN_B = "arn:aws:lambda:eu-central-1:000000000000:function:b:live";

/** A Fargate task state that passes validation, for tests that change one property. */
const runTask = (overrides: Partial<EcsTaskProps>) => () =>
  new Workflow().ecsRunTaskWithToken("Run", {
    clusterArn: "arn:aws:ecs:eu-central-1:000000000000:cluster/c",
    taskDefinitionArn: "arn:aws:ecs:eu-central-1:000000000000:task-definition/f:3",
    passRoleArns: [],
    containerName: "w",
    subnetIds: [],
    securityGroupIds: [],
    assignPublicIp: true,
    environment: {},
    heartbeatSeconds: 60,
    timeoutSeconds: 600,
    ...overrides,
  });

describe("workflow builder", () => {
  it("renders a Lambda task with retry, catch and timeout as ASL", () => {
    const { definition } = new Workflow({ comment: "c", timeoutSeconds: 60 })
      .lambda("A", { functionArn: FN_A, timeoutSeconds: 5, resultPath: "$.a", retry: [DEFAULT_LAMBDA_RETRY], catch: [{ errors: ["Boom"], next: "Failed" }], next: "Done" })
      .succeed("Done")
      .fail("Failed", { error: "X", cause: "y" })
      .render("A");
    expect(definition).to.deep.equal({
      Comment: "c",
      StartAt: "A",
      TimeoutSeconds: 60,
      States: {
        A: {
          Type: "Task",
          Resource: FN_A,
          TimeoutSeconds: 5,
          ResultPath: "$.a",
          Retry: [
            {
              ErrorEquals: [
                "Lambda.ServiceException",
                "Lambda.AWSLambdaException",
                "Lambda.SdkClientException",
                "Lambda.ClientExecutionTimeoutException",
                "Lambda.TooManyRequestsException",
              ],
              IntervalSeconds: 1,
              MaxAttempts: 4,
              BackoffRate: 2,
              MaxDelaySeconds: 8,
              JitterStrategy: "FULL",
            },
          ],
          Catch: [{ ErrorEquals: ["Boom"], Next: "Failed", ResultPath: "$.error" }],
          Next: "Done",
        },
        Done: { Type: "Succeed" },
        Failed: { Type: "Fail", Error: "X", Cause: "y" },
      },
    });
  });

  it("collects one invoke statement listing exactly the functions its states call, nested Map states included", () => {
    const inner = new Workflow().lambda("B", { functionArn: FN_B, timeoutSeconds: 5 });
    const { statements } = new Workflow()
      .lambda("A1", { functionArn: FN_A, timeoutSeconds: 5, next: "A2" })
      .lambda("A2", { functionArn: FN_A, timeoutSeconds: 5, next: "M" })
      .map("M", { itemsPath: "$.items", maxConcurrency: 2, processor: inner })
      .render("A1");
    expect(statements).to.deep.equal([{ sid: "InvokeFunctions", actions: ["lambda:InvokeFunction"], resources: [FN_A, FN_B] }]);
  });

  it("grants RunTask on every revision of the task definition's family within its cluster and PassRole on exactly the task's roles", () => {
    const { statements, definition } = new Workflow()
      .ecsRunTaskWithToken("Run", {
        clusterArn: "arn:aws:ecs:eu-central-1:000000000000:cluster/c",
        taskDefinitionArn: "arn:aws:ecs:eu-central-1:000000000000:task-definition/f:3",
        passRoleArns: ["arn:aws:iam::000000000000:role/task", "arn:aws:iam::000000000000:role/exec"],
        containerName: "worker",
        subnetIds: ["subnet-1"],
        securityGroupIds: ["sg-1"],
        assignPublicIp: false,
        environment: { TOKEN: { path: "$$.Task.Token" }, MODE: "x" },
        heartbeatSeconds: 60,
        timeoutSeconds: 600,
      })
      .render();
    expect(statements).to.deep.equal([
      {
        sid: "RunExportTask",
        actions: ["ecs:RunTask"],
        resources: ["arn:aws:ecs:eu-central-1:000000000000:task-definition/f:*"],
        condition: { ArnEquals: { "ecs:cluster": "arn:aws:ecs:eu-central-1:000000000000:cluster/c" } },
      },
      {
        sid: "PassExportTaskRoles",
        actions: ["iam:PassRole"],
        resources: ["arn:aws:iam::000000000000:role/task", "arn:aws:iam::000000000000:role/exec"],
        condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      },
    ]);
    const run = definition.States.Run as Record<string, any>;
    expect(run.Resource).to.equal("arn:aws:states:::ecs:runTask.waitForTaskToken");
    // The state itself runs the revision this deploy registered.
    expect(run.Parameters.TaskDefinition).to.equal("arn:aws:ecs:eu-central-1:000000000000:task-definition/f:3");
    expect(run.HeartbeatSeconds).to.equal(60);
    expect(run.Parameters.Overrides.ContainerOverrides[0]).to.deep.equal({
      Name: "worker",
      Environment: [{ Name: "TOKEN", "Value.$": "$$.Task.Token" }, { Name: "MODE", Value: "x" }],
    });
    expect(run.Parameters.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).to.equal("DISABLED");
  });

  it("refuses a task definition ARN without a revision, which it could not widen to the family's revisions", () => {
    for (const arn of ["arn:aws:ecs:eu-central-1:000000000000:task-definition/f", "arn:aws:ecs:eu-central-1:000000000000:task-definition/f:latest", "f:3"]) {
      expect(runTask({ taskDefinitionArn: arn }), arn).to.throw(`Task "Run": \`taskDefinitionArn\` "${arn}" must name a revision (arn:…:task-definition/<family>:<revision>)`);
    }
  });

  it("refuses a transition to a state that does not exist, naming both", () => {
    expect(() => new Workflow().lambda("A", { functionArn: FN_A, timeoutSeconds: 5, next: "Nowhere" }).render()).to.throw('state "A" goes to "Nowhere", which is not defined');
  });

  it("refuses a state nothing reaches", () => {
    expect(() => new Workflow().succeed("A").succeed("Orphan").render("A")).to.throw('states not reachable from "A": Orphan');
  });

  it("refuses a state name defined twice and names over 80 characters", () => {
    expect(() => new Workflow().succeed("A").succeed("A")).to.throw('state "A" is defined twice');
    expect(() => new Workflow().succeed("x".repeat(81))).to.throw("must be 1–80 characters");
  });

  it("refuses a heartbeat that is not below the task timeout", () => {
    expect(runTask({ heartbeatSeconds: 600, timeoutSeconds: 600 })).to.throw('Task "Run": `heartbeatSeconds` must be below `timeoutSeconds`');
  });

  it("refuses to merge statements that share a sid but differ in actions", () => {
    expect(() =>
      mergeStatements([
        { sid: "S", actions: ["a:B"], resources: ["arn:x"] },
        { sid: "S", actions: ["a:C"], resources: ["arn:y"] },
      ]),
    ).to.throw('statements with sid "S" differ');
  });
});
