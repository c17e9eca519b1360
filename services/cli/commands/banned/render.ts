import type { ActiveBan } from '../../../../shared/decisions/index.ts';
import { PERMANENT } from '../../../../shared/time/index.ts';
import { cell, remaining, table } from '../../format.ts';

/** One active ban, as `fleetban banned --json` prints it. */
export interface BannedEntry {
  jail: string;
  target: string;
  /** When the ban started, epoch ms. */
  start: number;
  /** Length in ms, or -1 for a permanent ban. */
  duration: number;
  /** When it ends, epoch ms, or -1. */
  until: number;
  /** ms left at the reply's `time`, or -1. */
  remaining: number;
  origin: 'scorer' | 'manual';
  reason?: string;
  by?: string;
  failures?: number;
  banCount?: number;
  /** The decision that set the ban. */
  id: string;
  /**
   * Set when every enforcer running this config refuses the ban (it covers
   * loopback or an allowlisted address): the decision is stored, but no
   * kernel holds it, so it is listed apart and never as in force.
   */
  refused?: string;
}

/** Why a ban is refused by every enforcer, or undefined when it is in force. */
export type RefusalCheck = (ban: ActiveBan) => string | undefined;

export function bannedEntries(bans: Iterable<ActiveBan>, now: number, refusal: RefusalCheck = () => undefined): BannedEntry[] {
  const out: BannedEntry[] = [];
  for (const ban of bans) {
    const { jail, target, until, decision: d } = ban;
    const refused = refusal(ban);
    out.push({
      jail,
      target,
      start: d.time,
      duration: d.duration,
      until,
      remaining: until === PERMANENT ? PERMANENT : until - now,
      origin: d.origin,
      ...(d.reason !== undefined && { reason: d.reason }),
      ...(d.by !== undefined && { by: d.by }),
      ...(d.failures !== undefined && { failures: d.failures }),
      ...(d.banCount !== undefined && { banCount: d.banCount }),
      id: d.id,
      ...(refused !== undefined && { refused }),
    });
  }
  return out.sort((a, b) => a.jail.localeCompare(b.jail) || endOrder(a.until, b.until) || a.target.localeCompare(b.target));
}

/** Soonest end first, permanent bans last. */
function endOrder(a: number, b: number): number {
  if (a === b) return 0;
  if (a === PERMANENT) return 1;
  if (b === PERMANENT) return -1;
  return a - b;
}

/** Stored bans that no enforcer applies, and why: shown below the bans in force. */
export function renderRefused(entries: readonly BannedEntry[]): string {
  return table(
    ['JAIL', 'TARGET', 'REFUSED BY EVERY ENFORCER', 'ORIGIN', 'BY'],
    entries.map((e) => [e.jail, e.target, e.refused ?? '', e.origin, cell(e.by, 40)]),
  );
}

export function renderBanned(entries: readonly BannedEntry[]): string {
  return table(
    ['JAIL', 'TARGET', 'REMAINING', 'ORIGIN', 'BY', 'REASON'],
    entries.map((e) => [e.jail, e.target, remaining(e.remaining), e.origin, cell(e.by, 40), cell(e.reason)]),
  );
}
