import { createHash } from 'node:crypto';
import { MAX_BAN, type JailConfig } from '../../../shared/config/index.ts';
import { PERMANENT } from '../../../shared/time/index.ts';
import { compileFormula, DEFAULT_FORMULA, FormulaError, type CompiledFormula } from './formula.ts';

/** How a jail lengthens repeated bans: fail2ban's `bantime.*` keys, ready to use. */
export interface BanTimeRules {
  /** ms, or PERMANENT. */
  bantime: number;
  increment: boolean;
  factor: number;
  /** Used when `multipliers` is empty. */
  formula: CompiledFormula;
  multipliers: readonly number[];
  /** ms */
  maxtime?: number;
  /** ms */
  rndtime?: number;
  overalljails: boolean;
  /** ms: how long an address's ban count is remembered. */
  purgeage: number;
}

/** Builds the rules from a jail's config; throws {@link FormulaError} for a formula that does not compile. */
export function banTimeRules(jail: JailConfig): BanTimeRules {
  return {
    bantime: jail.bantime,
    increment: jail['bantime.increment'],
    factor: jail['bantime.factor'],
    formula: compileFormula(jail['bantime.formula'] ?? DEFAULT_FORMULA),
    multipliers: jail['bantime.multipliers'] ?? [],
    ...(jail['bantime.maxtime'] !== undefined && { maxtime: jail['bantime.maxtime'] }),
    ...(jail['bantime.rndtime'] !== undefined && { rndtime: jail['bantime.rndtime'] }),
    overalljails: jail['bantime.overalljails'],
    purgeage: jail.dbpurgeage,
  };
}

/** Whether the length of a ban depends on how often the address was banned before. */
export function dependsOnCount(rules: BanTimeRules): boolean {
  return rules.increment && rules.bantime !== PERMANENT;
}

/**
 * A number in [0, 1) derived from the ban's id. fail2ban draws `random()`
 * for `bantime.rndtime`; deriving it from the id keeps the ban length the same
 * when a redelivered failure computes it again, while two bans (different
 * address or start) still get unrelated values.
 */
export function banRandom(banId: string): number {
  const digest = createHash('sha256').update(banId).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

export interface BanLength {
  /** ms, or PERMANENT. */
  duration: number;
  /** Set when the formula failed at this count; fail2ban then keeps the plain bantime, and so do we. */
  formulaError?: string;
}

/**
 * The length of a ban, as fail2ban's `incrBanTime` computes it: the plain
 * bantime for a first ban (`previous` = 0) or without `bantime.increment`;
 * otherwise `multipliers` (by previous count, the last one repeating) or the
 * formula (never below bantime), capped at `maxtime`, plus a random part of
 * up to `rndtime`. The formula works in seconds, as fail2ban's does.
 */
export function banLength(rules: BanTimeRules, previous: number, banId: string): BanLength {
  if (!dependsOnCount(rules) || previous <= 0) return { duration: rules.bantime };
  const seconds = rules.bantime / 1000;
  let value: number;
  if (rules.multipliers.length > 0) {
    const m = rules.multipliers[Math.min(previous, rules.multipliers.length - 1)]!;
    value = seconds * rules.factor * m;
  } else {
    try {
      value = Math.max(seconds, rules.formula.evaluate({ time: seconds, count: previous, factor: rules.factor }));
    } catch (err) {
      if (!(err instanceof FormulaError)) throw err;
      return { duration: rules.bantime, formulaError: err.message };
    }
  }
  let ms = value * 1000;
  if (rules.maxtime !== undefined) ms = Math.min(ms, rules.maxtime);
  if (rules.rndtime !== undefined) ms += banRandom(banId) * rules.rndtime;
  return { duration: clampDuration(ms) };
}

/** A whole number of ms, at most MAX_BAN: the decisions stream is sized for no longer (shared/config/bantime.ts). */
function clampDuration(ms: number): number {
  if (!(ms >= 1)) return 1;
  return Math.min(Math.round(ms), MAX_BAN);
}
