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
// STRYKER_MUTATE narrows the part to one file (or `file:from-to` lines), with its own report and
// temp folder (`ocsp-verify`), so that runs a file at a time, even side by side, keep apart.
const only = process.env.STRYKER_MUTATE;
const run = only ? `${name}-${only.split(':')[0].replace(/^.*\//, '').replace(/\.ts$/, '')}` : name;

export default {
  testRunner: 'tap',
  tap: { testFiles: target.testFiles, nodeArgs: ['--import', 'tsx', '--test-reporter=tap', '{{testFile}}'] },
  checkers: ['typescript'],
  // The checker compiles only what the mutated files import (the whole of src/ per mutant is far slower).
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: only ? [only] : target.mutate,
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
