import { Allowlist, LOOPBACK_NETWORKS, tryCanonicalIp } from '../../shared/ip/index.ts';
import { LIMITS, truncateLine, WIRE_VERSION, type FailureEvent } from '../../shared/schema/index.ts';
import type { Match } from './matching.ts';

/** Why a failure the filter found is not published. */
export const DROP_REASONS = ['allowlisted', 'too_old', 'no_address', 'invalid'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export type GateResult = { publish: true; event: FailureEvent } | { publish: false; reason: DropReason; ip?: string };

/** The allowlist of a jail: ignoreip, the host's own addresses when ignoreself, and loopback always. */
export function jailAllowlist(jail: { ignoreip: readonly string[]; ignoreself: boolean }, ownAddresses: readonly string[]): Allowlist {
  return new Allowlist([...LOOPBACK_NETWORKS, ...jail.ignoreip, ...(jail.ignoreself ? ownAddresses : [])]);
}

export interface GateContext {
  jail: string;
  findtime: number;
  host: string;
  allowlist: Allowlist;
}

/**
 * Decides whether a failure is published and builds its event. Applied
 * before publishing, as fail2ban does before counting: an allowlisted
 * address is never sent, and a line older than findtime when read (time from
 * the line, `now` from the clock at read) would not count anyway.
 */
export function gate(ctx: GateContext, match: Match, where: { id: string; source: string; now: number }): GateResult {
  const ip = match.ip === undefined ? undefined : tryCanonicalIp(match.ip);
  if (ip === undefined) return { publish: false, reason: 'no_address' };
  if (ctx.allowlist.has(ip)) return { publish: false, reason: 'allowlisted', ip };
  // A line whose date could not be read counts as read now, as in fail2ban.
  const time = Number.isFinite(match.time) ? Math.max(0, Math.round(match.time)) : where.now;
  if (where.now - time > ctx.findtime) return { publish: false, reason: 'too_old', ip };
  const event: FailureEvent = {
    v: WIRE_VERSION,
    id: where.id,
    jail: ctx.jail,
    ip,
    time,
    host: ctx.host,
    source: where.source.slice(0, LIMITS.source),
  };
  if (match.user !== undefined && match.user !== '') event.user = match.user.slice(0, LIMITS.user);
  if (match.lines.length > 0) event.line = truncateLine(match.lines.join('\n'));
  return { publish: true, event };
}
