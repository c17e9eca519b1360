import type { Config, JailConfig } from '../../../shared/config/index.ts';
import { Allowlist, LOOPBACK_NETWORKS } from '../../../shared/ip/index.ts';
import type { ConfigProblem } from '../../../shared/errors.ts';
import { banTimeRules, type BanTimeRules } from './bantime.ts';
import { FormulaError } from './formula.ts';

/** Everything the scorer needs to know about one jail, checked and compiled once. */
export interface JailRules {
  name: string;
  maxretry: number;
  /** ms */
  findtime: number;
  /** IPv6 addresses are counted and banned as networks of this length. */
  ipv6prefix: number;
  /** ignoreip, loopback and (with ignoreself) this host's addresses. */
  allowlist: Allowlist;
  ban: BanTimeRules;
}

/** Compiles one jail; `hostAddresses` are added to the allowlist when the jail has `ignoreself`. */
export function jailRules(jail: JailConfig, hostAddresses: readonly string[] = []): JailRules {
  const allowlist = new Allowlist([...LOOPBACK_NETWORKS, ...jail.ignoreip, ...(jail.ignoreself ? hostAddresses : [])]);
  return { name: jail.name, maxretry: jail.maxretry, findtime: jail.findtime, ipv6prefix: jail.ipv6prefix, allowlist, ban: banTimeRules(jail) };
}

/** The enabled jails of a config, by name. */
export function allJailRules(config: Pick<Config, 'jails'>, hostAddresses: readonly string[] = []): Map<string, JailRules> {
  const out = new Map<string, JailRules>();
  for (const jail of Object.values(config.jails)) if (jail.enabled) out.set(jail.name, jailRules(jail, hostAddresses));
  return out;
}

/**
 * What the config parser cannot see: a `bantime.formula` that does not compile.
 * Each problem names the key; used by `fleetban scorer --check-config` and at start.
 */
export function checkScorerConfig(config: Pick<Config, 'jails'>, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const jail of Object.values(config.jails)) {
    try {
      banTimeRules(jail);
    } catch (err) {
      if (!(err instanceof FormulaError)) throw err;
      problems.push({ file, path: `jails.${jail.name}.bantime.formula`, message: err.message });
    }
  }
  return problems;
}
