import { MAX_DURATION, PERMANENT } from '../time/index.ts';
import { DEFAULT_FORMULA } from './formula.ts';
import type { JailConfig } from './schema/index.ts';

/**
 * The longest ban fleetban gives: 100 years, the longest duration it
 * accepts. A ban computed longer (`bantime.factor: 1e300`, a
 * formula without `bantime.maxtime`) is capped here; for an attacker it is
 * the same as permanent. The cap keeps every derived value valid where it is
 * used: the decisions stream's max_age (longest ban + a day, in nanoseconds)
 * stays far below int64's 292 years, and ms stay safe integers.
 */
export const MAX_BAN = MAX_DURATION;

/** fail2ban's default formula doubles a ban at most 20 times (`1<<20`). */
const FORMULA_MAX_EXPONENT = 20;

/**
 * The longest ban a jail can give in ms, before the {@link MAX_BAN} cap:
 * fail2ban's `incrBanTime` at its largest (multipliers or the default
 * formula times `bantime.factor`, never below bantime, cut at
 * `bantime.maxtime`, plus all of `bantime.rndtime`). A custom formula without
 * `bantime.maxtime` has no bound (Infinity). PERMANENT for `bantime: -1`.
 */
export function uncappedLongestBan(jail: JailConfig): number {
  if (jail.bantime === PERMANENT) return PERMANENT;
  if (!jail['bantime.increment']) return jail.bantime;
  const factor = jail['bantime.factor'];
  const multipliers = jail['bantime.multipliers'] ?? [];
  const formula = jail['bantime.formula'] ?? DEFAULT_FORMULA;
  let grown: number;
  if (multipliers.length > 0) grown = jail.bantime * factor * Math.max(...multipliers);
  else if (formula.replace(/\s+/g, '') === DEFAULT_FORMULA.replace(/\s+/g, '')) grown = jail.bantime * 2 ** FORMULA_MAX_EXPONENT * factor;
  else grown = Infinity;
  if (jail['bantime.maxtime'] !== undefined) grown = Math.min(grown, jail['bantime.maxtime']);
  return Math.max(jail.bantime, grown + (jail['bantime.rndtime'] ?? 0));
}

/** The longest ban a jail can give, in whole ms (at most {@link MAX_BAN}), or PERMANENT. */
export function longestBan(jail: JailConfig): number {
  const ms = uncappedLongestBan(jail);
  return ms === PERMANENT ? PERMANENT : Math.min(Math.ceil(ms), MAX_BAN);
}

/** A ban length as it may be given: whole ms in [1, {@link MAX_BAN}], or PERMANENT. */
export function capBan(ms: number): number {
  if (ms === PERMANENT) return PERMANENT;
  if (!(ms >= 1)) return 1;
  return Math.min(Math.round(ms), MAX_BAN);
}
