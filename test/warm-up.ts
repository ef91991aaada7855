/**
 * Required by `npm test`'s unit run (scripts/test.ts): before the first test, start running the program for both
 * stacks' graphs in the background, for the rule pack and plan tests. A single file run with `npx mocha test/…`
 * runs only what it uses, when it uses it.
 */
import { warmUpGraphs } from "./local/support";

export const mochaHooks = {
  beforeAll(): void {
    warmUpGraphs();
  },
};
