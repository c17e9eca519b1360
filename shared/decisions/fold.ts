import type { BanDecision, Decision } from '../schema/index.ts';
import { PERMANENT } from '../time/index.ts';

/** A ban in force: the ban decision for (jail, target) that no later unban cancelled. */
export interface ActiveBan {
  jail: string;
  /** Canonical address or CIDR, as on the wire. */
  target: string;
  /** Epoch ms when the ban ends, or {@link PERMANENT}. */
  until: number;
  /** The ban decision that set `until`. */
  decision: BanDecision;
}

/** What one decision did to the ban set. */
export interface BanChange {
  key: string;
  before?: ActiveBan;
  after?: ActiveBan;
}

/** The key of a ban: bans are per jail, so one address can be banned by two jails. */
export function banKey(jail: string, target: string): string {
  return `${jail} ${target}`;
}

/** When a ban decision ends: `time + duration`, or PERMANENT. */
export function banEnd(decision: BanDecision): number {
  if (decision.duration === PERMANENT) return PERMANENT;
  return Math.min(Number.MAX_SAFE_INTEGER, decision.time + decision.duration);
}

/** Whether a ban that ends at `until` is still in force at `now`. */
export function inForce(until: number, now: number): boolean {
  return until === PERMANENT || until > now;
}

/** Compares two ends; PERMANENT is later than any time. */
function later(a: number, b: number): boolean {
  if (a === PERMANENT) return b !== PERMANENT;
  if (b === PERMANENT) return false;
  return a > b;
}

/**
 * The current ban set, folded from the decisions stream in stream order:
 * - a ban adds (jail, target); a second ban of the same pair keeps the later
 *   end, so a republished or shorter decision never shortens a ban (to
 *   shorten one, unban it and ban it again);
 * - an unban cancels every earlier ban of the pair, whatever their times;
 * - expired bans are kept until {@link BanSet.prune} and skipped by
 *   {@link BanSet.active}; permanent bans never expire.
 * Pure: time comes from the caller.
 */
export class BanSet {
  private readonly bans = new Map<string, ActiveBan>();

  get size(): number {
    return this.bans.size;
  }

  apply(decision: Decision): BanChange {
    const key = banKey(decision.jail, decision.target);
    const before = this.bans.get(key);
    if (decision.action === 'unban') {
      this.bans.delete(key);
      return before ? { key, before } : { key };
    }
    const until = banEnd(decision);
    if (before && !later(until, before.until)) return { key, before, after: before };
    const after: ActiveBan = { jail: decision.jail, target: decision.target, until, decision };
    this.bans.set(key, after);
    return before ? { key, before, after } : { key, after };
  }

  get(key: string): ActiveBan | undefined {
    return this.bans.get(key);
  }

  /** Bans in force at `now`. */
  *active(now: number): IterableIterator<ActiveBan> {
    for (const ban of this.bans.values()) if (inForce(ban.until, now)) yield ban;
  }

  /** Forgets bans that ended at or before `now`; returns them. */
  prune(now: number): ActiveBan[] {
    const gone: ActiveBan[] = [];
    for (const [key, ban] of this.bans) {
      if (!inForce(ban.until, now)) {
        this.bans.delete(key);
        gone.push(ban);
      }
    }
    return gone;
  }

  /** Forgets one ban if it ended at or before `now`. */
  pruneKey(key: string, now: number): boolean {
    const ban = this.bans.get(key);
    if (!ban || inForce(ban.until, now)) return false;
    this.bans.delete(key);
    return true;
  }
}

/** The bans in force at `now` after a stream of decisions (in stream order). */
export function foldDecisions(decisions: Iterable<Decision>, now: number): ActiveBan[] {
  const set = new BanSet();
  for (const decision of decisions) set.apply(decision);
  return [...set.active(now)];
}
