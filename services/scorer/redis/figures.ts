import { errorMessage } from '../../../shared/errors.ts';
import type { RedisClient } from '../../../shared/redis/index.ts';
import { PERMANENT } from '../../../shared/time/index.ts';
import type { KeyLayout } from './keys.ts';
import { AGGREGATE_SCRIPT } from './scripts.ts';
import { StoreError } from './store.ts';

/** Score of a permanent ban in the banned set: it is never pruned. */
const FOREVER = '+inf';

interface Pending {
  failed: number;
  bans: number;
  /** target → when its window empties, or null to remove it. */
  failing: Map<string, number | null>;
  /** target → ban end (or +inf), or null to remove it. */
  banned: Map<string, number | string | null>;
}

export interface FiguresRead {
  totalFailed: number;
  totalBanned: number;
  currentlyFailed: number;
  currentlyBanned: number;
  /** Banned targets, those that end soonest first, with their end (Infinity: permanent). */
  banned: Array<{ target: string; end: number }>;
}

/**
 * The per-jail figures behind `status`: totals, the targets with failures in
 * their window, the banned targets. They live in the jail's hash slot, apart
 * from the per-target state, so they are updated in batches after the
 * per-target scripts (one script call per jail per flush) and never slow the
 * failure path down. Removals and sets are idempotent, so a redelivery cannot
 * add a target twice; totals count only what a script reports as new.
 */
export class JailFigures {
  private pending = new Map<string, Pending>();

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeyLayout,
  ) {}

  private of(jail: string): Pending {
    let p = this.pending.get(jail);
    if (!p) this.pending.set(jail, (p = { failed: 0, bans: 0, failing: new Map(), banned: new Map() }));
    return p;
  }

  /** A failure was added to `target`'s window, which empties at `windowEnd` unless more come. */
  failureCounted(jail: string, target: string, windowEnd: number): void {
    const p = this.of(jail);
    p.failed++;
    const before = p.failing.get(target);
    p.failing.set(target, Math.max(windowEnd, before ?? 0));
  }

  /** A ban holds: `counted` is false for a replay, whose ban was counted when it was decided. */
  banHolds(jail: string, target: string, start: number, duration: number, counted: boolean): void {
    const p = this.of(jail);
    if (counted) p.bans++;
    p.failing.set(target, null);
    p.banned.set(target, duration === PERMANENT ? FOREVER : start + duration);
  }

  /** A ban was lifted, and the window cleared with it. */
  unbanned(jail: string, target: string): void {
    const p = this.of(jail);
    p.failing.set(target, null);
    p.banned.set(target, null);
  }

  /** The window was cleared (by an unban that found no ban of its own age). */
  windowCleared(jail: string, target: string): void {
    this.of(jail).failing.set(target, null);
  }

  get pendingJails(): number {
    return this.pending.size;
  }

  /** Writes what has gathered; on failure keeps it for the next flush and throws {@link StoreError}. */
  async flush(now: number): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const failed: string[] = [];
    await Promise.all(
      [...batch].map(async ([jail, p]) => {
        try {
          await AGGREGATE_SCRIPT.run(this.client, this.keys.jailFigures(jail), args(now, p));
        } catch (err) {
          this.restore(jail, p);
          failed.push(`${jail}: ${errorMessage(err)}`);
        }
      }),
    );
    if (failed.length > 0) throw new StoreError(`cannot write status figures (${failed.join('; ')})`);
  }

  /** Puts an unwritten batch back under what has gathered since (newer entries win). */
  private restore(jail: string, old: Pending): void {
    const p = this.of(jail);
    p.failed += old.failed;
    p.bans += old.bans;
    for (const [t, v] of old.failing) if (!p.failing.has(t)) p.failing.set(t, v);
    for (const [t, v] of old.banned) if (!p.banned.has(t)) p.banned.set(t, v);
  }

  /** One jail's figures as of `now`. */
  async read(jail: string, now: number, limit: number): Promise<FiguresRead> {
    const [failedKey, bansKey, failingKey, bannedKey] = this.keys.jailFigures(jail);
    const after = `(${now}`;
    const [failed, bans, failing, bannedCount, list] = await Promise.all([
      this.client.get(failedKey),
      this.client.get(bansKey),
      this.client.zcount(failingKey, after, '+inf'),
      this.client.zcount(bannedKey, after, '+inf'),
      limit > 0 ? this.client.zrangebyscore(bannedKey, after, '+inf', 'WITHSCORES', 'LIMIT', 0, limit) : Promise.resolve([] as string[]),
    ]);
    const banned: FiguresRead['banned'] = [];
    for (let i = 0; i < list.length; i += 2) banned.push({ target: list[i]!, end: list[i + 1] === 'inf' ? Infinity : Number(list[i + 1]) });
    return { totalFailed: Number(failed ?? 0), totalBanned: Number(bans ?? 0), currentlyFailed: failing, currentlyBanned: bannedCount, banned };
  }
}

function args(now: number, p: Pending): (string | number)[] {
  const out: (string | number)[] = [now, p.failed, p.bans];
  const sets = <V>(m: Map<string, V | null>) => [...m].filter((e): e is [string, V] => e[1] !== null);
  const removals = <V>(m: Map<string, V | null>) => [...m].filter(([, v]) => v === null).map(([t]) => t);
  const failing = sets(p.failing);
  out.push(failing.length, ...failing.flat());
  const failingGone = removals(p.failing);
  out.push(failingGone.length, ...failingGone);
  const banned = sets(p.banned);
  out.push(banned.length, ...banned.flat());
  const bannedGone = removals(p.banned);
  out.push(bannedGone.length, ...bannedGone);
  return out;
}
