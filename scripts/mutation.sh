#!/usr/bin/env bash
# Mutation testing (`npm run mutation`): StrykerJS over src/engine/lifecycle.ts and policy.ts
# (fails under 90 %), then src/ocsp (fails under 80 %), each driven by its unit tests.
# Stryker 10 needs Node >= 22: set MUTATION_NODE=/path/to/node when `node` is older.
# Usage: scripts/mutation.sh [engine|ocsp]...   (default: both)
# STRYKER_CONCURRENCY sets the worker count (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin=${MUTATION_NODE:-$(command -v node)}
major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 22 ]; then
  echo "scripts/mutation.sh: Stryker 10 needs Node >= 22 and $node_bin is $("$node_bin" --version); set MUTATION_NODE" >&2
  exit 1
fi
export PATH="$(dirname "$node_bin"):$PATH"
# Test files reuse the PKI's key pairs across runs (test/support/pki.ts): each mutant runs them again.
export STAPLER_TEST_KEY_POOL="${STAPLER_TEST_KEY_POOL:-$PWD/test-output/mutation/keys}"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(engine ocsp)
for t in "${targets[@]}"; do
  echo "== mutation: $t"
  STRYKER_TARGET="$t" node node_modules/@stryker-mutator/core/bin/stryker.js run stryker.config.mjs
done
