/**
 * `npm run plan [-- --stack prod] [-- --json]`: runs the program under mocks and prints the resource plan offline,
 * grouped by component — what reviewers without cloud credentials read in a pull request.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { GraphResource, programGraph, ProgramGraph } from "./program-graph";

export interface FunctionPlan {
  readonly component: string;
  readonly name: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly runtime: string;
  readonly bundleBytes: number;
  readonly reservedConcurrency?: number;
  readonly actions: string[];
}

export interface StateMachinePlan {
  readonly component: string;
  readonly name: string;
  readonly states: string[];
  readonly actions: string[];
}

export interface Plan {
  readonly stack: string;
  readonly resourceCount: number;
  readonly countsByType: Record<string, number>;
  readonly functions: FunctionPlan[];
  readonly stateMachines: StateMachinePlan[];
  readonly taskDefinitions: { name: string; cpu: string; memory: string; actions: string[] }[];
}

/** The component a resource belongs to: its logical name's first segment (children are named `${component}-…`). */
function componentOf(r: GraphResource): string {
  return r.name.split("-")[0];
}

function roleActions(graph: ProgramGraph, roleArn: string): string[] {
  const role = graph.resources.find((r) => r.type === "aws:iam/role:Role" && r.state.arn === roleArn);
  if (!role) return [];
  const policies = graph.resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs.role === role.state.name);
  const actions = policies.flatMap((p) => JSON.parse(p.inputs.policy).Statement.flatMap((s: { Action: string[] }) => s.Action));
  return [...new Set<string>(actions)].sort();
}

function stateNames(definition: { States: Record<string, any> }): string[] {
  return Object.entries(definition.States).flatMap(([name, state]) => [name, ...(state.ItemProcessor ? stateNames(state.ItemProcessor).map((n) => `  ${n}`) : [])]);
}

export function planOf(graph: ProgramGraph): Plan {
  const countsByType: Record<string, number> = {};
  for (const r of graph.resources) if (r.custom) countsByType[r.type] = (countsByType[r.type] ?? 0) + 1;
  const functions = graph.resources
    .filter((r) => r.type === "aws:lambda/function:Function")
    .map((r) => {
      const bundle = path.join(String(r.inputs.code?.path ?? ""), "index.mjs");
      return {
        component: componentOf(r),
        name: r.state.name,
        memoryMb: r.inputs.memorySize,
        timeoutSeconds: r.inputs.timeout,
        runtime: r.inputs.runtime,
        bundleBytes: fs.existsSync(bundle) ? fs.statSync(bundle).size : 0,
        ...(r.inputs.reservedConcurrentExecutions > 0 ? { reservedConcurrency: r.inputs.reservedConcurrentExecutions } : {}),
        actions: roleActions(graph, r.inputs.role),
      };
    });
  const stateMachines = graph.resources
    .filter((r) => r.type === "aws:sfn/stateMachine:StateMachine")
    .map((r) => ({ component: componentOf(r), name: r.state.name, states: stateNames(JSON.parse(r.inputs.definition)), actions: roleActions(graph, r.inputs.roleArn) }));
  const taskDefinitions = graph.resources
    .filter((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition")
    .map((r) => ({ name: r.state.family, cpu: r.inputs.cpu, memory: r.inputs.memory, actions: roleActions(graph, r.inputs.taskRoleArn) }));
  return { stack: graph.stack, resourceCount: graph.resources.filter((r) => r.custom).length, countsByType, functions, stateMachines, taskDefinitions };
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

export function renderPlan(plan: Plan): string {
  const lines: string[] = [`Plan for stack "${plan.stack}": ${plan.resourceCount} resources (offline, under Pulumi mocks)`, ""];
  const components = [...new Set([...plan.functions.map((f) => f.component), ...plan.stateMachines.map((s) => s.component)])];
  for (const component of components) {
    lines.push(`## ${component}`);
    const fns = plan.functions.filter((f) => f.component === component);
    if (fns.length) {
      const width = Math.max(...fns.map((f) => f.name.length));
      lines.push(`  ${"function".padEnd(width)}  memory  timeout  runtime     bundle    role actions`);
      for (const f of fns) {
        const own = f.actions.filter((a) => !a.startsWith("logs:") && !a.startsWith("xray:"));
        lines.push(
          `  ${f.name.padEnd(width)}  ${`${f.memoryMb} MB`.padStart(7)} ${`${f.timeoutSeconds} s`.padStart(7)}  ${f.runtime.padEnd(10)} ${kib(f.bundleBytes).padStart(8)}  ${own.join(", ") || "(logs and traces only)"}${f.reservedConcurrency ? `  [reserved ${f.reservedConcurrency}]` : ""}`,
        );
      }
    }
    for (const sm of plan.stateMachines.filter((s) => s.component === component)) {
      lines.push("", `  state machine ${sm.name} (${sm.actions.filter((a) => !a.startsWith("logs:") && !a.startsWith("xray:")).join(", ")})`);
      for (const s of sm.states) lines.push(`    ${s}`);
    }
    lines.push("");
  }
  for (const td of plan.taskDefinitions) lines.push(`## Fargate task ${td.name}: ${td.cpu} CPU units, ${td.memory} MB; task role: ${td.actions.join(", ")}`, "");
  lines.push("Resources by type:");
  for (const [type, count] of Object.entries(plan.countsByType).sort()) lines.push(`  ${String(count).padStart(3)}  ${type}`);
  return lines.join("\n");
}

async function main(argv: string[]): Promise<void> {
  const stackAt = argv.indexOf("--stack");
  const stack = stackAt >= 0 ? argv[stackAt + 1] : "dev";
  if (!stack || stack.startsWith("--")) throw new Error("--stack needs a stack name, e.g. --stack prod");
  const plan = planOf(await programGraph(stack));
  process.stdout.write(argv.includes("--json") ? `${JSON.stringify(plan, null, 2)}\n` : `${renderPlan(plan)}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`plan: ${err.message}\n`);
    process.exit(1);
  });
}
