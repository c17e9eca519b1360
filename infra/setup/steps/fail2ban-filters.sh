#!/usr/bin/env bash
# Fills fleetban's fail2ban cache from Debian's `fail2ban` package without
# installing it: `apt-get download` fetches the .deb (no root needed) and
# `dpkg-deb -x` unpacks it outside the repository. Nothing is installed or
# started; the cache gives fleetban the stock filter.d (used when
# /etc/fail2ban/filter.d is absent), and gives the tests and benchmarks
# fail2ban's sample logs and the real fail2ban-regex to compare against.
#
#   <cache>/<version>/etc/fail2ban/filter.d
#   <cache>/<version>/usr/lib/python3/dist-packages/fail2ban  (tests/files/logs, ...)
#   <cache>/current -> <version>
#
# <cache> is $FLEETBAN_FAIL2BAN_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/fleetban/fail2ban.
# Safe to run again: it does nothing when the candidate version is unpacked.
set -euo pipefail

say() { printf 'fleetban setup: %s\n' "$*" >&2; }

cache=${FLEETBAN_FAIL2BAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fleetban/fail2ban}

candidate() {
  apt-cache policy fail2ban 2>/dev/null | awk '/Candidate:/ { print $2; exit }'
}

version=$(candidate || true)
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -q >/tmp/fleetban-apt.log 2>&1 || true
    version=$(candidate || true)
  fi
fi
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  say "apt knows no fail2ban package; run 'apt-get update' as root, then set-up again"
  exit 1
fi

# The tests and the benchmark run the real fail2ban-regex from the cache; it needs python3.
if ! command -v python3 >/dev/null 2>&1 && [ ! -x /usr/bin/python3 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    say "installing python3 (to run fail2ban-regex from the cache in tests)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 >>/tmp/fleetban-apt.log 2>&1 ||
      say "could not install python3; tests that compare with fail2ban-regex will be skipped"
  else
    say "python3 is missing; tests that compare with fail2ban-regex will be skipped (install: apt-get install python3)"
  fi
fi

target="$cache/$version"
if [ -f "$target/.complete" ]; then
  [ "$(readlink "$cache/current" 2>/dev/null)" = "$version" ] || ln -sfn "$version" "$cache/current"
  exit 0
fi

say "unpacking Debian's fail2ban $version into $target (not installed)"
mkdir -p "$cache"
work=$(mktemp -d "$cache/.download.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download -q "fail2ban=$version" >"$work/apt.log" 2>&1); then
  say "apt-get download fail2ban failed:"
  sed 's/^/  /' "$work/apt.log" >&2
  exit 1
fi
deb=$(find "$work" -maxdepth 1 -name 'fail2ban_*.deb' | head -n 1)
mkdir -p "$work/tree"
dpkg-deb -x "$deb" "$work/tree"
for need in etc/fail2ban/filter.d usr/lib/python3/dist-packages/fail2ban/tests/files/logs usr/bin/fail2ban-regex; do
  if [ ! -e "$work/tree/$need" ]; then
    say "the fail2ban package has no $need; the cache is incomplete"
    exit 1
  fi
done
touch "$work/tree/.complete"
rm -rf "$target"
mv "$work/tree" "$target"
ln -sfn "$version" "$cache/current"
say "fail2ban $version filters and sample logs are in $target"
