import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";

// js-yaml comes with @pulumi/pulumi; no @types package is installed for it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require("js-yaml");

const ROOT = path.resolve(__dirname, "..");
const read = (file: string): any => yaml.load(fs.readFileSync(path.join(ROOT, file), "utf8"));

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
interface Job {
  strategy?: { matrix?: Record<string, string[]> };
  steps: Step[];
}

const STACK_ACTION = "./.github/actions/pulumi-stack";
/** The committed stacks: Pulumi.<stack>.yaml beside Pulumi.yaml. */
const STACKS = fs
  .readdirSync(ROOT)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => !!s)
  .sort();

/** Every `pulumi/actions` step that runs a command, with the stacks its job prepares and how. */
function pulumiCommands(workflow: string): { job: string; command: string; stackName: string; prepared: Step | undefined; stacks: string[] }[] {
  const jobs = read(`.github/workflows/${workflow}`).jobs as Record<string, Job>;
  return Object.entries(jobs).flatMap(([jobName, job]) =>
    job.steps
      .map((step, index) => ({ step, index }))
      .filter(({ step }) => step.uses?.startsWith("pulumi/actions@") && step.with?.command)
      .map(({ step, index }) => {
        const prepared = job.steps.slice(0, index).find((s) => s.uses === STACK_ACTION && s.id === "stack");
        const stack = prepared?.with?.stack ?? "";
        const stacks = stack === "${{ matrix.stack }}" ? [...(job.strategy?.matrix?.stack ?? [])] : [stack];
        return { job: jobName, command: step.with!.command, stackName: step.with!["stack-name"], prepared, stacks: stacks.sort() };
      }),
  );
}

describe("CI workflows", () => {
  const runs = [...pulumiCommands("preview.yml"), ...pulumiCommands("deploy.yml")];

  it("preview and deploy every committed stack", () => {
    expect(STACKS).to.deep.equal(["dev", "prod"]);
    expect(pulumiCommands("preview.yml").flatMap((r) => r.stacks)).to.deep.equal(STACKS);
    expect(pulumiCommands("deploy.yml").flatMap((r) => r.stacks)).to.deep.equal(STACKS);
    expect(runs.map((r) => r.command).sort()).to.deep.equal(["preview", "up", "up"]);
  });

  it("run each pulumi command on the fully qualified stack the pulumi-stack action selected or created before it", () => {
    for (const run of runs) {
      expect(run.prepared, run.job).to.not.equal(undefined);
      expect(run.prepared!.with!.org, run.job).to.equal("${{ vars.PULUMI_ORG }}");
      expect(run.stackName, run.job).to.equal("${{ steps.stack.outputs.stack-name }}");
    }
  });

  it("give each stack its payment gateway key from the CI secret named for it", () => {
    const keys = runs.map((r) => [r.job, r.prepared!.with!["payment-gateway-key"]]);
    expect(keys).to.deep.equal([
      ["preview", "${{ secrets[format('PAYMENT_GATEWAY_KEY_{0}', matrix.stack)] }}"],
      ["up-dev", "${{ secrets.PAYMENT_GATEWAY_KEY_dev }}"],
      ["up-prod", "${{ secrets.PAYMENT_GATEWAY_KEY_prod }}"],
    ]);
  });

  it("set, before preview or up, every secret config the project declares and no stack file holds", () => {
    const declared = (read("Pulumi.yaml").config ?? {}) as Record<string, { secret?: boolean; default?: unknown }>;
    const required = Object.entries(declared)
      .filter(([, spec]) => spec.secret && spec.default === undefined)
      .map(([key]) => key);
    expect(required).to.deep.equal(["paymentGatewayKey"]);
    for (const stack of STACKS) {
      const config = (read(`Pulumi.${stack}.yaml`).config ?? {}) as Record<string, unknown>;
      expect(Object.keys(config).filter((k) => required.includes(k.split(":").pop()!)), stack).to.deep.equal([]);
    }
    const script = (read(".github/actions/pulumi-stack/action.yml").runs.steps as Step[]).map((s) => s.run ?? "").join("\n");
    const select = script.indexOf('pulumi stack select --create "$name"');
    expect(select, "creates a missing stack").to.be.greaterThan(-1);
    for (const key of required) {
      // From stdin: a secret on the command line would show in the runner's process list.
      const set = script.indexOf(`| pulumi config set --secret --stack "$name" ${key}`);
      expect(set, key).to.be.greaterThan(select);
    }
    expect(script).to.contain('name="${ORG}/${project}/${STACK}"');
  });
});
