#!/usr/bin/env bash
# fleetban set-up: makes a fresh Debian machine with Node and npm ready for
# `npm start` and `npm test`. Installs missing Debian packages with apt-get when
# run as root, says exactly what is missing otherwise, runs `npm ci` when
# node_modules is missing or older than package-lock.json, and builds dist/
# when it is missing or stale (infra/setup/build.sh). Safe to run again:
# it does nothing when everything is in place.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf 'fleetban setup: %s\n' "$*" >&2; }

# 1. Node.js 20 or newer.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  say "Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none))."
  exit 1
fi

# 2. Debian packages: command -> package.
declare -A package_of=(
  [nats-server]=nats-server
  [redis-server]=redis-server
  [nft]=nftables
  [ipset]=ipset
  [iptables]=iptables
  [ip]=iproute2
  [dpkg-deb]=dpkg
  [python3]=python3
)
missing=()
for cmd in "${!package_of[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("${package_of[$cmd]}")
done
# fail2ban-regex (from the unpacked fail2ban package) reads the journal with
# python3-systemd; the tests compare `fleetban regex systemd-journal` with it.
# Debian's python3 is the one its python3-* packages serve (as in test/harness/fail2ban.ts).
debian_python=/usr/bin/python3
[ -x "$debian_python" ] || debian_python=python3
if command -v "$debian_python" >/dev/null 2>&1 && ! "$debian_python" -c 'import systemd.journal' >/dev/null 2>&1; then
  missing+=(python3-systemd)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/fleetban-apt.log 2>&1; then
      apt-get update -q >>/tmp/fleetban-apt.log 2>&1
      apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/fleetban-apt.log 2>&1 || {
        say "apt-get could not install ${missing[*]}; see /tmp/fleetban-apt.log"
        exit 1
      }
    fi
  else
    say "missing Debian packages: ${missing[*]}"
    say "install them as root:  apt-get install ${missing[*]}"
    exit 1
  fi
fi

# 3. npm dependencies, when node_modules is missing or stale.
stamp=node_modules/.fleetban-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" >"$stamp"
fi

# 4. The build (dist/, what bin/fleetban runs), when missing or not built from
# the current sources.
bash infra/setup/build.sh --if-stale

# Further set-up steps (fail2ban filter cache and others) live beside this file.
for step in infra/setup/steps/*.sh; do
  [ -e "$step" ] || continue
  bash "$step"
done
