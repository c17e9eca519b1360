/**
 * Enforcer backends, by the name used in config and on the command line.
 * Kept apart from the zod schemas so that `fleetban --help` can list them
 * without loading zod.
 */
export const ENFORCER_BACKENDS = ['nftables', 'ipset', 'xt_recent', 'iptables', 'dry-run'] as const;
export type EnforcerBackendName = (typeof ENFORCER_BACKENDS)[number];
