import { z } from 'zod';
import { addressList, boolish, duration, name } from './fields.ts';
import { ENFORCER_BACKENDS } from './jail.ts';
import { jailSelection } from './selection.ts';

/** The longest xt_recent list: `--seconds` times HZ (up to 1000) must stay below 2^32 jiffies. */
export const XT_RECENT_MAX_LIST_MS = 49 * 86_400_000;

/** xt_recent lists: one per length, so that bans of different lengths keep them (see the backend's README section). */
const xtRecentSchema = z.strictObject({
  /** `--seconds` of each list, shortest first; a ban goes to the shortest list at least as long as what is left of it. */
  lists: z.array(duration).min(1).max(16).default(() => [60_000, 600_000, 3_600_000, 21_600_000, 86_400_000, 604_800_000])
    .refine((l) => l.every((ms, i) => ms % 1000 === 0 && (i === 0 || ms > l[i - 1]!)), 'whole seconds, each longer than the one before')
    // The kernel computes `--seconds * HZ` in 32 bits: past 4,294,967 s (HZ 1000) a list would never match.
    .refine((l) => l.every((ms) => ms <= XT_RECENT_MAX_LIST_MS), 'at most 49d each (the kernel counts --seconds x HZ in 32 bits)'),
  /** Used when /sys/module/xt_recent/parameters/ip_list_tot cannot be read (an unprivileged enforcer). */
  listSize: z.int().min(1).max(1_000_000).default(100),
});

/** The enforcer on an edge or proxy host. */
export const enforcerSchema = z.strictObject({
  /** Default backend for jails that do not name a `banaction`. */
  backend: z.enum(ENFORCER_BACKENDS).default('nftables'),
  /** Jails this host enforces (a proxy enforces the jails of the hosts behind it). */
  jails: jailSelection.default('all'),
  /** Decisions for jails this config does not define (manual bans): `enforce` on every port, or `ignore`. */
  otherJails: z.enum(['enforce', 'ignore']).default('enforce'),
  /** How decisions of jails this config does not define are blocked. */
  blocktype: z.enum(['reject', 'drop']).default('reject'),
  /** Also drop in the forward hook, for hosts that route to containers or VMs. */
  forward: boolish.default(false),
  /** Name of fleetban's own nftables table, ipset prefix and chain prefix. */
  table: z.string().regex(/^[A-Za-z0-9_]{1,24}$/).default('fleetban'),
  /** Addresses never banned on this host, beyond each jail's ignoreip. */
  ignoreip: addressList.default([]),
  /** Run the backend inside this network namespace (`ip netns exec`); for tests and the demo. */
  netns: name.optional(),
  /** Longest kernel timeout to give an entry (the backend's own limit applies too); longer bans are refreshed before they lapse. */
  maxTimeout: duration.optional(),
  /** How long live decisions are gathered into one batch, in ms. */
  batchDelayMs: z.int().min(0).max(10_000).default(5),
  ipset: z.strictObject({
    /** Largest number of entries in one set; a full set refuses further bans (counted and logged). */
    maxelem: z.int().min(1).max(1 << 30).default(65_536),
  }).prefault({}),
  xtRecent: xtRecentSchema.prefault({}),
});
export type EnforcerConfig = z.output<typeof enforcerSchema>;
