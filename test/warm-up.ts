/**
 * Required by `npm test` only (package.json): before the first test, start the whole suite's slow boots in the
 * background — the shared cloud, the program graphs of both stacks (test/local/support.ts `warmUp`). A single file run
 * with `npx mocha test/…` boots only what it uses, when it uses it.
 */
import { warmUp } from "./local/support";

export const mochaHooks = {
  beforeAll(): void {
    warmUp();
  },
};
