import { randomUUID } from 'node:crypto';
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

interface Batch {
  number: number;
  figures: Pending;
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
 * add a target twice; totals count only what a script reports as new, and
 * each batch is applied once even when a reply is lost. So a
 * failure whose script ran just as Redis stopped, and whose reply was lost,
 * is in its window but not in the total of failures: its redelivery finds it
 * there (or its address banned) and cannot tell it from one counted before.
 * A ban is counted by whoever first publishes its decision, so lost replies
 * do not lose bans.
 */
export class JailFigures {
  private pending = new Map<string, Pending>();
  /** Per jail, a batch whose write failed: Redis may or may not have applied it. */
  private readonly unsure = new Map<string, Batch>();
  /** Names this replica's batches in Redis. */
  private readonly replica = randomUUID();
  private lastBatch = 0;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private queuedNow = 0;

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

  /** A ban holds: `counted` is false when it was counted before (a redelivery whose decision was published already). */
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

  /**
   * Writes what has gathered; on failure keeps it for the next flush and
   * throws {@link StoreError}. One flush runs at a time, so a jail's batches
   * reach Redis in order; a call while one runs writes, after it, what has
   * gathered meanwhile (calls that pile up share that write).
   */
  flush(now: number): Promise<void> {
    if (!this.running) return this.start(now);
    this.queuedNow = Math.max(this.queuedNow, now);
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.start(this.queuedNow);
      });
    return this.queued;
  }

  private start(now: number): Promise<void> {
    this.running = this.send(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * A batch whose call failed may still have been applied (Redis ran it and
   * stopped before replying), so it is sent again as it was, under its
   * number, before anything newer: aggregate.lua applies each batch of this
   * replica once. A batch never sent goes back under what has gathered since.
   */
  private async send(now: number): Promise<void> {
    const gathered = this.pending;
    this.pending = new Map();
    const jails = new Set([...this.unsure.keys(), ...gathered.keys()]);
    const failed: string[] = [];
    await Promise.all(
      [...jails].map(async (jail) => {
        const fresh = gathered.get(jail);
        let batch = this.unsure.get(jail);
        try {
          if (batch) {
            await this.write(jail, now, batch);
            this.unsure.delete(jail);
          }
          if (fresh) {
            batch = { number: this.nextBatch(), figures: fresh };
            await this.write(jail, now, batch);
          }
        } catch (err) {
          if (batch!.figures === fresh) this.unsure.set(jail, batch!);
          else if (fresh) this.restore(jail, fresh);
          failed.push(`${jail}: ${errorMessage(err)}`);
        }
      }),
    );
    if (failed.length > 0) throw new StoreError(`cannot write status figures (${failed.join('; ')})`);
  }

  private write(jail: string, now: number, batch: Batch): Promise<unknown> {
    const [failed, bans, failing, banned] = this.keys.jailFigures(jail);
    return AGGREGATE_SCRIPT.run(this.client, [failed, bans, failing, banned, this.keys.jailBatches(jail)], args(now, this.replica, batch));
  }

  /** Batch numbers grow with the clock (so old replicas' entries can be pruned by age) and never repeat. */
  private nextBatch(): number {
    this.lastBatch = Math.max(Date.now(), this.lastBatch + 1);
    return this.lastBatch;
  }

  /** Puts a batch that was never sent back under what has gathered since (newer entries win). */
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

function args(now: number, replica: string, batch: Batch): (string | number)[] {
  const p = batch.figures;
  const out: (string | number)[] = [now, replica, batch.number, p.failed, p.bans];
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
