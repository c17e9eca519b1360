#!/usr/bin/env bash
# Builds dist/: the TypeScript of services/, shared/ and the credentials
# generator (infra/keys, infra/nats, infra/redis) compiled by `tsc -p
# tsconfig.build.json` to JavaScript with source maps, plus every other file
# those folders read at run time (the scorer's Lua scripts), at the same
# relative paths. bin/fleetban runs dist/.
#
#   infra/setup/build.sh             build
#   infra/setup/build.sh --if-stale  build only when dist/ was not built from
#                                     the current sources (set-up runs this)
#
# The stamp dist/.fleetban-build.sha256 is a hash over the path and content of
# every input, so any edit, added or removed file makes dist/ stale. The new
# tree is built beside dist/ and swapped in, so a failed build leaves the old
# one whole.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf 'fleetban build: %s\n' "$*" >&2; }

sources=(services shared infra/keys infra/nats infra/redis)
stamp_file=dist/.fleetban-build.sha256

input_hash() {
  {
    find "${sources[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    sha256sum tsconfig.json tsconfig.build.json package-lock.json infra/setup/build.sh
  } | sha256sum | cut -d' ' -f1
}

# One build at a time (test files running in parallel may each ask for one).
exec 9>"${TMPDIR:-/tmp}/fleetban-build.$(pwd | sha256sum | cut -c1-16).lock"
flock 9

want=$(input_hash)
if [ "${1:-}" = "--if-stale" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ]; then
  touch "$stamp_file" # a source touched but not changed: the mtime check in test/harness/build.ts passes again
  exit 0
fi

tsc=node_modules/.bin/tsc
if [ ! -x "$tsc" ]; then
  say "$tsc is missing: run npm ci (or infra/setup/setup.sh) first"
  exit 1
fi

say "compiling TypeScript to dist/"
next=$(mktemp -d dist.next.XXXXXX)
trap 'rm -rf "$next"' EXIT
"$tsc" -p tsconfig.build.json --outDir "$next"
# Files read at run time next to the code that reads them (new URL(file, import.meta.url)).
find "${sources[@]}" -type f ! -name '*.ts' ! -name '*.sh' ! -name '*.conf' -print0 |
  while IFS= read -r -d '' file; do
    mkdir -p "$next/$(dirname "$file")"
    cp "$file" "$next/$file"
  done
echo "$want" >"$next/.fleetban-build.sha256"
chmod 755 "$next"
rm -rf dist
mv "$next" dist
trap - EXIT
say "dist/ is up to date"
