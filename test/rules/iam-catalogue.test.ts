import { expect } from "chai";
import { checkAgainstCatalogue } from "../../local/iam/evaluate";
import { programGraph, ProgramGraph } from "../../scripts/program-graph";

describe("every generated policy against the IAM catalogue", function () {
  this.timeout(120_000);
  let graphs: ProgramGraph[];
  before(async () => {
    graphs = [await programGraph("dev"), await programGraph("prod")];
  });

  it("uses only actions that exist, on ARNs of their resource types, * only where the API has no resource type", async () => {
    const problems: string[] = [];
    for (const graph of graphs) {
      for (const p of graph.resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy")) {
        for (const problem of await checkAgainstCatalogue(JSON.parse(p.inputs.policy))) {
          problems.push(`${graph.stack} ${p.inputs.name} ${problem.sid} ${problem.action} ${problem.resource ?? ""}: ${problem.problem}`);
        }
      }
    }
    expect(problems).to.deep.equal([]);
    expect(graphs[0].resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy").length).to.be.greaterThan(15);
  });
});
