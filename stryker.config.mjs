// StrykerJS over the pure core and the engine's lifecycle and policy, driven by their unit tests
// (`npm run mutation`, scripts/mutation.sh). STRYKER_TARGET picks the part: `engine`
// (src/engine/lifecycle.ts and policy.ts, target 90 %) or `ocsp` (src/ocsp, target 80 %).
// Stryker 10 needs Node 22 or newer; the test processes run on the same `node`.

const targets = {
  engine: {
    mutate: ['src/engine/lifecycle.ts', 'src/engine/policy.ts'],
    testFiles: ['test/engine/lifecycle.test.ts', 'test/engine/lifecycle-edges.test.ts', 'test/engine/policy.test.ts'],
    break: 90,
  },
  ocsp: {
    // index.ts only re-exports; errors.ts only names classes.
    mutate: ['src/ocsp/**/*.ts', '!src/ocsp/index.ts'],
    testFiles: ['test/ocsp/*.test.ts'],
    break: 80,
  },
};
const name = process.env.STRYKER_TARGET ?? 'engine';
const target = targets[name];
if (!target) throw new Error(`STRYKER_TARGET=${name}: expected one of ${Object.keys(targets).join(', ')}`);
// STRYKER_RUN names a partial run (`--mutate src/ocsp/verify.ts`): its own report and temp folder,
// so that runs a file at a time neither overwrite each other's report nor share a sandbox.
const run = process.env.STRYKER_RUN ?? name;

export default {
  testRunner: 'tap',
  tap: { testFiles: target.testFiles, nodeArgs: ['--import', 'tsx', '--test-reporter=tap', '{{testFile}}'] },
  checkers: ['typescript'],
  // The checker compiles only what the mutated files import (the whole of src/ per mutant is far slower).
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: target.mutate,
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  timeoutMS: 20_000,
  thresholds: { high: target.break, low: target.break, break: target.break },
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `test-output/mutation/${run}.json` },
  tempDirName: `.stryker-tmp/${run}`,
  ignorePatterns: ['dist', 'test-output', 'scratch', '.stryker-tmp', 'bench'],
  cleanTempDir: 'always',
};
