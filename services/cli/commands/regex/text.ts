import { fail2banIpText, getOwn, type Failure, type FailureId, type ZoneSettings } from '../../../../shared/filter/index.ts';

/**
 * Values as fail2ban-regex (Python) prints them: addresses as str(IPAddr),
 * repr() and str() of failure data, and time.strftime's ctime-like form.
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

/**
 * repr() of a failure's time as fail2ban keeps it: an int for a date with a
 * zone or read with --timezone (`1432040705`), else a float (`1432040705.0`).
 */
export function pyTime(f: Failure): string {
  if (f.time === undefined) return 'None';
  return f.wholeTime && Number.isInteger(f.time) ? String(f.time) : pyRepr(f.time);
}

/** Python's str() of a failure value. */
export function pyStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'kind' in value && 'text' in value) return idText(value as FailureId) ?? (value as FailureId).text;
  return pyRepr(value);
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
