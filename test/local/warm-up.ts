/**
 * Required by `npm test`'s cloud run (scripts/test.ts): before the first test, start booting the shared cloud in the
 * background, so it is up by the time the end-to-end files need it. A single file run with `npx mocha test/local/…`
 * boots only what it uses, when it uses it.
 */
import { warmUpCloud } from "./support";

export const mochaHooks = {
  beforeAll(): void {
    warmUpCloud();
  },
};
