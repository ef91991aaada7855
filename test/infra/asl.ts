import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";

// asl-validator ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require("asl-validator") as (definition: unknown) => { isValid: boolean; errorsText(sep?: string): string };

/** Validates a definition with asl-validator (on a copy: the validator annotates its input). */
export function expectValidAsl(definition: unknown): void {
  const result = aslValidator(JSON.parse(JSON.stringify(definition)));
  expect(result.isValid, result.errorsText("\n")).to.equal(true);
}

/**
 * Compares a rendered document with its golden file under test/infra/golden/. Set UPDATE_GOLDEN=1 to rewrite the
 * file after an intended change; the diff then shows in review.
 */
export function expectGolden(name: string, rendered: unknown): void {
  const file = path.join(__dirname, "golden", `${name}.json`);
  const text = `${JSON.stringify(rendered, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === "1" || !fs.existsSync(file)) {
    if (process.env.CI && !fs.existsSync(file)) throw new Error(`golden file ${file} is missing; run the tests with UPDATE_GOLDEN=1 and commit it`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  expect(JSON.parse(text)).to.deep.equal(JSON.parse(fs.readFileSync(file, "utf8")));
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
