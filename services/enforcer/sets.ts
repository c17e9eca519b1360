import type { Config, EnforcerBackendName, JailConfig } from '../../shared/config/index.ts';
import { selects } from '../../shared/config/index.ts';
import { Allowlist, LOOPBACK_NETWORKS } from '../../shared/ip/index.ts';

/** The set key of decisions for jails this host's config does not define (manual bans): enforced on every port. */
export const OTHER_JAILS = '*';

/** What one kernel set blocks, and for whom: one per enforced jail, plus one for other jails. */
export interface EnforcedSet {
  /** A jail's name, or {@link OTHER_JAILS}. */
  key: string;
  backend: EnforcerBackendName;
  /** Ports to block; empty blocks every port. Numbers, ranges `1000:2000` or service names. */
  ports: readonly string[];
  protocol: JailConfig['protocol'];
  blocktype: JailConfig['blocktype'];
  /** IPv6 addresses are banned with their network of this length. */
  ipv6prefix: number;
  /** Never banned through this set: ignoreip (defaults.ignoreip for other jails), enforcer.ignoreip, the host's addresses, loopback. */
  allowlist: Allowlist;
}

/** The jail of a decision is enforced through this set, or not on this host. */
export type Route = { set: EnforcedSet } | { set: undefined; why: 'not selected' | 'disabled' | 'other jails ignored' };

/**
 * The sets this host enforces: each enabled jail that `enforcer.jails`
 * selects, with its ports, protocol, block type, IPv6 prefix and backend
 * (`banaction`, else `enforcer.backend`), and one for decisions of jails the
 * config does not define.
 */
export function enforcedSets(config: Config, hostAddresses: readonly string[]): EnforcedSet[] {
  const base = [...LOOPBACK_NETWORKS, ...hostAddresses, ...config.enforcer.ignoreip];
  const sets: EnforcedSet[] = [];
  for (const jail of Object.values(config.jails)) {
    if (!jail.enabled || !selects(config.enforcer.jails, jail.name)) continue;
    sets.push({
      key: jail.name,
      backend: jail.banaction ?? config.enforcer.backend,
      ports: jail.port,
      protocol: jail.protocol,
      blocktype: jail.blocktype,
      ipv6prefix: jail.ipv6prefix,
      allowlist: new Allowlist([...base, ...jail.ignoreip]),
    });
  }
  if (config.enforcer.otherJails === 'enforce') {
    sets.push({
      key: OTHER_JAILS,
      backend: config.enforcer.backend,
      ports: [],
      protocol: 'all',
      blocktype: config.enforcer.blocktype,
      ipv6prefix: 128,
      // defaults.ignoreip guards the jails the config defines through their
      // own ignoreip; for the others (manual bans) it is checked here, as
      // `fleetban ban` checks it, so a decision published around the CLI is refused too.
      allowlist: new Allowlist([...base, ...config.defaults.ignoreip]),
    });
  }
  return sets;
}

/** Routes a decision's jail to its set. */
export function router(config: Config, sets: readonly EnforcedSet[]): (jail: string) => Route {
  const byKey = new Map(sets.map((s) => [s.key, s]));
  const other = byKey.get(OTHER_JAILS);
  return (jail) => {
    const defined = config.jails[jail];
    if (defined) {
      if (!defined.enabled) return { set: undefined, why: 'disabled' };
      const set = byKey.get(jail);
      return set ? { set } : { set: undefined, why: 'not selected' };
    }
    return other ? { set: other } : { set: undefined, why: 'other jails ignored' };
  };
}
