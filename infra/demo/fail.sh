#!/usr/bin/env bash
# Appends sshd "Failed password" lines for ADDRESS to the demo log, dated now
# (rsyslog's format on Debian 12), as an attacker guessing passwords would
# cause. Three of them make the demo jail ban the address.
#
#   infra/demo/fail.sh [ADDRESS] [COUNT] [LOG]
set -euo pipefail
address="${1:-203.0.113.7}"
count="${2:-3}"
log="${3:-$(dirname "$0")/auth.log}"
for ((i = 1; i <= count; i++)); do
  printf '%s demo sshd[%d]: Failed password for root from %s port %d ssh2\n' \
    "$(date +%Y-%m-%dT%H:%M:%S.%6N%:z)" "$((4000 + i))" "$address" "$((50000 + i))" >> "$log"
done
echo "appended $count failures from $address to $log; see the ban with: ./bin/fleetban banned --config infra/demo/fleetban.yaml"
