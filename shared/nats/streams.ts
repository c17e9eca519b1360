import { nanos, type NatsConnection } from '@nats-io/nats-core';
import {
  DiscardPolicy,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig as JsStreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { Config, JailConfig, StreamConfig } from '../config/index.ts';
import { subjectsFor } from '../schema/index.ts';
import { PERMANENT } from '../time/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** fail2ban's default formula caps the exponent at 20. */
const FORMULA_MAX_EXPONENT = 20;

export type WantedStream = Pick<
  JsStreamConfig,
  'name' | 'subjects' | 'retention' | 'storage' | 'discard' | 'max_age' | 'duplicate_window' | 'num_replicas' | 'max_bytes'
>;

/** The longest ban a jail can give, in ms, or PERMANENT. */
export function longestBan(jail: JailConfig): number {
  if (jail.bantime === PERMANENT) return PERMANENT;
  if (!jail['bantime.increment']) return jail.bantime;
  const rnd = jail['bantime.rndtime'] ?? 0;
  if (jail['bantime.maxtime'] !== undefined) return jail['bantime.maxtime'] + rnd;
  const multipliers = jail['bantime.multipliers'];
  const factor = multipliers ? Math.max(...multipliers) : 2 ** FORMULA_MAX_EXPONENT * jail['bantime.factor'];
  return Math.min(Number.MAX_SAFE_INTEGER, jail.bantime * factor + rnd);
}

/**
 * How long each stream keeps messages, when `maxAge` is `auto`:
 * failures as long as the longest findtime (at least an hour, so a scorer that
 * was down can catch up); decisions as long as the longest possible ban plus a
 * day, or forever (0) when a jail bans permanently, so a new enforcer that
 * replays the stream converges on every ban that is still active.
 */
export function autoMaxAges(config: Pick<Config, 'jails'>): { failures: number; decisions: number } {
  const jails = Object.values(config.jails);
  const failures = Math.max(HOUR, ...jails.map((j) => j.findtime));
  let decisions = DAY;
  for (const jail of jails) {
    const ban = longestBan(jail);
    if (ban === PERMANENT) return { failures, decisions: 0 };
    decisions = Math.max(decisions, ban + DAY);
  }
  return { failures, decisions };
}

/** The two stream configurations fleetban needs, derived from the config (pure). */
export function wantedStreams(config: Pick<Config, 'prefix' | 'jails' | 'nats'>): { failures: WantedStream; decisions: WantedStream } {
  const subjects = subjectsFor(config.prefix);
  const auto = autoMaxAges(config);
  const build = (name: string, subjectList: string[], settings: StreamConfig, autoAge: number): WantedStream => {
    const age = settings.maxAge === 'auto' ? autoAge : settings.maxAge;
    return {
      name,
      subjects: subjectList,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(age),
      duplicate_window: nanos(Math.min(settings.duplicateWindow, age || settings.duplicateWindow)),
      num_replicas: settings.replicas,
      max_bytes: settings.maxBytes,
    };
  };
  return {
    failures: build(subjects.failuresStream, [subjects.allFailures], config.nats.streams.failures, auto.failures),
    decisions: build(subjects.decisionsStream, [subjects.allBans, subjects.allUnbans], config.nats.streams.decisions, auto.decisions),
  };
}

/**
 * Creates the failures and decisions streams, or updates them when the config
 * changed. Idempotent and safe when several processes start at once: a create
 * that loses the race becomes an update.
 */
export async function ensureStreams(
  nc: NatsConnection,
  config: Pick<Config, 'prefix' | 'jails' | 'nats'>,
  log: Logger,
): Promise<{ failures: StreamInfo; decisions: StreamInfo }> {
  const jsm = await jetstreamManager(nc);
  const wanted = wantedStreams(config);
  const ensure = async (want: WantedStream): Promise<StreamInfo> => {
    const current = await jsm.streams.info(want.name).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!current) {
      try {
        const info = await jsm.streams.add(want);
        log.info({ stream: want.name }, 'created stream');
        return info;
      } catch (err) {
        if (!/already in use|exists/i.test(String(err))) throw err;
      }
    }
    const existing = current ?? (await jsm.streams.info(want.name));
    if (differs(existing.config, want)) {
      const info = await jsm.streams.update(want.name, { ...existing.config, ...want });
      log.info({ stream: want.name }, 'updated stream configuration');
      return info;
    }
    return existing;
  };
  return { failures: await ensure(wanted.failures), decisions: await ensure(wanted.decisions) };
}

function differs(have: JsStreamConfig, want: WantedStream): boolean {
  return (Object.keys(want) as (keyof WantedStream)[]).some((key) => JSON.stringify(have[key]) !== JSON.stringify(want[key]));
}

function isNotFound(err: unknown): boolean {
  return /not found/i.test(String((err as { message?: unknown })?.message ?? err));
}
