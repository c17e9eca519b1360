import { FleetbanError, errorMessage } from '../../../shared/errors.ts';
import type { RedisClient } from '../../../shared/redis/index.ts';
import { PERMANENT } from '../../../shared/time/index.ts';
import { banLength, dependsOnCount } from '../core/bantime.ts';
import type { JailRules } from '../core/rules.ts';
import { ALL_JAILS, banId, failureTimes, type BanCount, type BanRecord, type Failure, type ManualDecision, type MirrorOutcome, type Outcome, type TargetState } from '../core/window.ts';
import { TARGET_FIGURES_TTL_MS, type TargetFigures } from './figures.ts';
import type { KeyLayout } from './keys.ts';
import { DECISION_SCRIPT, FAILURE_SCRIPT } from './scripts.ts';

/** A Redis call of the scorer failed; `cause` says why. */
export class StoreError extends FleetbanError {}

export interface Scored {
  outcome: Outcome;
  /** Whether this call added the failure to a window. */
  added: boolean;
  /** The target's counters after the call, for the status totals. */
  figures: TargetFigures;
  /** The formula failed for this ban; the plain bantime was used (fail2ban does the same). */
  formulaError?: string;
}

/**
 * How long a script may take before Redis counts as unavailable. A frozen
 * server (SIGSTOP, a stalled VM) keeps the connection open and never
 * answers; without a bound every message would wait on it for ever.
 */
export const SCRIPT_TIMEOUT_MS = 5000;

// A concurrent ban of the same target changes the ban count between the two
// calls of a two-step ban; more than a few rounds means something is wrong.
const MAX_ROUNDS = 5;

/**
 * The scorer's state in Redis: the window and ban scripts for one target, and
 * reading a target's state back. The decision steps are the pure core's
 * (core/window.ts); this class only moves them to Redis.
 */
export class ScoreStore {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeyLayout,
  ) {}

  /**
   * Runs one failure through failure.lua. A ban's length can depend on the
   * target's ban count, which only the script can read: the first call
   * proposes the length for the likely count (none before), and when the
   * script answers `need` with the real count, a second call brings the
   * length for that count. Bans are rare next to failures, so almost every
   * failure costs one round trip.
   */
  async score(failure: Failure, target: string, rules: JailRules): Promise<Scored> {
    const jail = rules.name;
    const { at, start } = failureTimes(failure);
    const id = banId(jail, target, start);
    const keys = [this.keys.window(target, jail), this.keys.ban(target, jail), this.keys.counts(target), this.keys.spent(target, jail), this.keys.targetFigures(target)];
    let proposed = dependsOnCount(rules.ban) ? 0 : -1;
    let added = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const length = banLength(rules.ban, Math.max(proposed, 0), id);
      const reply = (await this.runFailure(keys, [
        failure.id,
        at,
        jail,
        rules.findtime,
        rules.maxretry,
        rules.ban.purgeage,
        rules.ban.overalljails ? 1 : 0,
        proposed,
        length.duration,
        id,
        start,
        TARGET_FIGURES_TTL_MS,
      ])) as unknown[];
      const figures = figuresFrom(reply);
      const kind = String(reply[0]);
      const num = (i: number) => Number(reply[i]);
      switch (kind) {
        case 'need':
          proposed = num(1);
          added ||= num(2) === 1;
          continue;
        case 'ban':
          return {
            outcome: { kind: 'ban', ban: banFromReply(reply, failure.id) },
            added: added || num(6) === 1,
            figures,
            ...(length.formulaError !== undefined && { formulaError: length.formulaError }),
          };
        case 'replay':
          return { outcome: { kind: 'replay', ban: banFromReply(reply, failure.id) }, added, figures };
        case 'banned':
          return { outcome: { kind: 'banned', banId: String(reply[1]) }, added, figures };
        case 'stale':
          return { outcome: { kind: 'stale' }, added, figures };
        case 'counted':
          return { outcome: { kind: 'counted', failures: num(1) }, added: true, figures };
        case 'duplicate':
          return { outcome: { kind: 'duplicate', failures: num(1) }, added, figures };
        default:
          throw new StoreError(`failure script gave an unknown reply ${JSON.stringify(reply)}`);
      }
    }
    throw new StoreError(`the ban count of ${target} in ${jail} kept changing for ${MAX_ROUNDS} rounds`);
  }

  /** Mirrors a manual decision; `ttlMs` bounds the ban key (what is left of the ban; -1 for permanent). */
  async mirror(target: string, decision: ManualDecision, ttlMs: number): Promise<{ outcome: MirrorOutcome; figures: TargetFigures }> {
    const keys = [this.keys.window(target, decision.jail), this.keys.ban(target, decision.jail), this.keys.targetFigures(target)];
    const ban = decision.action === 'ban' ? decision : undefined;
    const reply = await this.run(DECISION_SCRIPT, keys, [
      decision.action,
      decision.id,
      decision.time,
      ban?.duration ?? 0,
      ban ? (ban.duration === PERMANENT ? -1 : Math.max(1, Math.round(ttlMs))) : -1,
      ban?.reason ?? '',
      ban?.by ?? '',
      TARGET_FIGURES_TTL_MS,
      decision.jail,
    ]);
    const kind = String((reply as unknown[])[0]);
    if (!['same', 'older', 'recorded', 'cleared', 'none'].includes(kind)) throw new StoreError(`decision script gave an unknown reply ${JSON.stringify(reply)}`);
    return { outcome: { kind } as MirrorOutcome, figures: figuresFrom(reply as unknown[]) };
  }

  /** One target's bans in `jails`, read back (status details; tests compare it with the core). */
  async readBans(target: string, jails: readonly string[]): Promise<Record<string, BanRecord>> {
    const bans: Record<string, BanRecord> = {};
    const hashes = await Promise.all(jails.map((jail) => this.client.hgetall(this.keys.ban(target, jail))));
    jails.forEach((jail, i) => {
      const h = hashes[i]!;
      if (h.id === undefined) return;
      bans[jail] = {
        id: h.id,
        start: Number(h.start),
        duration: Number(h.dur),
        failures: Number(h.f),
        banCount: Number(h.n),
        trigger: h.trig ?? '',
        origin: h.o === 'manual' ? 'manual' : 'scorer',
        ...(h.r && { reason: h.r }),
        ...(h.by && { by: h.by }),
      };
    });
    return bans;
  }

  /** One target's whole state for `jails`, in the core's shape. */
  async readTarget(target: string, jails: readonly string[]): Promise<TargetState> {
    const sets = (key: (target: string, jail: string) => string) =>
      Promise.all(jails.map((jail) => this.client.zrange(key.call(this.keys, target, jail), 0, -1, 'WITHSCORES')));
    const [bans, windows, spent, counts] = await Promise.all([this.readBans(target, jails), sets(this.keys.window), sets(this.keys.spent), this.client.hgetall(this.keys.counts(target))]);
    const state: { windows: Record<string, Record<string, number>>; spent: Record<string, Record<string, number>>; bans: Record<string, BanRecord>; counts: Record<string, BanCount> } = {
      windows: {},
      spent: {},
      bans,
      counts: {},
    };
    const into = (out: Record<string, Record<string, number>>, flats: string[][]) =>
      jails.forEach((jail, i) => {
        const flat = flats[i]!;
        if (flat.length === 0) return;
        const set: Record<string, number> = {};
        for (let j = 0; j < flat.length; j += 2) set[flat[j]!] = Number(flat[j + 1]);
        out[jail] = set;
      });
    into(state.windows, windows);
    into(state.spent, spent);
    for (const jail of [...jails, ALL_JAILS]) {
      if (counts[`n:${jail}`] !== undefined) state.counts[jail] = { n: Number(counts[`n:${jail}`]), last: Number(counts[`t:${jail}`]) };
    }
    return state;
  }

  // The hot path: one promise layer less than run(), since it runs for every failure.
  private runFailure(keys: string[], args: (string | number)[]): Promise<unknown> {
    return withDeadline(FAILURE_SCRIPT.run(this.client, keys, args), FAILURE_SCRIPT.name).catch((err: unknown) => {
      throw new StoreError(`Redis script ${FAILURE_SCRIPT.name} failed: ${errorMessage(err)}`, { cause: err });
    });
  }

  private async run(script: typeof FAILURE_SCRIPT, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await withDeadline(script.run(this.client, keys, args), script.name);
    } catch (err) {
      throw new StoreError(`Redis script ${script.name} failed: ${errorMessage(err)}`, { cause: err });
    }
  }
}

/** Rejects with a timeout error (which {@link isUnavailable} counts as unavailable) when `call` takes too long. */
export function withDeadline<T>(call: Promise<T>, what: string, ms = SCRIPT_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([call, late]).finally(() => clearTimeout(timer));
}

/** The target's counters that every script reply ends with. */
function figuresFrom(reply: unknown[]): TargetFigures {
  const [epoch, failed, banned] = reply.slice(-3);
  return { epoch: String(epoch), failed: Number(failed), banned: Number(banned) };
}

function banFromReply(reply: unknown[], trigger: string): BanRecord {
  return {
    id: String(reply[1]),
    start: Number(reply[2]),
    duration: Number(reply[3]),
    banCount: Number(reply[4]),
    failures: Number(reply[5]),
    trigger,
    origin: 'scorer',
  };
}

/**
 * Whether a Redis error means "Redis cannot be used right now" (down,
 * restarting, failing over), so the message should wait and Redis be watched,
 * rather than an error of the script or its data.
 */
export function isUnavailable(err: unknown): boolean {
  const cause = err instanceof StoreError ? err.cause : err;
  const message = errorMessage(cause);
  if ((cause as { name?: string })?.name !== 'ReplyError') return true;
  return /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|NOAUTH|MOVED|ASK)\b/.test(message);
}
