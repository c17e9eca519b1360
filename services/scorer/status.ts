import { InvalidInputError } from '../../shared/errors.ts';
import type { RedisClient } from '../../shared/redis/index.ts';
import { parseStatusRequest, statusResponseSchema, type BannedEntry, type JailStatus, type StatusResponse } from '../../shared/schema/index.ts';
import { failuresWithin, PERMANENT } from '../../shared/time/index.ts';
import type { JailRules } from './core/rules.ts';
import type { JailFigures } from './redis/figures.ts';
import type { KeyLayout } from './redis/keys.ts';
import type { ScoreStore } from './redis/store.ts';

export interface StatusDeps {
  client: RedisClient;
  keys: KeyLayout;
  store: ScoreStore;
  figures: JailFigures;
  rules: ReadonlyMap<string, JailRules>;
  host: string;
  now: () => number;
}

/**
 * Answers the `status` endpoint: per jail, the figures `fail2ban-client
 * status <jail>` shows, read from Redis, so any replica answers for the fleet.
 * Jails are those in this scorer's config plus those that only manual bans
 * name, while such a ban holds.
 */
export async function readStatus(deps: StatusDeps, request: unknown): Promise<StatusResponse> {
  const parsed = parseStatusRequest(request);
  if (!parsed.ok) throw new InvalidInputError(`bad status request: ${parsed.reason}`);
  const { jail, limit } = parsed.value;
  const now = deps.now();
  const manual = await liveManualJails(deps, now);
  const known = [...new Set([...deps.rules.keys(), ...manual])].sort();
  if (jail !== undefined && !known.includes(jail)) throw new InvalidInputError(`no jail "${jail}" (known: ${known.join(', ') || 'none'})`);
  const jails = await Promise.all((jail === undefined ? known : [jail]).map((name) => jailStatus(deps, name, now, limit)));
  const response: StatusResponse = { v: 1, host: deps.host, time: now, jails };
  // The contract is checked on the way out too, so a reply never breaks the CLI.
  return statusResponseSchema.parse(response);
}

/** Jails named by manual bans that still hold; those whose bans all ended are pruned. */
async function liveManualJails(deps: StatusDeps, now: number): Promise<string[]> {
  const key = deps.keys.liveJails();
  await deps.client.zremrangebyscore(key, '-inf', now);
  return deps.client.zrangebyscore(key, `(${now}`, '+inf');
}

async function jailStatus(deps: StatusDeps, jail: string, now: number, limit: number): Promise<JailStatus> {
  const figures = await deps.figures.read(jail, now, limit);
  const rules = deps.rules.get(jail);
  const details = await Promise.all(figures.banned.map(({ target }) => deps.store.readBans(target, [jail])));
  const banned: BannedEntry[] = [];
  figures.banned.forEach(({ target }, i) => {
    // A ban whose key is gone (expired a moment ago, or Redis lost it) has
    // nothing to show; the figures drop it at their next prune.
    const ban = details[i]![jail];
    if (!ban) return;
    const end = ban.duration === PERMANENT ? PERMANENT : ban.start + ban.duration;
    if (end !== PERMANENT && end <= now) return;
    banned.push({
      target,
      start: ban.start,
      duration: ban.duration,
      remaining: end === PERMANENT ? PERMANENT : end - now,
      origin: ban.origin,
      ...(ban.origin === 'scorer'
        ? { reason: rules ? failuresWithin(ban.failures, rules.findtime) : `${ban.failures} failure${ban.failures === 1 ? '' : 's'}`, failures: ban.failures, banCount: ban.banCount }
        : { ...(ban.reason !== undefined && { reason: ban.reason }), ...(ban.by !== undefined && { by: ban.by }) }),
    });
  });
  return {
    jail,
    currentlyFailed: figures.currentlyFailed,
    totalFailed: figures.totalFailed,
    currentlyBanned: figures.currentlyBanned,
    totalBanned: figures.totalBanned,
    banned,
    truncated: banned.length < figures.currentlyBanned,
  };
}
