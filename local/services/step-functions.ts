import type { Principal } from "../iam/principals";
import { detailsMember, type HistoryEvent } from "../runtimes/step-functions/history";
import type { ExecutionRecord, ExecutionStatus, SfnRuntime, StateMachineSpec } from "../runtimes/step-functions/runtime";
import { Access, ServiceError } from "./errors";
import { epochSeconds, page } from "./pagination";

const STATUSES: readonly ExecutionStatus[] = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];

/**
 * The Step Functions API (AWS JSON 1.0, `AWSStepFunctions.<Operation>`) over the local runtime, as the AWS CLI and the
 * SDKs call it: state machines (List, Describe, DescribeForExecution, ListTagsForResource), executions (Start,
 * StartSync, Describe, List with status filter and pages, Stop, GetExecutionHistory) and task tokens
 * (SendTaskSuccess / Failure / Heartbeat). Shapes, defaults and error codes follow the API reference and histories
 * recorded on AWS (see runtimes/step-functions/history.ts).
 */
export class StepFunctionsApi {
  constructor(private readonly sfn: SfnRuntime) {}

  /** The IAM action and resource of a call. */
  describe(operation: string, input: Record<string, any>): Access[] {
    const action = `states:${operation}`;
    switch (operation) {
      case "SendTaskSuccess":
      case "SendTaskFailure":
      case "SendTaskHeartbeat":
      case "ListStateMachines":
        // No resource type in IAM for these (task tokens; the account's list): evaluated against "*".
        return [{ action, resource: "*" }];
      case "StartExecution":
      case "StartSyncExecution":
      case "DescribeStateMachine":
      case "ListExecutions":
        return [{ action, resource: String(input.stateMachineArn ?? "*") }];
      case "ListTagsForResource":
        return [{ action, resource: String(input.resourceArn ?? "*") }];
      default:
        return [{ action, resource: String(input.executionArn ?? "*") }];
    }
  }

  async handle(operation: string, input: Record<string, any>, _principal: Principal): Promise<unknown> {
    switch (operation) {
      case "ListStateMachines": {
        const machines = this.sfn.stateMachines().sort((a, b) => a.name.localeCompare(b.name));
        const { items, nextToken } = page(machines, { maxResults: input.maxResults, nextToken: input.nextToken, scope: "ListStateMachines", defaultSize: 100, maxSize: 1000 });
        return { stateMachines: items.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: m.type, creationDate: epochSeconds(m.creationDate ?? 0) })), ...(nextToken ? { nextToken } : {}) };
      }
      case "DescribeStateMachine": {
        const machine = this.requireStateMachine(input.stateMachineArn);
        return { ...this.machineView(machine), status: "ACTIVE", type: machine.type, creationDate: epochSeconds(machine.creationDate ?? 0) };
      }
      case "DescribeStateMachineForExecution": {
        const execution = this.requireExecution(input.executionArn);
        return { ...this.machineView(this.requireStateMachine(execution.stateMachineArn)), updateDate: epochSeconds(this.sfn.find(execution.stateMachineArn)?.creationDate ?? 0) };
      }
      case "ListTagsForResource": {
        const machine = this.sfn.find(String(input.resourceArn ?? ""));
        if (!machine || machine.arn !== input.resourceArn) throw new ServiceError("ResourceNotFound", `Resource not found: '${input.resourceArn}'`, 400);
        return { tags: Object.entries(machine.tags ?? {}).map(([key, value]) => ({ key, value })) };
      }
      case "StartExecution": {
        const inputText = executionInput(input.input);
        const execution = this.sfn.startExecution(this.requireStateMachine(input.stateMachineArn).arn, JSON.parse(inputText), input.name, inputText);
        return { executionArn: execution.executionArn, startDate: epochSeconds(execution.startDate) };
      }
      case "StartSyncExecution": {
        const inputText = executionInput(input.input);
        const execution = await this.sfn.startExecution(this.requireStateMachine(input.stateMachineArn).arn, JSON.parse(inputText), input.name, inputText).done;
        return { ...this.executionView(execution), billingDetails: { billedDurationInMilliseconds: (execution.stopDate ?? 0) - execution.startDate } };
      }
      case "DescribeExecution":
        return this.executionView(this.requireExecution(input.executionArn));
      case "ListExecutions": {
        const machine = this.requireStateMachine(input.stateMachineArn);
        if (input.statusFilter !== undefined && !STATUSES.includes(input.statusFilter)) {
          throw new ServiceError("ValidationException", `1 validation error detected: Value '${input.statusFilter}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]`, 400);
        }
        // Newest first, as Step Functions lists them.
        const executions = [...this.sfn.executions.values()].filter((e) => e.stateMachineArn === machine.arn && (!input.statusFilter || e.status === input.statusFilter)).reverse();
        const { items, nextToken } = page(executions, { maxResults: input.maxResults, nextToken: input.nextToken, scope: `ListExecutions ${machine.arn} ${input.statusFilter ?? ""}`, defaultSize: 100, maxSize: 1000 });
        return { executions: items.map(executionListItem), ...(nextToken ? { nextToken } : {}) };
      }
      case "StopExecution": {
        const execution = this.sfn.stopExecution(this.requireExecution(input.executionArn).executionArn, input.error, input.cause);
        await execution.done;
        return { stopDate: epochSeconds(execution.stopDate ?? Date.now()) };
      }
      case "GetExecutionHistory": {
        const execution = this.requireExecution(input.executionArn);
        const events = input.reverseOrder ? [...execution.history.events].reverse() : execution.history.events;
        const { items, nextToken } = page(events, {
          maxResults: input.maxResults,
          nextToken: input.nextToken,
          scope: `GetExecutionHistory ${execution.executionArn} ${!!input.reverseOrder}`,
          defaultSize: 100,
          maxSize: 1000,
        });
        return { events: items.map((e) => historyEventView(e, input.includeExecutionData !== false)), ...(nextToken ? { nextToken } : {}) };
      }
      case "SendTaskSuccess":
        this.sfn.sendTaskSuccess(input.taskToken, input.output);
        return {};
      case "SendTaskFailure":
        this.sfn.sendTaskFailure(input.taskToken, input.error, input.cause);
        return {};
      case "SendTaskHeartbeat":
        this.sfn.sendTaskHeartbeat(input.taskToken);
        return {};
      default:
        throw new ServiceError("UnknownOperationException", `The local Step Functions does not implement ${operation}`, 400);
    }
  }

  private machineView(machine: StateMachineSpec): Record<string, unknown> {
    const logging = machine.loggingConfiguration;
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      definition: JSON.stringify(machine.definition),
      roleArn: machine.roleArn,
      loggingConfiguration: {
        level: logging?.level ?? "OFF",
        includeExecutionData: !!logging?.includeExecutionData,
        ...(logging?.logDestination ? { destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: logging.logDestination } }] } : {}),
      },
      tracingConfiguration: { enabled: !!machine.tracingEnabled },
    };
  }

  private executionView(e: ExecutionRecord): Record<string, unknown> {
    return {
      ...executionListItem(e),
      input: e.inputText,
      inputDetails: { included: true },
      ...(e.status === "SUCCEEDED" ? { output: JSON.stringify(e.output ?? null), outputDetails: { included: true } } : {}),
      ...(e.error ? { error: e.error.error, ...(e.error.cause !== null ? { cause: e.error.cause } : {}) } : {}),
      redriveStatus: "NOT_REDRIVABLE",
      redriveStatusReason: e.status === "RUNNING" || e.status === "SUCCEEDED" ? `Execution is ${e.status} and cannot be redriven` : "The local cloud does not redrive executions",
    };
  }

  private requireStateMachine(arn: unknown): StateMachineSpec {
    requireArn(arn);
    const machine = this.sfn.find(String(arn));
    if (!machine || machine.arn !== arn) throw new ServiceError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`, 400);
    return machine;
  }

  private requireExecution(arn: unknown): ExecutionRecord {
    requireArn(arn);
    return this.sfn.requireExecution(arn);
  }
}

/** An execution as ListExecutions lists it (DescribeExecution adds its data). */
function executionListItem(e: ExecutionRecord): Record<string, unknown> {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: epochSeconds(e.startDate),
    ...(e.stopDate ? { stopDate: epochSeconds(e.stopDate) } : {}),
    redriveCount: 0,
  };
}

function requireArn(arn: unknown): void {
  if (typeof arn !== "string" || !arn.startsWith("arn:")) throw new ServiceError("InvalidArn", `Invalid Arn: 'Invalid ARN prefix: ${arn}'`, 400);
}

/** StartExecution's `input`: JSON text, "{}" when absent; an empty or non-JSON text is InvalidExecutionInput. */
function executionInput(input: unknown): string {
  if (input === undefined || input === null) return "{}";
  const text = String(input);
  if (text.trim() === "") throw new ServiceError("InvalidExecutionInput", "Invalid State Machine Execution Input: 'Invalid execution input.'", 400);
  try {
    JSON.parse(text);
  } catch (err) {
    throw new ServiceError("InvalidExecutionInput", `Invalid State Machine Execution Input: '${(err as Error).message}'`, 400);
  }
  return text;
}

/** Members that hold the execution's data: left out when GetExecutionHistory is asked for includeExecutionData=false. */
const EXECUTION_DATA = new Set(["input", "output", "parameters"]);

function historyEventView(e: HistoryEvent, includeData: boolean): Record<string, unknown> {
  const details = e.details && !includeData ? Object.fromEntries(Object.entries(e.details).filter(([k]) => !EXECUTION_DATA.has(k))) : e.details;
  return { timestamp: epochSeconds(e.timestamp), type: e.type, id: e.id, previousEventId: e.previousEventId, ...(details ? { [detailsMember(e.type)]: details } : {}) };
}
