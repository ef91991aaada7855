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

  it("widens a revision of any number of digits to its family's revisions, and only to that family", () => {
    const { statements } = runTask({ taskDefinitionArn: "arn:aws:ecs:eu-central-1:000000000000:task-definition/export-worker_2:1042" })().render();
    expect(statements.find((s) => s.sid === "RunExportTask")?.resources).to.deep.equal(["arn:aws:ecs:eu-central-1:000000000000:task-definition/export-worker_2:*"]);
  });

  it("refuses a task definition ARN without a revision, which it could not widen to the family's revisions", () => {
    const family = "arn:aws:ecs:eu-central-1:000000000000:task-definition/f";
    // Text before the ARN or after the revision would be silently dropped from the grant: refused as well.
    for (const arn of [family, `${family}:latest`, "f:3", `x${family}:3`, `${family}:3:4`, `${family}:3x`]) {
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

describe("workflow builder: every state kind rendered whole", () => {
  const QUEUE = { queueUrl: "https://sqs.eu-central-1.amazonaws.com/000000000000/q.fifo", queueArn: "arn:aws:sqs:eu-central-1:000000000000:q.fifo" };
  const ECS = {
    clusterArn: "arn:aws:ecs:eu-central-1:000000000000:cluster/c",
    taskDefinitionArn: "arn:aws:ecs:eu-central-1:000000000000:task-definition/f:3",
    passRoleArns: ["arn:aws:iam::000000000000:role/task"],
    containerName: "worker",
    subnetIds: ["subnet-1", "subnet-2"],
    securityGroupIds: ["sg-1"],
    environment: { MODE: "x" },
    heartbeatSeconds: 60,
    timeoutSeconds: 600,
  };

  it("renders a Lambda task's comment, parameters, result selector, discarded result and end; a retry without cap or jitter", () => {
    const { definition } = new Workflow()
      .lambda("A", {
        functionArn: FN_A,
        comment: "calls a",
        timeoutSeconds: 5,
        parameters: { "order.$": "$.order" },
        resultSelector: { "id.$": "$.id" },
        resultPath: null,
        retry: [{ errors: ["Boom"], intervalSeconds: 2, maxAttempts: 3, backoffRate: 1.5 }],
        catch: [{ errors: ["States.ALL"], next: "Failed", resultPath: "$.failure" }],
      })
      .fail("Failed", { comment: "stops", errorPath: "$.failure.Error", causePath: "$.failure.Cause" })
      .render();

    expect(definition).to.deep.equal({
      StartAt: "A",
      States: {
        A: {
          Type: "Task",
          Resource: FN_A,
          Parameters: { "order.$": "$.order" },
          Comment: "calls a",
          TimeoutSeconds: 5,
          ResultSelector: { "id.$": "$.id" },
          ResultPath: null,
          Retry: [{ ErrorEquals: ["Boom"], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 1.5 }],
          Catch: [{ ErrorEquals: ["States.ALL"], Next: "Failed", ResultPath: "$.failure" }],
          End: true,
        },
        Failed: { Type: "Fail", Comment: "stops", ErrorPath: "$.failure.Error", CausePath: "$.failure.Cause" },
      },
    });
  });

  it("renders a Fargate task with its network, environment, extra parameters and the token integration", () => {
    const { definition } = new Workflow()
      .ecsRunTaskWithToken("Run", { ...ECS, assignPublicIp: true, parameters: { PropagateTags: "TASK_DEFINITION" }, resultPath: "$.result", next: "Done" })
      .succeed("Done", { comment: "ok", outputPath: "$.result" })
      .render();

    expect(definition.States).to.deep.equal({
      Run: {
        Type: "Task",
        Resource: "arn:aws:states:::ecs:runTask.waitForTaskToken",
        Parameters: {
          Cluster: ECS.clusterArn,
          TaskDefinition: ECS.taskDefinitionArn,
          LaunchType: "FARGATE",
          NetworkConfiguration: { AwsvpcConfiguration: { Subnets: ["subnet-1", "subnet-2"], SecurityGroups: ["sg-1"], AssignPublicIp: "ENABLED" } },
          Overrides: { ContainerOverrides: [{ Name: "worker", Environment: [{ Name: "MODE", Value: "x" }] }] },
          PropagateTags: "TASK_DEFINITION",
        },
        HeartbeatSeconds: 60,
        TimeoutSeconds: 600,
        ResultPath: "$.result",
        Next: "Done",
      },
      Done: { Type: "Succeed", Comment: "ok", OutputPath: "$.result" },
    });
  });

  it("sends to SQS through the service integration, with the message group for FIFO queues, and grants only SendMessage on that queue", () => {
    const { definition, statements } = new Workflow()
      .sqsSendMessage("Keep", { ...QUEUE, timeoutSeconds: 10, messageBody: { "order.$": "$.order" }, messageGroupIdPath: "$.order.orderId", next: "Again" })
      .sqsSendMessage("Again", { ...QUEUE, timeoutSeconds: 10, messageBody: { note: "plain" } })
      .render();

    expect(definition.States).to.deep.equal({
      Keep: {
        Type: "Task",
        Resource: "arn:aws:states:::sqs:sendMessage",
        Parameters: { QueueUrl: QUEUE.queueUrl, MessageBody: { "order.$": "$.order" }, "MessageGroupId.$": "$.order.orderId" },
        TimeoutSeconds: 10,
        Next: "Again",
      },
      Again: {
        Type: "Task",
        Resource: "arn:aws:states:::sqs:sendMessage",
        Parameters: { QueueUrl: QUEUE.queueUrl, MessageBody: { note: "plain" } },
        TimeoutSeconds: 10,
        End: true,
      },
    });
    expect(statements).to.deep.equal([{ sid: "SendToQueues", actions: ["sqs:SendMessage"], resources: [QUEUE.queueArn] }]);
  });

  it("renders Choice rules in order with their targets and the default, and Pass states with and without their options", () => {
    const { definition } = new Workflow()
      .choice("Route", {
        comment: "by format",
        choices: [
          { condition: { Variable: "$.format", StringEquals: "svg" }, next: "Svg" },
          { condition: { Variable: "$.format", StringEquals: "pdf" }, next: "Pdf" },
        ],
        otherwise: "Other",
      })
      .pass("Svg", { comment: "svg", parameters: { "format.$": "$.format" }, resultPath: "$.chosen", next: "Other" })
      .pass("Pdf", { resultPath: null, next: "Other" })
      .pass("Other", {})
      .render();

    expect(definition.States).to.deep.equal({
      Route: {
        Type: "Choice",
        Comment: "by format",
        Choices: [
          { Variable: "$.format", StringEquals: "svg", Next: "Svg" },
          { Variable: "$.format", StringEquals: "pdf", Next: "Pdf" },
        ],
        Default: "Other",
      },
      Svg: { Type: "Pass", Comment: "svg", Parameters: { "format.$": "$.format" }, ResultPath: "$.chosen", Next: "Other" },
      Pdf: { Type: "Pass", ResultPath: null, Next: "Other" },
      Other: { Type: "Pass", End: true },
    });
  });

  it("refuses a Choice without rules", () => {
    expect(() => new Workflow().choice("Route", { choices: [], otherwise: "Other" })).to.throw('Choice "Route" needs at least one rule');
  });

  it("renders an inline Map with its iteration's states, item selector, result path, retry and catch", () => {
    const inner = new Workflow().lambda("Part", { functionArn: FN_B, timeoutSeconds: 5 });
    const { definition } = new Workflow()
      .map("Parts", {
        itemsPath: "$.chunks",
        itemSelector: { "chunk.$": "$$.Map.Item.Value" },
        maxConcurrency: 0,
        processor: inner,
        resultPath: "$.parts",
        retry: [{ errors: ["States.ALL"], intervalSeconds: 1, maxAttempts: 2, backoffRate: 2, jitter: "NONE" }],
        catch: [{ errors: ["States.ALL"], next: "Failed" }],
        next: "Done",
      })
      .succeed("Done")
      .fail("Failed", { error: "Parts" })
      .render();

    expect(definition.States.Parts).to.deep.equal({
      Type: "Map",
      ItemsPath: "$.chunks",
      ItemSelector: { "chunk.$": "$$.Map.Item.Value" },
      MaxConcurrency: 0,
      ItemProcessor: { ProcessorConfig: { Mode: "INLINE" }, StartAt: "Part", States: { Part: { Type: "Task", Resource: FN_B, TimeoutSeconds: 5, End: true } } },
      ResultPath: "$.parts",
      Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2, JitterStrategy: "NONE" }],
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "Failed", ResultPath: "$.error" }],
      Next: "Done",
    });
  });

  it("renders a Map's discarded result and leaves out what is not set", () => {
    const { definition } = new Workflow()
      .map("Parts", { itemsPath: "$.chunks", maxConcurrency: 2, processor: new Workflow().succeed("Part"), resultPath: null })
      .render();

    expect(definition.States.Parts).to.deep.equal({
      Type: "Map",
      ItemsPath: "$.chunks",
      MaxConcurrency: 2,
      ItemProcessor: { ProcessorConfig: { Mode: "INLINE" }, StartAt: "Part", States: { Part: { Type: "Succeed" } } },
      ResultPath: null,
      End: true,
    });
  });

  it("leaves ResultPath out of a Map that does not set one", () => {
    const { definition } = new Workflow().map("Parts", { itemsPath: "$.chunks", maxConcurrency: 2, processor: new Workflow().succeed("Part") }).render();

    expect(definition.States.Parts).to.not.have.property("ResultPath");
  });

  it("refuses a Map concurrency that is negative or not a whole number", () => {
    const processor = new Workflow().succeed("Part");
    for (const maxConcurrency of [-1, 1.5]) {
      expect(() => new Workflow().map("Parts", { itemsPath: "$.chunks", maxConcurrency, processor }), String(maxConcurrency)).to.throw(
        'Map "Parts": `maxConcurrency` must be an integer ≥ 0',
      );
    }
  });

  it("renders a Fail state given no options as its type alone", () => {
    expect(new Workflow().fail("Stop", {}).render().definition).to.deep.equal({ StartAt: "Stop", States: { Stop: { Type: "Fail" } } });
  });
});

describe("workflow builder: the graph", () => {
  it("starts at the first state added unless told otherwise, and lists the states in the order added", () => {
    const wf = new Workflow().succeed("First").succeed("Second");
    expect(wf.stateNames()).to.deep.equal(["First", "Second"]);
    expect(() => wf.render()).to.throw('states not reachable from "First": Second');
    expect(new Workflow().succeed("Only").render().definition.StartAt).to.equal("Only");
  });

  it("counts states reached through a Choice rule, a Choice default or a Catch as reachable, loops included", () => {
    const { definition } = new Workflow()
      .pass("Wait", { next: "Check" })
      .choice("Check", { choices: [{ condition: { Variable: "$.done", BooleanEquals: false }, next: "Wait" }], otherwise: "Work" })
      .lambda("Work", { functionArn: FN_A, timeoutSeconds: 5, catch: [{ errors: ["States.ALL"], next: "Failed" }], next: "Done" })
      .succeed("Done")
      .fail("Failed", {})
      .render("Wait");

    expect(Object.keys(definition.States)).to.deep.equal(["Wait", "Check", "Work", "Done", "Failed"]);
  });

  it("names every state nothing reaches, and a Choice target that does not exist", () => {
    expect(() => new Workflow().succeed("A").succeed("B").succeed("C").render("A")).to.throw('states not reachable from "A": B, C');
    expect(() => new Workflow().choice("Check", { choices: [{ condition: {}, next: "Nowhere" }], otherwise: "Check" }).render()).to.throw(
      'state "Check" goes to "Nowhere", which is not defined',
    );
    expect(() => new Workflow().lambda("A", { functionArn: FN_A, timeoutSeconds: 5, catch: [{ errors: ["States.ALL"], next: "Gone" }] }).render()).to.throw(
      'state "A" goes to "Gone", which is not defined',
    );
  });

  it("refuses an empty workflow and a start state that does not exist", () => {
    expect(() => new Workflow().render()).to.throw("a workflow needs at least one state");
    expect(() => new Workflow().succeed("A").render("B")).to.throw('StartAt "B" is not a state');
  });

  it("accepts state names of 1 to 80 characters", () => {
    expect(new Workflow().succeed("x".repeat(80)).stateNames()).to.deep.equal(["x".repeat(80)]);
    expect(() => new Workflow().succeed("")).to.throw('state name "" must be 1–80 characters');
  });

  it("refuses a Task without a timeout", () => {
    const props = { functionArn: FN_A } as unknown as Parameters<Workflow["lambda"]>[1];
    expect(() => new Workflow().lambda("A", props)).to.throw('Task "A" needs `timeoutSeconds`');
  });
});

describe("mergeStatements", () => {
  it("unions the resources of statements with one sid, sorted and without repeats, keeping the others apart", () => {
    expect(
      mergeStatements([
        { sid: "Invoke", actions: ["lambda:InvokeFunction"], resources: [FN_B] },
        { sid: "Send", actions: ["sqs:SendMessage"], resources: ["arn:aws:sqs:eu-central-1:000000000000:q"] },
        { sid: "Invoke", actions: ["lambda:InvokeFunction"], resources: [FN_A, FN_B] },
      ]),
    ).to.deep.equal([
      { sid: "Invoke", actions: ["lambda:InvokeFunction"], resources: [FN_A, FN_B] },
      { sid: "Send", actions: ["sqs:SendMessage"], resources: ["arn:aws:sqs:eu-central-1:000000000000:q"] },
    ]);
  });

  it("refuses to merge statements that share a sid but differ in condition", () => {
    expect(() =>
      mergeStatements([
        { sid: "Pass", actions: ["iam:PassRole"], resources: ["arn:x"], condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } },
        { sid: "Pass", actions: ["iam:PassRole"], resources: ["arn:y"] },
      ]),
    ).to.throw('statements with sid "Pass" differ in actions or condition');
  });
});
