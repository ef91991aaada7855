/**
 * Required by `npm run mutation` only (stryker.config.mjs): Stryker's mocha runner loads the unit suites once and runs
 * them again for every mutant in the same process, so what a run leaves behind must not reach the next one.
 */
import { registered } from "./mocks";

export const mochaHooks = {
  beforeAll(): void {
    // Component tests read back what their `before` registered; a previous run's registrations would double them.
    registered.length = 0;
  },
};
