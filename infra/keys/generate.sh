#!/usr/bin/env bash
# Credentials for a test or a small fleet: a CA, TLS certificates (openssl),
# one nkey per identity, the nats-server configuration with each role's
# permissions, and Redis TLS settings with the scorer's ACL user.
#   infra/keys/generate.sh --out DIR [--identity shipper:web1 ...] [--help]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# A checkout (tsx is a devDependency) runs the sources; an installed package
# has no sources and no TypeScript tooling, and runs the build in dist/.
if [ -f "$root/infra/keys/generate.ts" ] && loader="$(cd "$root" && node -p 'require.resolve("tsx")' 2>/dev/null)"; then
  exec node --import "$loader" "$root/infra/keys/generate.ts" "$@"
fi
exec node --enable-source-maps "$root/dist/infra/keys/generate.js" "$@"
