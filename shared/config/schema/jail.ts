import { z } from 'zod';
import { compileFormula, FormulaError } from '../formula.ts';
import { ENFORCER_BACKENDS } from './backends.ts';
import { addressList, banDuration, boolish, duration, name, portList, stringList } from './fields.ts';

export { ENFORCER_BACKENDS, type EnforcerBackendName } from './backends.ts';

/** A multiplier as written, or as YAML prints a large one back (`1e+21`). */
const MULTIPLIER = /^\d+(?:\.\d+)?(?:e\+?\d+)?$/i;

/** fail2ban would fail this formula at every ban; refuse it where it is written. */
function formulaCompiles(source: string, ctx: z.RefinementCtx): void {
  try {
    compileFormula(source);
  } catch (err) {
    if (!(err instanceof FormulaError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
  }
}

/**
 * One jail. Keys and defaults are fail2ban's (jail.conf), so an operator can
 * carry a jail over by copying its lines. A `defaults:` section (fail2ban's
 * `[DEFAULT]`) supplies any key a jail leaves out.
 */
export const jailSchema = z.strictObject({
  /** A jail that is listed is on unless it says `enabled: false`. */
  enabled: boolish.default(true),
  /** Filter name with options (`sshd[mode=aggressive]`) or a path; defaults to the jail's name. */
  filter: name.optional(),
  /** Files to tail (globs allowed). Empty with `backend: systemd` reads the journal. */
  logpath: stringList.default([]),
  /** Where lines come from: files (`auto`, `file`) or the journal (`systemd`). */
  backend: z.enum(['auto', 'file', 'polling', 'systemd']).default('auto'),
  /** Overrides the filter's journalmatch. */
  journalmatch: z.string().optional(),
  /** Failures within findtime that cause a ban. */
  maxretry: z.int().min(1).max(1_000_000).default(5),
  findtime: duration.prefault('10m'),
  /** Ban length; -1 bans forever. */
  bantime: banDuration.prefault('10m'),
  'bantime.increment': boolish.default(false),
  'bantime.factor': z.number().positive().default(1),
  /** fail2ban's formula over ban.Time, ban.Count, banFactor; the default is the exponential one. */
  'bantime.formula': z.string().max(512).superRefine(formulaCompiles).optional(),
  /** Multipliers by ban count (`1 2 4 8 16 32 64`); when set, the formula is not used. */
  'bantime.multipliers': stringList.pipe(z.array(z.string().regex(MULTIPLIER, 'multipliers are numbers').transform(Number))).optional(),
  'bantime.maxtime': duration.optional(),
  'bantime.rndtime': duration.optional(),
  /** Count earlier bans of the address in every jail, not only this one. */
  'bantime.overalljails': boolish.default(false),
  /** How long an address's ban count is remembered. */
  dbpurgeage: duration.prefault('1d'),
  /** Addresses and networks never banned by this jail. */
  ignoreip: addressList.default([]),
  /** Never ban this host's own addresses. */
  ignoreself: boolish.default(true),
  /** Ports to block; empty blocks every port. */
  port: portList.default([]),
  protocol: z.enum(['tcp', 'udp', 'sctp', 'all']).default('tcp'),
  /** Enforcer backend for this jail; defaults to `enforcer.backend`. */
  banaction: z.enum(ENFORCER_BACKENDS).optional(),
  /** `reject` answers (fail2ban's default); `drop` stays silent. */
  blocktype: z.enum(['reject', 'drop']).default('reject'),
  /** Ban an IPv6 address's network of this length (64 bans the /64); 128 bans the address. */
  ipv6prefix: z.int().min(8).max(128).default(128),
  /** Lines a multi-line failregex may span; defaults to the filter's. */
  maxlines: z.int().min(1).max(1000).optional(),
  /** Overrides the filter's datepattern. */
  datepattern: z.string().optional(),
  /** fail2ban's usedns; fleetban never resolves names, so `yes` behaves as `warn`. */
  usedns: z.enum(['yes', 'warn', 'no', 'raw']).default('warn'),
});

export type JailInput = z.input<typeof jailSchema>;
export type JailConfig = z.output<typeof jailSchema> & {
  /** The jail's name (the key under `jails:`). */
  name: string;
  /** Resolved filter (the jail's name when not given). */
  filter: string;
};
