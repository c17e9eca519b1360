#!/usr/bin/env bash
# Credentials for a test or a small fleet: a CA, TLS certificates (openssl),
# one nkey per identity, the nats-server configuration with each role's
# permissions, and Redis TLS settings with the scorer's ACL user.
#   infra/keys/generate.sh --out DIR [--identity shipper:web1 ...] [--help]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
loader="$(cd "$root" && node -p 'require.resolve("tsx")')"
exec node --import "$loader" "$root/infra/keys/generate.ts" "$@"
