import { hostname } from 'node:os';
import { getOwn, matchedLines, parseIpv4, parseIpv6, type Failure } from '../../../../shared/filter/index.ts';
import { idText, ipText, pyRepr, pyStr, pyTime } from './text.ts';

/** `-o TOKEN` and `-o FORMAT`: what fail2ban-regex prints of each failure instead of its report. */

const TAG = /<([^ <>]+)>/g;
/** fail2ban's FCUSTAG_CRE: the failure's own groups, upper case only. */
const F_TAG = /<F-([A-Z0-9_-]+)>/g;
/** mapTag2Opt: the group names fail2ban keeps under another key. */
const F_KEYS: Readonly<Record<string, string>> = { id: 'fid', port: 'fport' };
/** fail2ban-regex's stand-in for a multi-line `<msg>`, replaced once per line at the end. */
const MSG = '\u0000msg\u0000';

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
      return f.time === undefined ? pyRepr(Date.now() / 1000) : pyTime(f);
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

/** repr() of the failure's `matches`: a list of (before date, date, after date) tuples; undefined when it has none. */
function pyMatches(f: Failure): string | undefined {
  const lines = getOwn(f.fail, 'matches') as readonly (readonly string[] | string)[] | undefined;
  if (!lines) return undefined;
  const tuple = (t: readonly string[]) => `(${t.map((p) => pyRepr(p)).join(', ')})`;
  return `[${lines.map((t) => (typeof t === 'string' ? pyRepr(t) : tuple(t))).join(', ')}]`;
}

/** A failure group for `<F-NAME>` (the ticket's data: `failures` and `matches` too); undefined when it has none. */
function ticketData(f: Failure, key: string): string | undefined {
  // The ticket's count of failures: 0 for a ticket just made, unless a group of that name set it.
  if (key === 'failures') return typeof getOwn(f.fail, 'failures') === 'string' ? (getOwn(f.fail, 'failures') as string) : '0';
  if (key === 'matches') return pyMatches(f) ?? '[]';
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
      out.push(`[${id === undefined ? pyRepr(f.id?.text) : pyRepr(id)},\t${pyTime(f)},\t${pyRepr(data)}],`);
    } else if (token === 'matches') {
      out.push(pyMatches(f) ?? 'None');
    } else {
      const v = getOwn(f.fail, token);
      out.push(v === undefined || v === null ? 'None' : pyStr(v));
    }
  }
  return out;
}
