import { readdirSync } from 'node:fs';

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
    // Every unit test of src/ocsp, the quick ones first and the fuzzer (the slowest) last. The
    // tap runner runs a mutant's covering files in this order and stops at the first that fails,
    // so the order decides the cost of a killed mutant, never which mutants are killed.
    testFiles: [
      'test/ocsp/der.test.ts',
      'test/ocsp/der-values.test.ts',
      'test/ocsp/der-edges.test.ts',
      'test/ocsp/der-base.test.ts',
      'test/ocsp/bytes.test.ts',
      'test/ocsp/oids.test.ts',
      'test/ocsp/printable.test.ts',
      'test/ocsp/response.test.ts',
      'test/ocsp/signature.test.ts',
      'test/ocsp/request.test.ts',
      'test/ocsp/request-parse.test.ts',
      'test/ocsp/request-fields.test.ts',
      'test/ocsp/verify-edges.test.ts',
      'test/ocsp/verify.test.ts',
      'test/ocsp/verify-async.test.ts',
      'test/ocsp/names.test.ts',
      'test/ocsp/pem.test.ts',
      'test/ocsp/certificate-fields.test.ts',
      'test/ocsp/certificate.test.ts',
      'test/ocsp/hardening.test.ts',
      'test/ocsp/response-oracle.test.ts',
      'test/ocsp/fuzz.test.ts',
    ],
    break: 80,
  },
};

// A new unit test file must join the list above, or its kills would go unseen.
const unlisted = readdirSync('test/ocsp')
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => `test/ocsp/${f}`)
  .filter((f) => !targets.ocsp.testFiles.includes(f));
if (unlisted.length > 0) throw new Error(`stryker.config.mjs: add ${unlisted.join(', ')} to targets.ocsp.testFiles`);

// For a run over one file (STRYKER_MUTATE), the tests written for that file go first: most of
// its mutants are killed by them, and a killed mutant costs only the files run until one fails.
const focus = {
  'bytes.ts': ['bytes', 'certificate'],
  'certificate.ts': ['certificate-fields', 'certificate'],
  'certificate-extensions.ts': ['certificate-fields', 'certificate'],
  'names.ts': ['names', 'certificate'],
  'pem.ts': ['pem', 'certificate', 'hardening'],
  'der.ts': ['der-edges', 'der'],
  'der-base.ts': ['der-base', 'der'],
  'der-values.ts': ['der-values', 'der'],
  'der-writer.ts': ['request-parse', 'signature'],
  'oids.ts': ['oids', 'signature', 'request-parse'],
  'printable.ts': ['printable'],
  'request.ts': ['request', 'request-parse'],
  'request-parse.ts': ['request-fields', 'request-parse', 'request'],
  'response.ts': ['response', 'response-oracle', 'verify', 'verify-edges'],
  'signature.ts': ['signature', 'verify'],
  'verify.ts': ['verify', 'verify-edges', 'verify-async'],
  'response-signer.ts': ['verify-edges', 'verify', 'verify-async'],
};
const name = process.env.STRYKER_TARGET ?? 'engine';
const target = targets[name];
if (!target) throw new Error(`STRYKER_TARGET=${name}: expected one of ${Object.keys(targets).join(', ')}`);
// STRYKER_MUTATE narrows the part to one file (or `file:from-to` lines), with its own report and
// temp folder (`ocsp-verify`), so that runs a file at a time, even side by side, keep apart.
const only = process.env.STRYKER_MUTATE;
const onlyFile = only?.split(':')[0].replace(/^.*\//, '');
const run = only ? `${name}-${onlyFile.replace(/\.ts$/, '')}` : name;
const first = (focus[onlyFile] ?? []).map((t) => `test/ocsp/${t}.test.ts`).filter((f) => target.testFiles.includes(f));
const testFiles = [...first, ...target.testFiles.filter((f) => !first.includes(f))];

export default {
  testRunner: 'tap',
  tap: { testFiles, nodeArgs: ['--import', 'tsx', '--test-reporter=tap', '{{testFile}}'] },
  checkers: ['typescript'],
  // The checker compiles only what the mutated files import (the whole of src/ per mutant is far slower).
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: only ? [only] : target.mutate,
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  // A mutant that loops for ever costs the whole timeout (1.5 times its tests' time, plus this, plus
  // the dry run's start-up overhead): 10 s keeps that margin over a slow run on a loaded machine.
  timeoutMS: 10_000,
  thresholds: { high: target.break, low: target.break, break: target.break },
  // Reruns retest only the mutants whose code or covering tests changed (`--force` for all).
  incremental: true,
  incrementalFile: `test-output/mutation/${run}.incremental.json`,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `test-output/mutation/${run}.json` },
  tempDirName: `.stryker-tmp/${run}`,
  ignorePatterns: ['dist', 'test-output', 'scratch', '.stryker-tmp', 'bench'],
  cleanTempDir: 'always',
};
