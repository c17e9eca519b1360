import type { NatsConnection } from '@nats-io/nats-core';
import {
  DiscardPolicy,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig as JsStreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { longestBan, type Config, type StreamConfig } from '../config/index.ts';
import { subjectsFor } from '../schema/index.ts';
import { formatDuration, MAX_DURATION, PERMANENT } from '../time/index.ts';

export { longestBan };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** JetStream durations are Go time.Duration: int64 nanoseconds. */
const MAX_NANOS = 2n ** 63n - 1n;

export type WantedStream = Pick<
  JsStreamConfig,
  'name' | 'subjects' | 'retention' | 'storage' | 'discard' | 'max_age' | 'duplicate_window' | 'num_replicas' | 'max_bytes'
>;

type StreamsConfig = Pick<Config, 'prefix' | 'jails' | 'nats'>;

/**
 * How long each stream keeps messages, in ms, when `maxAge` is `auto`:
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

/**
 * ms as the nanoseconds JetStream takes: a whole number that fits Go's int64
 * and that JSON writes without an exponent. Config values are at most
 * MAX_DURATION (100 years) plus a day, far below int64's 292 years; a larger
 * value is a bug, refused here rather than sent as JSON the server rejects.
 */
export function streamNanos(ms: number): number {
  const whole = Math.round(ms);
  if (!Number.isSafeInteger(whole) || whole < 0 || whole > MAX_DURATION + DAY || BigInt(whole) * 1_000_000n > MAX_NANOS) {
    throw new RangeError(`stream duration ${ms} ms is out of range`);
  }
  return whole * 1_000_000;
}

/** The two stream configurations fleetban needs, derived from the config (pure). */
export function wantedStreams(config: StreamsConfig): { failures: WantedStream; decisions: WantedStream } {
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
      max_age: streamNanos(age),
      // JetStream refuses a duplicate window longer than max_age.
      duplicate_window: streamNanos(Math.min(settings.duplicateWindow, age || settings.duplicateWindow)),
      num_replicas: settings.replicas,
      max_bytes: settings.maxBytes,
    };
  };
  return {
    failures: build(subjects.failuresStream, [subjects.allFailures], config.nats.streams.failures, auto.failures),
    decisions: build(subjects.decisionsStream, [subjects.allBans, subjects.allUnbans], config.nats.streams.decisions, auto.decisions),
  };
}

/** One stream as found (or made) by {@link ensureStreams}. */
export interface StreamCheck {
  name: string;
  info: StreamInfo;
  created: boolean;
  /** Settings whose value on the server is not what this config wants. */
  differs: string[];
  /** The stream forgets messages sooner than this config needs (bans would be missed). */
  retentionShort: boolean;
}

export interface EnsuredStreams {
  failures: StreamInfo;
  decisions: StreamInfo;
  checks: StreamCheck[];
}

/**
 * What a part does at start: creates a stream that is missing, and otherwise
 * uses it as it is. The streams are shared by the fleet, and each part's
 * config may name only some jails, so a part never changes one: an operator
 * does, with `fleetban streams --apply` ({@link applyStreams}). A stream that
 * keeps messages for less than this config needs is reported loudly.
 * Safe when several processes start at once: a create that loses the race
 * finds the stream made by the winner.
 */
export async function ensureStreams(nc: NatsConnection, config: StreamsConfig, log: Logger): Promise<EnsuredStreams> {
  const jsm = await jetstreamManager(nc);
  const wanted = wantedStreams(config);
  const checks = [await ensureOne(jsm, wanted.failures, log), await ensureOne(jsm, wanted.decisions, log)];
  for (const check of checks) report(check, wanted, log);
  return { failures: checks[0]!.info, decisions: checks[1]!.info, checks };
}

/**
 * The operator's `fleetban streams --apply`: creates the streams, or updates
 * them to what this config wants (also to a shorter retention: the config
 * check refuses one shorter than the jails need).
 */
export async function applyStreams(nc: NatsConnection, config: StreamsConfig, log: Logger): Promise<EnsuredStreams> {
  const jsm = await jetstreamManager(nc);
  const wanted = wantedStreams(config);
  const checks: StreamCheck[] = [];
  for (const want of [wanted.failures, wanted.decisions]) {
    let check = await ensureOne(jsm, want, log);
    if (check.differs.length > 0) {
      const info = await jsm.streams.update(want.name, { ...check.info.config, ...want });
      log.info({ stream: want.name, changed: check.differs }, 'updated stream configuration');
      check = { ...check, info, differs: [], retentionShort: false };
    }
    checks.push(check);
  }
  return { failures: checks[0]!.info, decisions: checks[1]!.info, checks };
}

async function ensureOne(jsm: JetStreamManager, want: WantedStream, log: Logger): Promise<StreamCheck> {
  let current = await streamInfo(jsm, want.name);
  if (!current) {
    try {
      const info = await jsm.streams.add(want);
      log.info({ stream: want.name }, 'created stream');
      return { name: want.name, info, created: true, differs: [], retentionShort: false };
    } catch (err) {
      if (!/already in use|exists/i.test(String(err))) throw err;
      current = await jsm.streams.info(want.name);
    }
  }
  return { name: want.name, info: current, created: false, differs: differences(want, current.config), retentionShort: shorter(current.config.max_age, want.max_age) };
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  return jsm.streams.info(name).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
}

function report(check: StreamCheck, wanted: ReturnType<typeof wantedStreams>, log: Logger): void {
  if (check.created || check.differs.length === 0) return;
  const want = check.name === wanted.failures.name ? wanted.failures : wanted.decisions;
  const fix = 'an operator updates it with `fleetban streams --apply`';
  if (check.retentionShort) {
    const have = formatDuration(check.info.config.max_age / 1e6);
    const need = want.max_age === 0 ? 'for ever' : `for ${formatDuration(want.max_age / 1e6)}`;
    log.warn(
      { stream: check.name, maxAge: have, wanted: need },
      `stream ${check.name} keeps messages for ${have}, but this config needs them kept ${need}: ` +
        `${check.name === wanted.decisions.name ? 'bans still in force will be missed by enforcers that start later and by `banned`' : 'failures still inside findtime will be lost'}; ${fix}`,
    );
  } else if (check.differs.includes('subjects')) {
    log.warn({ stream: check.name, differs: check.differs }, `stream ${check.name} has other subjects than this config needs; ${fix}`);
  } else {
    log.info({ stream: check.name, differs: check.differs }, `stream ${check.name} differs from this config; left as it is (${fix})`);
  }
}

/** Whether a max_age (ns, 0 = for ever) keeps messages for less than `want`. */
function shorter(have: number, want: number): boolean {
  return have !== 0 && (want === 0 || have < want);
}

export function differences(want: WantedStream, have: JsStreamConfig | undefined): string[] {
  return (Object.keys(want) as (keyof WantedStream)[]).filter((key) => JSON.stringify(have?.[key]) !== JSON.stringify(want[key]));
}

function isNotFound(err: unknown): boolean {
  return /not found/i.test(String((err as { message?: unknown })?.message ?? err));
}
