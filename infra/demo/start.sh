#!/usr/bin/env bash
# `npm start` after set-up: `fleetban up` on the demo configuration. As root
# the enforcer works with nftables inside network namespace fleetban-demo
# (created and removed by fleetban up); otherwise it cannot create the
# namespace, so the enforcer runs with the dry-run backend and only logs.
set -euo pipefail
cd "$(dirname "$0")/../.."
config=infra/demo/fleetban.yaml
touch infra/demo/auth.log
args=(up --config "$config")
if [ "$(id -u)" -ne 0 ]; then
  echo "fleetban demo: not root, so no network namespace: the enforcer uses the dry-run backend (it logs the bans it would apply)." >&2
  args+=(--dry-run)
fi
cat >&2 <<TEXT
fleetban demo: once fleetban says it is running, in another terminal:
  infra/demo/fail.sh 203.0.113.7       # three sshd failures from 203.0.113.7 in infra/demo/auth.log
  ./bin/fleetban banned --config $config
TEXT
exec ./bin/fleetban "${args[@]}"
