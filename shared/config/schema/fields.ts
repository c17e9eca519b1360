import { z } from 'zod';
import { errorMessage } from '../../errors.ts';
import { parseTarget } from '../../ip/index.ts';
import { parseDuration, PERMANENT } from '../../time/index.ts';

/**
 * Field types shared by the config sections. Each accepts what a fail2ban user
 * would write (`10m`, `yes`, space- or comma-separated lists) and yields one
 * typed value (ms, boolean, string[]).
 */

/** Any duration in fail2ban's forms, as ms; -1 (permanent) allowed. */
export const banDuration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: errorMessage(err) });
    return z.NEVER;
  }
});

/** A duration that must be positive (findtime, timeouts): -1 and 0 refused. */
export const duration = banDuration.refine((ms) => ms > 0, 'must be a positive duration');

/** `true`/`false` and fail2ban's `yes`/`no`/`on`/`off`. */
export const boolish = z.union([
  z.boolean(),
  z.enum(['yes', 'no', 'true', 'false', 'on', 'off', '1', '0']).transform((s) => ['yes', 'true', 'on', '1'].includes(s)),
]);

/** A list, or a string of items separated by spaces, commas or new lines (fail2ban writes `ignoreip` so). */
export const stringList = z
  .union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])
  .transform((value) => (typeof value === 'string' ? value.split(/[\s,]+/) : typeof value === 'number' ? [String(value)] : value.map(String)).filter((s) => s !== ''));

/** A non-empty single-line string. */
export const name = z.string().min(1).max(255).regex(/^[^\n\r]*$/, 'must be one line');

/** Addresses and CIDRs, canonicalised; a host name is refused (fleetban never resolves names for allowlists). */
export const addressList = stringList.transform((items, ctx) => {
  const out: string[] = [];
  for (const item of items) {
    try {
      out.push(parseTarget(item).text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not an IP address or CIDR` });
    }
  }
  return out;
});

/** A port, a range (`1000:2000` or `1000-2000`) or a service name such as `ssh`. */
const portItem = z.string().refine((p) => {
  const range = /^(\d{1,5})(?:[:-](\d{1,5}))?$/.exec(p);
  if (range) return Number(range[1]) <= 65535 && (range[2] === undefined || (Number(range[2]) <= 65535 && Number(range[2]) >= Number(range[1])));
  return /^[a-z][a-z0-9-]{0,31}$/i.test(p);
}, 'ports are numbers, ranges (1000:2000) or service names (ssh)');
export const portList = stringList.pipe(z.array(portItem));

/** A TCP port to connect to, as text: 1-65535. */
export function validPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

/** `host:port`, `[v6]:port`, `:port` or a bare port for a listening socket. */
export const listenAddress = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = String(value);
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `expected host:port or a port, got "${text}"` });
    return z.NEVER;
  }
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { host, port };
});

export { PERMANENT };
