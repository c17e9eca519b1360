import type { Config, JailConfig } from '../../shared/config/index.ts';
import type { ActiveBan } from '../../shared/decisions/index.ts';
import { addressBits, Allowlist, banTargetFor, bitsOf, LOOPBACK_NETWORKS, parseTarget, type Target } from '../../shared/ip/index.ts';
import { JAIL_NAME, LIMITS, WIRE_VERSION, type BanDecision, type UnbanDecision } from '../../shared/schema/index.ts';
import { formatDuration, parseDuration, PERMANENT } from '../../shared/time/index.ts';
import { CliError, EXIT } from './command.ts';

/**
 * The pure core of `fleetban ban` and `unban`: what is checked and what is
 * published, with time, operator and randomness passed in.
 */

/**
 * The jail of a manual decision when `--jail` is not given. No config
 * defines it, so every enforcer blocks it on every port (unless its
 * `enforcer.otherJails` is `ignore`).
 */
export const MANUAL_JAIL = 'manual';

/** Ban length when `--for` is not given and the jail is not in the config. */
export const DEFAULT_MANUAL_BANTIME = 24 * 3_600_000;

/**
 * An address or CIDR from the command line, canonical, read by shared/ip's
 * one parser (so `::ffff:7f00:1` is 127.0.0.1 here as everywhere).
 */
export function manualTarget(text: string): Target {
  try {
    return parseTarget(text);
  } catch (err) {
    const why = /\((.*)\)$/.exec((err as Error).message)?.[1];
    throw new CliError(`not an IP address or CIDR: "${text}"${why ? ` (${why})` : ''}`, EXIT.usage, { cause: err });
  }
}

export function manualJail(name: string | undefined): string {
  const jail = name ?? MANUAL_JAIL;
  if (!JAIL_NAME.test(jail)) throw new CliError(`invalid jail name "${jail}" (1-64 of A-Z a-z 0-9 _ -)`, EXIT.usage);
  return jail;
}

/** `--for` in fail2ban's units (`permanent` or `-1` for ever); else the jail's bantime; else one day. */
export function banLength(forText: string | undefined, jail: JailConfig | undefined): number {
  if (forText === undefined) return jail?.bantime ?? DEFAULT_MANUAL_BANTIME;
  if (/^(?:permanent|forever)$/i.test(forText.trim())) return PERMANENT;
  let ms: number;
  try {
    ms = parseDuration(forText);
  } catch (err) {
    throw new CliError(`--for: ${(err as Error).message}`, EXIT.usage, { cause: err });
  }
  if (ms === 0) throw new CliError('--for: a ban needs a length above 0 (or permanent)', EXIT.usage);
  return ms;
}

export function manualReason(reason: string | undefined): string | undefined {
  if (reason === undefined || reason === '') return undefined;
  if (reason.length > LIMITS.reason) throw new CliError(`--reason: at most ${LIMITS.reason} characters`, EXIT.usage);
  return reason;
}

/** An allowlist entry that a target overlaps, and which list it comes from. */
export interface Refusal {
  entry: string;
  /** Why the entry is there, as the error message says it. */
  what: string;
}

/** The target as the enforcers of `jail` ban it: IPv6 widened to the jail's ipv6prefix (the manual jail bans single addresses). */
function enforcedTarget(target: Target, jail: string, config: Pick<Config, 'jails'>): Target {
  const prefix = config.jails[jail]?.ipv6prefix ?? 128;
  return target.family === 6 && target.prefix > prefix ? banTargetFor(target.address, prefix) : target;
}

function firstMatch(target: Target, lists: ReadonlyArray<[Allowlist, string]>): Refusal | undefined {
  for (const [list, what] of lists) {
    const entry = list.match(target);
    if (entry !== undefined) return { entry, what };
  }
  return undefined;
}

const LOOPBACK = new Allowlist(LOOPBACK_NETWORKS);

/**
 * Why every enforcer that runs this config refuses a ban in a jail, or
 * undefined: it overlaps loopback, `enforcer.ignoreip`, or the jail's own
 * `ignoreip` (each enforcer also refuses its own addresses, which only it
 * knows). `banned` uses it not to call such a ban in force; the lists are
 * built once per jail, as a stream may hold many bans.
 */
export function fleetRefusals(config: Pick<Config, 'jails' | 'enforcer'>): (target: Target, jail: string) => Refusal | undefined {
  const fleet = new Allowlist(config.enforcer.ignoreip);
  const jails = new Map<string, Allowlist>();
  return (target, jail) => {
    let own = jails.get(jail);
    if (!own) jails.set(jail, (own = new Allowlist(config.jails[jail]?.ignoreip ?? [])));
    return firstMatch(enforcedTarget(target, jail, config), [
      [LOOPBACK, 'loopback'],
      [fleet, 'allowlisted (enforcer.ignoreip)'],
      [own, `allowlisted (ignoreip of jail ${jail})`],
    ]);
  };
}

/**
 * What a manual ban in `jail` must never cover: all that {@link fleetRefusals}
 * names (so `0.0.0.0/0` and `::/0` too, as they cover loopback), this host's
 * own addresses (unless the jail says `ignoreself: false`), and
 * `defaults.ignoreip`, which the operator meant for every jail, the manual
 * one included. fail2ban's `banip` skips ignoreip; there is no `--force` here
 * because the enforcers refuse loopback and ignoreip themselves, so a forced
 * ban would be stored, listed, and applied nowhere: an operator who means it
 * takes the address out of the list.
 */
export function manualRefusal(target: Target, jail: string, config: ManualConfig, hostAddresses: readonly string[]): Refusal | undefined {
  const enforced = enforcedTarget(target, jail, config);
  const self = (config.jails[jail]?.ignoreself ?? true) ? hostAddresses : [];
  return (
    fleetRefusals(config)(target, jail) ??
    firstMatch(enforced, [
      [new Allowlist(self), "this host's own address"],
      [new Allowlist(config.defaults.ignoreip), 'allowlisted (defaults.ignoreip)'],
    ])
  );
}

export type ManualConfig = Pick<Config, 'jails' | 'enforcer' | 'defaults'>;

/** Refuses (exit 65) a target that overlaps what must never be banned, checked as the enforcer will ban it. */
export function checkAllowed(target: Target, jail: string, config: ManualConfig, hostAddresses: readonly string[]): void {
  const refusal = manualRefusal(target, jail, config, hostAddresses);
  if (refusal === undefined) return;
  const enforced = enforcedTarget(target, jail, config);
  throw new CliError(`refusing to ban ${enforced.text}: it covers ${refusal.entry}, which is ${refusal.what}`, EXIT.refused);
}

/**
 * Refuses a ban that would outlast the decisions stream: a new or restarted
 * enforcer replays the stream to learn the ban set, so a ban whose decision
 * has left the stream would be forgotten by it.
 */
export function checkRetention(duration: number, stream: { name: string; maxAgeMs: number }): void {
  if (stream.maxAgeMs === 0) return;
  if (duration !== PERMANENT && duration <= stream.maxAgeMs) return;
  throw new CliError(
    `refusing a ${formatDuration(duration)} ban: the decisions stream ${stream.name} keeps decisions for ${formatDuration(stream.maxAgeMs)}, ` +
      `so an enforcer started after that would not know the ban. Ban for at most ${formatDuration(stream.maxAgeMs)}, ` +
      'or raise nats.streams.decisions.maxAge (0 keeps decisions for ever) and apply it with `fleetban streams --apply`',
    EXIT.refused,
  );
}

/** A decision id: readable, unique per command run (`nonce`), also the `Nats-Msg-Id`. */
export function manualId(action: 'ban' | 'unban', jail: string, target: string, time: number, nonce: string): string {
  return `manual-${action}:${jail}:${target}@${time}:${nonce}`;
}

export interface ManualContext {
  now: number;
  by: string;
  nonce: string;
}

export function manualBan(target: Target, jail: string, duration: number, reason: string | undefined, ctx: ManualContext): BanDecision {
  return {
    v: WIRE_VERSION,
    id: manualId('ban', jail, target.text, ctx.now, ctx.nonce),
    action: 'ban',
    jail,
    target: target.text,
    time: ctx.now,
    duration,
    origin: 'manual',
    ...(reason !== undefined && { reason }),
    by: ctx.by,
  };
}

export function manualUnban(target: string, jail: string, reason: string | undefined, ctx: ManualContext): UnbanDecision {
  return {
    v: WIRE_VERSION,
    id: manualId('unban', jail, target, ctx.now, ctx.nonce),
    action: 'unban',
    jail,
    target,
    time: ctx.now,
    origin: 'manual',
    ...(reason !== undefined && { reason }),
    by: ctx.by,
  };
}

/** Whether two targets share an address: one contains the other. */
export function overlaps(a: Target, b: Target): boolean {
  if (a.family !== b.family) return false;
  const shift = BigInt(bitsOf(a.family) - Math.min(a.prefix, b.prefix));
  return addressBits(a) >> shift === addressBits(b) >> shift;
}

/** Active bans of exactly `target` (what an unban can lift) and those that only overlap it. */
export function bansFor(active: Iterable<ActiveBan>, target: Target): { exact: ActiveBan[]; overlapping: ActiveBan[] } {
  const exact: ActiveBan[] = [];
  const overlapping: ActiveBan[] = [];
  for (const ban of active) {
    if (ban.target === target.text) exact.push(ban);
    else if (overlaps(parseTarget(ban.target), target)) overlapping.push(ban);
  }
  return { exact, overlapping };
}
