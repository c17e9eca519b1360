import { hostname } from 'node:os';
import {
  fail2banIpText,
  getOwn,
  matchedLines,
  parseIpv4,
  parseIpv6,
  resolveTagsForDisplay,
  type Failure,
  type FailureId,
  type ZoneSettings,
} from '../../../../shared/filter/index.ts';
import type { RegexSession } from './session.ts';

/**
 * What `fleetban regex` prints: fail2ban-regex's report layout, its `-o`
 * tokens (an address printed exactly as fail2ban prints it), and a JSON
 * form of the same result.
 */

/** str(IPAddr) of a failure id; undefined for a host name fail2ban would have to resolve. */
export function idText(id: FailureId | null): string | undefined {
  if (!id) return 'None';
  if (id.kind === 'addr') return fail2banIpText(id.text, id.cidr);
  if (id.kind === 'raw') return id.text;
  return undefined;
}

/** `-o ip`: the ticket's address (`ip` for a failure whose id is not its address). */
export function ipText(f: Failure): string | undefined {
  const complex = getOwn(f.fail, 'ip') as FailureId | undefined;
  return complex ? idText(complex) : idText(f.id);
}

/** Python's repr() for the values fail2ban keeps in a failure. */
export function pyRepr(value: unknown): string {
  if (value === undefined || value === null) return 'None';
  if (typeof value === 'string') {
    const q = value.includes("'") && !value.includes('"') ? '"' : "'";
    const body = value.replace(/[\\\n\r\t]|[\x00-\x1f\x7f]/g, (c) => {
      if (c === '\\') return '\\\\';
      if (c === '\n') return '\\n';
      if (c === '\r') return '\\r';
      if (c === '\t') return '\\t';
      return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    });
    return q + (q === "'" ? body.replaceAll("'", "\\'") : body) + q;
  }
  if (typeof value === 'number') return Number.isInteger(value) ? `${value}.0` : String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value instanceof Set) return value.size === 0 ? 'set()' : `{${[...value].map(pyRepr).join(', ')}}`;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object' && 'kind' in (value as object) && 'text' in (value as object)) {
    return pyRepr(idText(value as FailureId) ?? (value as FailureId).text);
  }
  if (value instanceof Map) {
    return `{${[...value].map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  }
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}

const TAG = /<([^ <>]+)>/g;
/** fail2ban's FCUSTAG_CRE: the failure's own groups, upper case only. */
const F_TAG = /<F-([A-Z0-9_-]+)>/g;
/** mapTag2Opt: the group names fail2ban keeps under another key. */
const F_KEYS: Readonly<Record<string, string>> = { id: 'fid', port: 'fport' };
/** fail2ban-regex's stand-in for a multi-line `<msg>`, replaced once per line at the end. */
const MSG = '\u0000msg\u0000';

/** Python's str() of a failure value. */
function pyStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'kind' in value && 'text' in value) return idText(value as FailureId) ?? (value as FailureId).text;
  return pyRepr(value);
}

/** The family of a printed address, as IPAddr.familyStr: 'inet4', 'inet6', or 'None' for text that is no address. */
function family(text: string): 'inet4' | 'inet6' | 'None' {
  const addr = text.replace(/\/\d+$/, '');
  if (parseIpv4(addr)) return 'inet4';
  if (parseIpv6(addr)) return 'inet6';
  return 'None';
}

/** IPAddr.getPTR(''): the reversed octets of the printed form (its `/len` too), or the reversed nibbles of an IPv6 address. */
function reversePtr(text: string): string {
  const kind = family(text);
  if (kind === 'inet4') return `${text.split('.').reverse().join('.')}.`;
  if (kind === 'inet6') {
    const words = parseIpv6(text.replace(/\/\d+$/, ''))!;
    const hex = words.map((w) => w.toString(16).padStart(4, '0')).join('');
    return `${[...hex].reverse().join('.')}.`;
  }
  return '';
}

/**
 * A tag of the ticket fail2ban-regex builds for a failure (Actions.ActionInfo
 * of BanTicket(id, time, data)); undefined for one it does not know. Tags
 * that need a jail (bantime, ipmatches, jail.*) or a name lookup are not
 * known here; `ip-host` is 'None' because fleetban never resolves.
 */
function ticketTag(tag: string, f: Failure): string | undefined {
  switch (tag) {
    case 'ip':
      return ipText(f) ?? f.id?.text ?? 'None';
    case 'family':
      return family(ipText(f) ?? '');
    case 'ip-rev':
      return reversePtr(ipText(f) ?? '');
    case 'ip-host':
      return 'None';
    case 'fid':
      return idText(f.id) ?? f.id?.text ?? 'None';
    case 'failures':
      return ticketData(f, 'failures');
    case 'time':
      return pyRepr(f.time ?? Date.now() / 1000);
    case 'bancount':
    case 'restored':
      return '0';
    case 'matches':
      return matchedLines(f.fail).join('\n');
    default:
      return undefined;
  }
}

/** ADD_REPL_TAGS: the tags that stand for a character or this host. */
function fixedTag(tag: string): string | undefined {
  if (tag === 'br') return '\n';
  if (tag === 'sp') return ' ';
  if (tag === 'sh-hostname') return hostname();
  return undefined;
}

/** A failure group for `<F-NAME>` (the ticket's data: `failures` and `matches` too); undefined when it has none. */
function ticketData(f: Failure, key: string): string | undefined {
  // The ticket's count of failures: 0 for a ticket just made, unless a group of that name set it.
  if (key === 'failures') return typeof getOwn(f.fail, 'failures') === 'string' ? (getOwn(f.fail, 'failures') as string) : '0';
  if (key === 'matches') {
    const lines = (getOwn(f.fail, 'matches') as readonly (readonly string[])[] | undefined) ?? [];
    return `[${lines.map((t) => `(${t.map((p) => pyRepr(p)).join(', ')})`).join(', ')}]`;
  }
  const v = getOwn(f.fail, key);
  return v === undefined || v === null ? undefined : pyStr(v);
}

const escapeNul = (v: string) => v.replaceAll('\u0000', '\\x00');

/**
 * `-o FORMAT` as fail2ban-regex fills it (CommandAction.replaceDynamicTags):
 * first the ticket's tags, left as written when unknown; then, over the
 * result, every `<F-NAME>` group, empty when the failure has none. A
 * `<msg>` of several lines prints the row once per line, for this failure
 * and every one after it on the same log line.
 */
function formatTags(format: string, failures: readonly Failure[]): string[] {
  const out: string[] = [];
  const rows: Array<[Failure, string]> = [];
  let wrap = false;
  for (const f of failures) {
    let v = format.replace(TAG, (all, tag: string) => {
      if (tag === 'msg') {
        const lines = matchedLines(f.fail);
        if (!wrap && lines.length <= 1) return lines.join('\n');
        wrap = true;
        return MSG;
      }
      const value = ticketTag(tag, f);
      return value === undefined ? (fixedTag(tag) ?? all) : escapeNul(value);
    });
    if (v.includes('<')) v = v.replace(F_TAG, (_all, name: string) => {
      const lower = name.toLowerCase();
      const value = ticketData(f, F_KEYS[lower] ?? lower);
      return value === undefined ? '' : escapeNul(value);
    });
    if (wrap) rows.push([f, v]);
    else out.push(v);
  }
  for (const [f, v] of rows) for (const line of matchedLines(f.fail)) out.push(v.replaceAll(MSG, line));
  return out;
}

/** The lines `-o TOKEN` prints for the failures of one log line. */
export function formatOut(token: string, failures: readonly Failure[]): string[] {
  if (token.includes('<')) return formatTags(token, failures);
  const out: string[] = [];
  for (const f of failures) {
    if (token === 'id' || token === 'fid') {
      const t = idText(f.id);
      if (t !== undefined) out.push(t);
    } else if (token === 'ip') {
      const t = ipText(f);
      if (t !== undefined) out.push(t);
    } else if (token === 'msg') {
      out.push(...matchedLines(f.fail));
    } else if (token === 'row') {
      const data = Object.fromEntries(Object.entries(f.fail).filter(([k]) => k !== 'matches'));
      const id = idText(f.id);
      out.push(`[${id === undefined ? pyRepr(f.id?.text) : pyRepr(id)},\t${pyRepr(f.time)},\t${pyRepr(data)}],`);
    } else {
      const v = getOwn(f.fail, token);
      out.push(v === undefined || v === null ? 'None' : pyStr(v));
    }
  }
  return out;
}

function list(items: readonly string[], header?: string): string[] {
  if (items.length === 0) return [];
  const lines = header ? [`|- ${header}`] : [];
  return [...lines, ...items.map((i) => `|  ${i}`), '`-'];
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Python's `time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(t))`, as fail2ban-regex -v prints a failure's time. */
export function ctime(zone: ZoneSettings['zone'], ms: number): string {
  const w = zone.toWall(Math.floor(ms / 1000) * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const day = DAYS[new Date(Date.UTC(w.y, w.mo - 1, w.d)).getUTCDay()];
  return `${day} ${MONTHS[w.mo - 1]} ${p(w.d)} ${p(w.h)}:${p(w.mi)}:${p(w.s)} ${w.y}`;
}

/** fail2ban-regex's "Results" report. */
export function formatReport(session: RegexSession, verbose: boolean): string[] {
  const out: string[] = ['', 'Results', '======='];
  const pre = session.filter.prefregex;
  if (pre) {
    const groups = verbose ? session.prefregexGroups.map((g) => `    ${g === '...' ? g : pyRepr(g)}`) : [];
    out.push('', `Prefregex: ${session.prefregexMatched} total`, ...list([resolveTagsForDisplay(pre.pattern, session.filter.usedns), ...groups]));
  }
  const regexes = (title: string, stats: RegexSession['failregex']) => {
    const rows: string[] = [];
    let total = 0;
    stats.forEach((s, i) => {
      total += s.hits;
      if (s.hits || verbose) rows.push(`${String(i + 1).padStart(2)}) [${s.hits}] ${s.regex}`);
      if (verbose) {
        for (const { failure: f, multiple } of s.failures) {
          rows.push(`    ${idText(f.id) ?? f.id?.text}  ${f.time === undefined ? 'None' : ctime(session.zones.zone, f.time * 1000)}${multiple ? ' (multiple regex matched)' : ''}`);
        }
      }
    });
    out.push('', `${title}: ${total} total`, ...list(rows, ' #) [# of hits] regular expression'));
  };
  regexes('Failregex', session.failregex);
  regexes('Ignoreregex', session.ignoreregex);
  const templates = session.dateTemplates();
  if (templates) {
    out.push('', 'Date template hits:');
    out.push(...list(templates.filter((t) => verbose || t.hits).map((t) => `[${t.hits}] ${t.name}`), '[# of hits] date format'));
  }
  const s = session.stats;
  out.push('', `Lines: ${s.tested} lines, ${s.ignored} ignored, ${s.matched} matched, ${s.missed} missed`);
  out.push(`[processed in ${(session.elapsedMs / 1000).toFixed(2)} sec]`, '');
  if (session.unresolved) {
    out.push(`${session.unresolved} match(es) found a host name, not an address; fleetban never resolves names (--raw shows them)`, '');
  }
  const o = session.options;
  const section = (kind: 'matched' | 'ignored' | 'missed', count: number, lines: string[], all: boolean) => {
    if (!count) return;
    const header = `${kind[0]!.toUpperCase()}${kind.slice(1)} line(s):`;
    if (count < o.listLimit || all) out.push(...list(lines.map((l) => l.trimEnd()), header));
    else out.push(`${header} too many to print.  Use --print-all-${kind} to print all ${count} lines`);
  };
  if (o.printAllMatched) section('matched', s.matched, s.matchedLines, o.printAllMatched);
  if (!o.printNoIgnored) section('ignored', s.ignored, s.ignoredLines, o.printAllIgnored);
  if (!o.printNoMissed) section('missed', s.missed, s.missedLines, o.printAllMissed);
  return out;
}

/** The same result as JSON. */
export function formatJson(session: RegexSession): unknown {
  const s = session.stats;
  return {
    filter: session.filter.name,
    lines: { total: s.tested, matched: s.matched, missed: s.missed, ignored: s.ignored },
    prefregex: session.filter.prefregex ? { regex: session.filter.prefregex.pattern, matched: session.prefregexMatched } : null,
    failregex: session.failregex.map((r) => ({ regex: r.regex, hits: r.hits })),
    ignoreregex: session.ignoreregex.map((r) => ({ regex: r.regex, hits: r.hits })),
    dateTemplates: (session.dateTemplates() ?? []).filter((t) => t.hits > 0),
    failures: session.failures.map((f) => ({
      regex: f.regexIndex + 1,
      ip: ipText(f) ?? null,
      host: (getOwn(f.fail, 'ip') as FailureId | undefined)?.text ?? f.id?.text ?? null,
      time: f.time === undefined ? null : new Date(Math.round(f.time * 1000)).toISOString(),
      user: typeof getOwn(f.fail, 'user') === 'string' ? (getOwn(f.fail, 'user') as string) : null,
      lines: matchedLines(f.fail),
    })),
    missedLines: s.missedLines,
    ignoredLines: s.ignoredLines,
    unresolvedHostNames: session.unresolved,
    elapsedSeconds: Number((session.elapsedMs / 1000).toFixed(3)),
  };
}
