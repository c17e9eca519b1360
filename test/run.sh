#!/usr/bin/env bash
# `npm test`: set-up (packages, npm ci, the build in dist/ that bin/fleetban
# runs and the tests spawn), type-check, then every test file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/setup/setup.sh
echo "type-checking..." >&2
./node_modules/.bin/tsc -p .
shopt -s nullglob globstar
files=(test/unit/**/*.test.ts test/integration/**/*.test.ts test/e2e/**/*.test.ts)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files found" >&2
  exit 1
fi
# Files run in parallel processes; the limit keeps timing-sensitive
# integration tests honest on a 2-core machine.
exec node --import tsx --test \
  --test-concurrency="${FLEETBAN_TEST_CONCURRENCY:-2}" \
  --test-timeout="${FLEETBAN_TEST_TIMEOUT_MS:-300000}" \
  "${files[@]}"
