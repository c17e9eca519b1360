import { banTargetFor } from '../../../shared/ip/index.ts';
import { PERMANENT } from '../../../shared/time/index.ts';
import { banLength } from './bantime.ts';
import type { JailRules } from './rules.ts';

/**
 * The scorer's decision logic, pure: `(state of one target, failure, jail
 * rules) → (new state, outcome)`. Time comes only from the failures: their
 * own log timestamps, bounded by when they reached the fleet. The Redis script (redis/failure.lua) implements the same steps
 * on the same state; an integration test runs the golden cases through both.
 */

/** The fields of a failure event that the decision uses. */
export interface Failure {
  id: string;
  jail: string;
  ip: string;
  /** Log time, epoch ms. */
  time: number;
  /**
   * Epoch ms: when the failure reached the fleet, by the receiver's clock
   * (JetStream's time of the message, never later than the scorer's clock).
   * Absent only where a test replays log times without a receiver.
   */
  received?: number;
}

/**
 * How far ahead of its receipt a failure's own time is believed: the drift
 * of an honest host's clock. Kept small, because a failure dated ahead moves
 * its window ahead too, and can hide the failures that follow by this much.
 */
export const CLOCK_SKEW_MS = 5000;

/**
 * The two times a failure counts at. `at` places it in the window: its own
 * log time, unless that is more than {@link CLOCK_SKEW_MS} ahead of its
 * receipt; then the clock that wrote it is wrong and it counts at its
 * receipt (not clamped to the edge of the allowance: that would still move
 * the window ahead by the whole allowance, and hide the failures that follow
 * when findtime is short; the receipt is the best guess of when it happened).
 * `start` begins a ban it decides: never later than its receipt, so a ban
 * ends at most its length after the fleet saw its failure, whatever the log
 * said. Both come from the message, not from the scorer's clock at the time
 * of handling, so every replica and redelivery computes the same ban id.
 */
export function failureTimes(failure: Pick<Failure, 'time' | 'received'>): { at: number; start: number } {
  const { time, received } = failure;
  if (received === undefined) return { at: time, start: time };
  const at = time > received + CLOCK_SKEW_MS ? received : time;
  return { at, start: Math.min(at, received) };
}

/** A ban recorded for one (jail, target). */
export interface BanRecord {
  id: string;
  /** Epoch ms: when the failure that reached maxretry counts ({@link failureTimes}), or a manual decision's time. */
  start: number;
  /** ms, or PERMANENT. */
  duration: number;
  /** Failures in the window that caused it. */
  failures: number;
  /** How many times the target has now been banned (in this jail, or in all with overalljails). */
  banCount: number;
  /** The failure event that caused the ban (empty for a manual ban): its redelivery republishes the decision. */
  trigger: string;
  origin: 'scorer' | 'manual';
  /** A manual ban's reason and operator. */
  reason?: string;
  by?: string;
}

/** How many times a target was banned, and the log time of the last ban. */
export interface BanCount {
  n: number;
  last: number;
}

/** Every key of one target's Redis hash slot, as plain data. */
export interface TargetState {
  /** Per jail: event id → log time. */
  windows: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /**
   * Per jail: the failures a ban used up (event id → time), while they are
   * within findtime of that ban. A redelivered one is a duplicate: once its
   * ban has ended it would otherwise count again in a new window.
   */
  spent: Readonly<Record<string, Readonly<Record<string, number>>>>;
  bans: Readonly<Record<string, BanRecord>>;
  /** Per jail, and `*` for all jails together. */
  counts: Readonly<Record<string, BanCount>>;
}

export const ALL_JAILS = '*';

export function emptyTargetState(): TargetState {
  return { windows: {}, spent: {}, bans: {}, counts: {} };
}

export type Outcome =
  /** The address is allowlisted; nothing is stored. */
  | { kind: 'ignored'; entry: string }
  /** Counted in the window, still below maxretry. */
  | { kind: 'counted'; failures: number }
  /** Already in the window (a redelivery): nothing changes. */
  | { kind: 'duplicate'; failures: number }
  /** Older than findtime before the newest failure in the window: not counted. */
  | { kind: 'stale' }
  /** The target is banned in this jail at the failure's time: not counted. */
  | { kind: 'banned'; banId: string }
  /** The failure reached maxretry: a new ban. */
  | { kind: 'ban'; ban: BanRecord }
  /** The failure that caused a recorded ban, delivered again: publish the same decision again. */
  | { kind: 'replay'; ban: BanRecord };

/** `ban:<jail>:<target>@<start>`: the decision's id and `Nats-Msg-Id`, the same for every replica and redelivery. */
export function banId(jail: string, target: string, start: number): string {
  return `ban:${jail}:${target}@${start}`;
}

/** What a failure bans: the address, or its IPv6 network (`ipv6prefix`); or the allowlist entry that protects it. */
export function targetOf(failure: Pick<Failure, 'ip'>, rules: Pick<JailRules, 'ipv6prefix' | 'allowlist'>): { target: string } | { ignored: string } {
  const target = banTargetFor(failure.ip, rules.ipv6prefix);
  const entry = rules.allowlist.match(target);
  return entry === undefined ? { target: target.text } : { ignored: entry };
}

/** Whether a recorded ban still holds at log time `time`. */
export function banHolds(ban: Pick<BanRecord, 'start' | 'duration'>, time: number): boolean {
  return ban.duration === PERMANENT || time < ban.start + ban.duration;
}

/** The ban count before a new ban at `time`, or 0 when it was last raised more than `purgeage` ago. */
export function previousCount(count: BanCount | undefined, time: number, purgeage: number): number {
  return count !== undefined && time - count.last < purgeage ? count.n : 0;
}

/** One failure against one target's state. `target` is what {@link targetOf} gave. */
export function decide(state: TargetState, failure: Failure, target: string, rules: JailRules): { state: TargetState; outcome: Outcome } {
  const jail = rules.name;
  const { at, start } = failureTimes(failure);
  const ban = state.bans[jail];
  // The failure that decided the ban is a replay whenever it comes back; its
  // time can lie past a ban that started at its receipt.
  if (ban && ban.trigger === failure.id) return { state, outcome: { kind: 'replay', ban } };
  if (ban && banHolds(ban, at)) return { state, outcome: { kind: 'banned', banId: ban.id } };

  const window = state.windows[jail] ?? {};
  if (failure.id in (state.spent[jail] ?? {})) return { state, outcome: { kind: 'duplicate', failures: Object.keys(window).length } };
  const latest = Math.max(at, ...Object.values(window));
  const cutoff = latest - rules.findtime;
  if (at <= cutoff) return { state, outcome: { kind: 'stale' } };
  const kept: Record<string, number> = {};
  for (const [id, time] of Object.entries(window)) if (time > cutoff) kept[id] = time;
  const added = !(failure.id in kept);
  if (added) kept[failure.id] = at;
  const failures = Object.keys(kept).length;
  if (failures < rules.maxretry) {
    return { state: { ...state, windows: { ...state.windows, [jail]: kept } }, outcome: { kind: added ? 'counted' : 'duplicate', failures } };
  }

  const jailPrevious = previousCount(state.counts[jail], at, rules.ban.purgeage);
  const allPrevious = previousCount(state.counts[ALL_JAILS], at, rules.ban.purgeage);
  const previous = rules.ban.overalljails ? allPrevious : jailPrevious;
  const id = banId(jail, target, start);
  const newBan: BanRecord = {
    id,
    start,
    duration: banLength(rules.ban, previous, id).duration,
    failures,
    banCount: previous + 1,
    trigger: failure.id,
    origin: 'scorer',
  };
  const bump = (count: BanCount | undefined, before: number): BanCount => ({ n: before + 1, last: Math.max(count?.last ?? at, at) });
  const windows = { ...state.windows };
  delete windows[jail];
  const spent: Record<string, number> = {};
  for (const [id, time] of Object.entries({ ...state.spent[jail], ...kept })) if (time > cutoff) spent[id] = time;
  return {
    state: {
      windows,
      spent: { ...state.spent, [jail]: spent },
      bans: { ...state.bans, [jail]: newBan },
      counts: { ...state.counts, [jail]: bump(state.counts[jail], jailPrevious), [ALL_JAILS]: bump(state.counts[ALL_JAILS], allPrevious) },
    },
    outcome: { kind: 'ban', ban: newBan },
  };
}

/** A manual decision (from `fleetban ban` / `unban`), as the scorer mirrors it. */
export type ManualDecision =
  | { action: 'ban'; id: string; jail: string; time: number; duration: number; reason?: string; by?: string }
  | { action: 'unban'; id: string; jail: string; time: number };

export type MirrorOutcome =
  /** The ban is recorded (and the window up to its time cleared). */
  | { kind: 'recorded' }
  /** This very decision was mirrored before (a redelivery). */
  | { kind: 'same' }
  /** A newer ban is recorded already; an older decision does not replace it. */
  | { kind: 'older' }
  /** The unban removed a ban (and cleared the window up to its time). */
  | { kind: 'cleared' }
  /** The unban found no ban older than itself; only the window was cleared. */
  | { kind: 'none' };

/**
 * Mirrors a manual decision into one target's state, so that counting and
 * status agree with what the operator did. Decisions can arrive late or twice
 * (the stream is replayed from the start for a new consumer), so each one only
 * acts on what is older than itself.
 */
export function mirror(state: TargetState, decision: ManualDecision): { state: TargetState; outcome: MirrorOutcome } {
  const { jail, time } = decision;
  const existing = state.bans[jail];
  if (decision.action === 'ban') {
    if (existing?.id === decision.id) return { state, outcome: { kind: 'same' } };
    if (existing && existing.start > time) return { state, outcome: { kind: 'older' } };
  }
  const windows = clearUpTo(state.windows, jail, time);
  if (decision.action === 'ban') {
    const ban: BanRecord = {
      id: decision.id,
      start: time,
      duration: decision.duration,
      failures: 0,
      banCount: 0,
      trigger: '',
      origin: 'manual',
      ...(decision.reason !== undefined && { reason: decision.reason }),
      ...(decision.by !== undefined && { by: decision.by }),
    };
    return { state: { ...state, windows, bans: { ...state.bans, [jail]: ban } }, outcome: { kind: 'recorded' } };
  }
  if (existing && existing.start <= time) {
    const bans = { ...state.bans };
    delete bans[jail];
    return { state: { ...state, windows, bans }, outcome: { kind: 'cleared' } };
  }
  return { state: { ...state, windows }, outcome: { kind: 'none' } };
}

function clearUpTo(windows: TargetState['windows'], jail: string, time: number): TargetState['windows'] {
  const window = windows[jail];
  if (!window) return windows;
  const kept: Record<string, number> = {};
  for (const [id, t] of Object.entries(window)) if (t > time) kept[id] = t;
  const out = { ...windows };
  if (Object.keys(kept).length > 0) out[jail] = kept;
  else delete out[jail];
  return out;
}
