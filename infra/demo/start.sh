#!/usr/bin/env bash
# `npm start` after set-up: `fleetban up` on the demo configuration. As root
# the enforcer works with nftables inside network namespace fleetban-demo
# (created and removed by fleetban up). Without root, or where even root
# cannot create a namespace (an unprivileged container: exit 77), the
# enforcer runs with the dry-run backend and only logs what it would ban.
set -uo pipefail
cd "$(dirname "$0")/../.."
config=infra/demo/fleetban.yaml
touch infra/demo/auth.log
cat >&2 <<TEXT
fleetban demo: once fleetban says it is running, in another terminal:
  infra/demo/fail.sh 203.0.113.7       # three sshd failures from 203.0.113.7 in infra/demo/auth.log
  ./bin/fleetban banned --config $config
TEXT
if [ "$(id -u)" -ne 0 ]; then
  echo "fleetban demo: not root, so no network namespace: the enforcer uses the dry-run backend (it logs the bans it would apply)." >&2
  exec ./bin/fleetban up --config "$config" --dry-run
fi
./bin/fleetban up --config "$config"
code=$?
if [ "$code" -eq 77 ]; then
  echo "fleetban demo: no network namespace here, so the enforcer uses the dry-run backend (it logs the bans it would apply)." >&2
  exec ./bin/fleetban up --config "$config" --dry-run
fi
exit "$code"
