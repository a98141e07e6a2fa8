#!/usr/bin/env bash
# The project's test command (`npm test`): type check, lint, then every test file, passed
# explicitly (on Node 20, `node --test` with no files runs nothing and exits 0). Fails
# unless at least one test ran and none failed, and fails on any skip that is not a property
# of the runtime: a missing peer (nginx, haproxy, apache2, java, redis, openssl, chromium,
# dist) fails the run and is named, unless STAPLER_ALLOW_MISSING_PEERS lists it (nginx,haproxy)
# or is 1, for a partial local run (CI never sets it). Prints the skips by peer at the end
# (scripts/skip-report.ts).
# Two test files run at once (STAPLER_TEST_CONCURRENCY; Node's default on 2 cores is one): most
# of a real-server test is waiting on its peers, and CI runs the suite twice within 30 minutes.
# Usage: scripts/test.sh                  everything
#        scripts/test.sh FILE.test.ts...  only those test files (no type check or lint)
set -euo pipefail
shopt -s globstar nullglob
cd "$(dirname "$0")/.."

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=(test/**/*.test.ts)
  echo "== type check"
  npm run --silent typecheck
  echo "== lint"
  npm run --silent lint
  # dist/ and the man page: the packaging and installed-bin tests run what a user installs.
  echo "== build"
  npm run --silent build
  echo "== tests"
fi
if [ ${#files[@]} -eq 0 ]; then echo "scripts/test.sh: no test files found" >&2; exit 1; fi

tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
status=0
node --import tsx --test --test-timeout=120000 --test-concurrency="${STAPLER_TEST_CONCURRENCY:-2}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "${files[@]}" || status=$?

tests=$(grep -E '^# tests [0-9]+' "$tap" | tail -1 | awk '{print $3}')
pass=$(grep -E '^# pass [0-9]+' "$tap" | tail -1 | awk '{print $3}')
fail=$(grep -E '^# fail [0-9]+' "$tap" | tail -1 | awk '{print $3}')
skipped=$(grep -E '^# skipped [0-9]+' "$tap" | tail -1 | awk '{print $3}')
if [ -z "$tests" ] || [ "$tests" -eq 0 ]; then
  echo "scripts/test.sh: no test ran" >&2
  exit 1
fi
node --import tsx scripts/skip-report.ts "$tap" || status=1
echo "${pass:-0} passed, ${fail:-0} failed, ${skipped:-0} skipped (as Node counts them; the skips by peer are above)"
exit "$status"
