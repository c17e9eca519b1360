import { errorMessage } from '../../../shared/errors.ts';
import type { RedisClient } from '../../../shared/redis/index.ts';
import { PERMANENT } from '../../../shared/time/index.ts';
import type { KeyLayout } from './keys.ts';
import { AGGREGATE_SCRIPT } from './scripts.ts';
import { StoreError, withDeadline } from './store.ts';

/** Score of a permanent ban in the banned set: it is never pruned. */
const FOREVER = '+inf';

/**
 * How long a target's counters live after their last change (the figures
 * hash of failure.lua and decision.lua). Any length is correct: counters
 * that expired start again under a new epoch. A report is remembered an
 * hour longer than its counters can live, so it is never forgotten first.
 */
export const TARGET_FIGURES_TTL_MS = 86_400_000;
const REPORT_MARGIN_MS = 3_600_000;

/** A target's counters as its script returned them: they only grow under one epoch. */
export interface TargetFigures {
  epoch: string;
  failed: number;
  banned: number;
}

interface Report extends TargetFigures {
  /** Epoch ms after which aggregate.lua may forget this report. */
  forget: number;
}

interface Pending {
  reports: Map<string, Report>;
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

/** Of two reports for one target, the one that knows more. */
function later(a: Report | undefined, b: Report): Report {
  if (!a) return b;
  if (a.epoch === b.epoch) return { ...b, failed: Math.max(a.failed, b.failed), banned: Math.max(a.banned, b.banned), forget: Math.max(a.forget, b.forget) };
  return b.forget >= a.forget ? b : a;
}

/**
 * The per-jail figures behind `status`: totals, the targets with failures in
 * their window, the banned targets. They live in the jail's hash slot, apart
 * from the per-target state, so they are written in batches (one script call
 * per jail per flush) and never slow the failure path down.
 *
 * The totals are counted where nothing can lose them: each target's script
 * counts the failures it adds and the bans it records, atomically with them
 * (counters that only grow, under an epoch). Every delivery of a message
 * reports the target's counters again, and a message is acknowledged only
 * after the batch holding its report is applied (see {@link afterFlush}). So
 * a scorer killed at any point leaves its messages unacknowledged, their
 * redeliveries report the same counters, and aggregate.lua adds only what
 * it has not seen: totals stay exact across SIGKILL, lost replies and
 * replicas.
 */
export class JailFigures {
  private pending = new Map<string, Pending>();
  /** Acknowledgements waiting for the batch that holds their reports. */
  private acks: Array<() => void> = [];
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private queuedNow = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeyLayout,
  ) {}

  private of(jail: string): Pending {
    let p = this.pending.get(jail);
    if (!p) this.pending.set(jail, (p = { reports: new Map(), failing: new Map(), banned: new Map() }));
    return p;
  }

  /** A target's counters, from its script; `now` is this scorer's clock. */
  report(jail: string, target: string, figures: TargetFigures, now: number): void {
    if (figures.epoch === '') return;
    const p = this.of(jail);
    p.reports.set(target, later(p.reports.get(target), { ...figures, forget: now + TARGET_FIGURES_TTL_MS + REPORT_MARGIN_MS }));
  }

  /** `target` has failures in its window, which empties at `windowEnd` unless more come. */
  failing(jail: string, target: string, windowEnd: number): void {
    const p = this.of(jail);
    const before = p.failing.get(target);
    p.failing.set(target, Math.max(windowEnd, before ?? 0));
  }

  /** A ban holds. */
  banHolds(jail: string, target: string, start: number, duration: number): void {
    const p = this.of(jail);
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

  /** Runs `ack` once what was reported so far is applied in Redis. */
  afterFlush(ack: () => void): void {
    this.acks.push(ack);
  }

  get pendingJails(): number {
    return this.pending.size;
  }

  /**
   * Writes what has gathered, then runs the acknowledgements that waited for
   * it; on failure keeps both for the next flush and throws {@link StoreError}.
   * One flush runs at a time; a call while one runs writes, after it, what
   * has gathered meanwhile (calls that pile up share that write).
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

  private async send(now: number): Promise<void> {
    const gathered = this.pending;
    const acks = this.acks;
    this.pending = new Map();
    this.acks = [];
    const failed: string[] = [];
    await Promise.all(
      [...gathered].map(async ([jail, figures]) => {
        try {
          await this.write(jail, now, figures);
        } catch (err) {
          this.restore(jail, figures);
          failed.push(`${jail}: ${errorMessage(err)}`);
        }
      }),
    );
    if (failed.length > 0) {
      this.acks.unshift(...acks);
      throw new StoreError(`cannot write status figures (${failed.join('; ')})`);
    }
    for (const ack of acks) ack();
  }

  private write(jail: string, now: number, figures: Pending): Promise<unknown> {
    const [failed, bans, failing, banned] = this.keys.jailFigures(jail);
    const [reports, forget] = this.keys.jailReports(jail);
    return withDeadline(AGGREGATE_SCRIPT.run(this.client, [failed, bans, failing, banned, reports, forget], args(now, figures)), AGGREGATE_SCRIPT.name);
  }

  /** Puts a batch that could not be written back under what has gathered since (newer entries win). */
  private restore(jail: string, old: Pending): void {
    const p = this.of(jail);
    for (const [t, r] of old.reports) p.reports.set(t, later(r, p.reports.get(t) ?? r));
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
  const out: (string | number)[] = [now, p.reports.size];
  for (const [target, r] of p.reports) out.push(target, r.epoch, r.failed, r.banned, r.forget);
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
