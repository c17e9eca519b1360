import { canonicalIp } from '../../shared/ip/index.ts';
import { decisionCodec, failureCodec, type JailStatus } from '../../shared/schema/index.ts';
import type { StoredMessage } from '../harness/index.ts';
import type { KernelSet } from './observe.ts';
import type { Surprise } from './supervised.ts';
import type { PlannedAddress, WrittenLine } from './writer.ts';

export interface Check {
  name: string;
  ok: boolean;
  /** Expected and found, in a few words. */
  detail: string;
}

/** What the soak wrote, from which the exact end state follows. */
export interface Expected {
  lines: readonly WrittenLine[];
  addresses: readonly PlannedAddress[];
  maxretry: number;
  bantimeMs: number;
}

export interface Found {
  failures: readonly StoredMessage[];
  decisions: readonly StoredMessage[];
  /** Per enforcer, by name. */
  kernel: ReadonlyArray<{ name: string; set: KernelSet }>;
  status: JailStatus | string;
  /** `fleetban banned --json`'s targets, or its error. */
  banned: readonly string[] | string;
  surprises: readonly Surprise[];
}

const few = (items: Iterable<string>, n = 5): string => {
  const list = [...items];
  return list.length === 0 ? 'none' : `${list.slice(0, n).join(', ')}${list.length > n ? ` and ${list.length - n} more` : ''}`;
};

function sameSet(name: string, expected: ReadonlySet<string>, found: Iterable<string>): Check {
  const got = new Set(found);
  const missing = [...expected].filter((ip) => !got.has(ip));
  const extra = [...got].filter((ip) => !expected.has(ip));
  const ok = missing.length === 0 && extra.length === 0;
  const detail = ok
    ? `${expected.size} addresses`
    : `expected ${expected.size}, found ${got.size}; missing ${few(missing)}; not expected ${few(extra)}`;
  return { name, ok, detail };
}

/** The addresses that must be banned: those written maxretry times or more (all within findtime by design). */
export function expectedBans(expected: Expected): Set<string> {
  return new Set(expected.addresses.filter((a) => a.written >= expected.maxretry).map((a) => a.ip));
}

/**
 * The exact end state: every line once in the failures stream; one ban
 * decision per address at or over maxretry and none below; each enforcer's
 * kernel set equal to that ban set; `status` and `banned` agreeing; and no
 * process that crashed or ignored SIGTERM.
 */
export function checkAll(expected: Expected, found: Found): Check[] {
  const bans = expectedBans(expected);
  return [
    checkFailures(expected, found.failures),
    ...checkDecisions(expected, bans, found.decisions),
    ...found.kernel.map(({ name, set }) => checkKernel(name, bans, set, expected.bantimeMs)),
    ...checkStatus(expected, bans, found.status),
    typeof found.banned === 'string'
      ? { name: '`fleetban banned` lists the bans in force', ok: false, detail: found.banned }
      : sameSet('`fleetban banned` lists the bans in force', bans, found.banned),
    {
      name: 'no process crashed, failed to start or ignored SIGTERM',
      ok: found.surprises.length === 0,
      detail: few(found.surprises.map((s) => `${s.target} at ${(s.atMs / 1000).toFixed(1)} s: ${s.what}`), 10),
    },
  ];
}

function checkFailures(expected: Expected, stored: readonly StoredMessage[]): Check {
  const written = new Map(expected.lines.map((l) => [l.user, l]));
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  const wrong: string[] = [];
  for (const m of stored) {
    const decoded = failureCodec.decode(m.data);
    if (!decoded.ok) {
      wrong.push(`seq ${m.seq}: ${decoded.reason}`);
      continue;
    }
    const e = decoded.value;
    const line = e.user === undefined ? undefined : written.get(e.user);
    // A log time counts to the second, as fail2ban reads it.
    if (!line || line.ip !== e.ip || line.host !== e.host || Math.floor(line.time / 1000) * 1000 !== e.time) {
      const was = line ? `${line.ip} ${line.host} ${line.time}` : 'no such line';
      wrong.push(`seq ${m.seq}: ${e.user} ${e.ip} ${e.host} ${e.time} (written: ${was})`);
    }
    seen.set(e.user ?? '', (seen.get(e.user ?? '') ?? 0) + 1);
    ids.add(e.id);
  }
  const twice = [...seen].filter(([, n]) => n > 1).map(([u, n]) => `${u} x${n}`);
  const missing = [...written.keys()].filter((u) => !seen.has(u));
  const ok = wrong.length === 0 && twice.length === 0 && missing.length === 0 && ids.size === stored.length;
  return {
    name: 'the failures stream holds each line written once',
    ok,
    detail: ok
      ? `${stored.length} failures`
      : `written ${written.size}, stored ${stored.length} (${ids.size} ids); twice ${few(twice)}; missing ${few(missing)}; wrong ${few(wrong)}`,
  };
}

function checkDecisions(expected: Expected, bans: ReadonlySet<string>, stored: readonly StoredMessage[]): Check[] {
  const perTarget = new Map<string, number>();
  const odd: string[] = [];
  for (const m of stored) {
    const decoded = decisionCodec.decode(m.data);
    if (!decoded.ok) {
      odd.push(`seq ${m.seq}: ${decoded.reason}`);
      continue;
    }
    const d = decoded.value;
    if (d.action !== 'ban') {
      odd.push(`seq ${m.seq}: an unban of ${d.target}`);
      continue;
    }
    perTarget.set(d.target, (perTarget.get(d.target) ?? 0) + 1);
    if (d.origin !== 'scorer' || d.failures !== expected.maxretry || d.banCount !== 1 || d.duration !== expected.bantimeMs) {
      odd.push(`${d.target}: origin ${d.origin}, ${d.failures} failures, ban count ${d.banCount}, ${d.duration} ms`);
    }
  }
  const twice = [...perTarget].filter(([, n]) => n > 1).map(([t, n]) => `${t} x${n}`);
  return [
    sameSet('one ban decision for each address at or over maxretry, none below', bans, perTarget.keys()),
    {
      name: 'no address is banned twice, and each ban is as the jail says',
      ok: twice.length === 0 && odd.length === 0,
      detail: twice.length === 0 && odd.length === 0
        ? `${stored.length} decisions`
        : `banned more than once: ${few(twice)}; unexpected: ${few(odd)}`,
    },
  ];
}

function checkKernel(name: string, bans: ReadonlySet<string>, set: KernelSet, bantimeMs: number): Check {
  const targets = [...set.keys()].map((t) => (t.includes('/') ? t : canonicalIp(t)));
  const check = sameSet(`${name}'s kernel set holds exactly the bans in force`, bans, targets);
  const badTimeouts = [...set]
    .filter(([, left]) => left === null || left <= 0 || left * 1000 > bantimeMs + 1000)
    .map(([t, left]) => `${t} (${left})`);
  if (badTimeouts.length === 0) return check;
  return { ...check, ok: false, detail: `${check.detail}; timeouts outside the ban: ${few(badTimeouts)}` };
}

function checkStatus(expected: Expected, bans: ReadonlySet<string>, status: JailStatus | string): Check[] {
  const failed = '`fleetban status`: currently failed and total failed';
  const banned = '`fleetban status`: currently banned and total banned';
  if (typeof status === 'string') return [{ name: failed, ok: false, detail: status }, { name: banned, ok: false, detail: status }];
  const compare = (name: string, want: Record<string, number>, got: Record<string, number>): Check => {
    const ok = Object.keys(want).every((k) => want[k] === got[k]);
    return { name, ok, detail: ok ? JSON.stringify(got) : `expected ${JSON.stringify(want)}, found ${JSON.stringify(got)}` };
  };
  return [
    compare(
      failed,
      {
        currentlyFailed: expected.addresses.filter((a) => a.written > 0 && a.written < expected.maxretry).length,
        // A failure after the ban is not counted: each address counts at most maxretry.
        totalFailed: expected.addresses.reduce((sum, a) => sum + Math.min(a.written, expected.maxretry), 0),
      },
      { currentlyFailed: status.currentlyFailed, totalFailed: status.totalFailed },
    ),
    compare(
      banned,
      { currentlyBanned: bans.size, totalBanned: bans.size },
      { currentlyBanned: status.currentlyBanned, totalBanned: status.totalBanned },
    ),
  ];
}
