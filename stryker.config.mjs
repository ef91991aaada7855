// @ts-check
/**
 * Mutation testing (issue 9): `npm run mutation`; not part of `npm test`. README "Mutation score" says how to read
 * the result; bench/mutation/ keeps the figures and the equivalent mutants.
 *
 * @type {import("@stryker-mutator/api/core").PartialStrykerOptions}
 */
const config = {
  mutate: [
    "handlers/**/*.ts",
    "!handlers/**/*.d.ts",
    // The pure builders; the ComponentResources that wire them are exercised through Pulumi mocks only.
    "infra/policy.ts",
    "infra/workflow.ts",
    "infra/order-workflow.ts",
    "infra/export-workflow.ts",
    "infra/config.ts",
    "infra/export-routing.ts",
    "infra/resource-policies.ts",
    "containers/export-worker/**/*.ts",
  ],
  testRunner: "mocha",
  mochaOptions: {
    // Not .mocharc.json: its root hooks belong to the local-cloud suites (test/local), which these folders do not need.
    "no-config": true,
    spec: ["test/handlers/**/*.test.ts", "test/infra/**/*.test.ts", "test/containers/**/*.test.ts"],
    // It bundles in hard-linked copies of the git checkout (bench/checkout.ts); Stryker's sandbox is no checkout, and
    // the bundler it tests is not mutated.
    ignore: ["test/infra/bundle.test.ts"],
    // No test/local/warm-up.ts: it boots the local cloud, which none of these suites uses.
    require: ["tsx/cjs", "test/rerun-hooks.ts"],
  },
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.json",
  // tsx strips types without checking them, so the instrumented code needs no @ts-nocheck; the checker sees each mutant alone.
  disableTypeChecks: false,
  coverageAnalysis: "perTest",
  // A mutant in module-scope code (schemas, limits, constants) needs a fresh process and every test, ~25–40 s each
  // here; they are reported as Ignored and counted per folder in bench/mutation/README.md. A mutant that code run
  // while a file loads AND a test both reach is run with that test only, in the loaded process: a test must build what
  // it checks inside the test or a beforeEach (test/infra/asl.ts `withStates`), or it never sees the mutant.
  ignoreStatic: true,
  // The 2 cores: one for the TypeScript checker, one test runner; Stryker hands the checker's core to a second
  // runner once every mutant is checked.
  concurrency: 2,
  // The machine is shared: a slow neighbour must not turn a surviving mutant into a timeout.
  timeoutMS: 10_000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: "bench/mutation/stryker-incremental.json",
  ignorePatterns: [".build", "**/.local", "bin", "reports", "bench/mutation"],
  reporters: ["progress-append-only", "clear-text", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
};

export default config;
