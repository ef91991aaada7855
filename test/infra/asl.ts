import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import type { RenderedWorkflow } from "../../infra/workflow";

// asl-validator ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require("asl-validator") as (definition: unknown) => { isValid: boolean; errorsText(sep?: string): string };

/** Validates a definition with asl-validator (on a copy: the validator annotates its input). */
export function expectValidAsl(definition: unknown): void {
  const result = aslValidator(JSON.parse(JSON.stringify(definition)));
  expect(result.isValid, result.errorsText("\n")).to.equal(true);
}

export function goldenFile(name: string): string {
  return path.join(__dirname, "golden", `${name}.json`);
}

export function goldenText(rendered: unknown): string {
  return `${JSON.stringify(rendered, null, 2)}\n`;
}

/**
 * Compares a rendered document with its golden file under test/infra/golden/. A missing file fails like a different
 * one: `npm run golden` writes them after an intended change (scripts/golden.ts), and the diff shows in review.
 */
export function expectGolden(name: string, rendered: unknown): void {
  const file = goldenFile(name);
  if (!fs.existsSync(file)) throw new Error(`golden file ${file} is missing: run \`npm run golden\` and commit it`);
  expect(JSON.parse(goldenText(rendered)), `${name} differs from ${file}; after an intended change run \`npm run golden\` and review the diff`).to.deep.equal(JSON.parse(fs.readFileSync(file, "utf8")));
}

/** Every state of a definition, Map iterations included, as [name, state]. */
export function allStates(definition: { States: Record<string, any> }): [string, any][] {
  const out: [string, any][] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    out.push([name, state]);
    if (state.ItemProcessor) out.push(...allStates(state.ItemProcessor));
  }
  return out;
}

/**
 * A rendered workflow with its top-level states at hand. Tests render in a `beforeEach`, not once while the file
 * loads: `npm run mutation` runs only the tests, so a definition built at load time never sees a mutant of the builder.
 */
export function withStates(rendered: RenderedWorkflow): RenderedWorkflow & { readonly states: Record<string, any> } {
  return { ...rendered, states: rendered.definition.States };
}
