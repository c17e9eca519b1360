import { wallOf, wallValue, type LocalZone } from './date/zones.ts';

/**
 * A journald entry (`journalctl --output=json` fields) as the line fail2ban's
 * systemd backend builds from it (FilterSystemd.formatJournalEntry):
 * `HOSTNAME IDENT[PID]: MESSAGE`, a kernel entry with its monotonic time,
 * new lines in the message written as `\n`. The time is the entry's
 * source time when it has one, else the journal's receive time.
 */
export function journalLine(entry: Record<string, unknown>): { line: string; time: number } {
  const parts: string[] = [];
  const hostname = text(entry._HOSTNAME);
  if (hostname) parts.push(hostname);
  const ident = text(entry.SYSLOG_IDENTIFIER) || text(entry._COMM);
  if (ident) {
    let element = ident;
    const pid = text(entry.SYSLOG_PID) || text(entry._PID);
    if (pid) element += `[${pythonInt(pid) ?? pid}]`;
    element += ':';
    parts.push(element);
    if (element === 'kernel:') {
      const monotonic = text(entry._SOURCE_MONOTONIC_TIMESTAMP) || text(entry.__MONOTONIC_TIMESTAMP);
      const seconds = Number(monotonic) / 1e6;
      if (Number.isFinite(seconds)) parts.push(`[${seconds.toFixed(6).padStart(12, ' ')}]`);
    }
  }
  parts.push(message(entry.MESSAGE));
  const micros = journalMicros(entry);
  return { line: parts.join(' ').replaceAll('\n', '\\n'), time: Number.isFinite(micros) ? Math.floor(micros / 1000) : NaN };
}

/** The entry's time in microseconds since the epoch: its source time when it has one, else the receive time; NaN when neither. */
export function journalMicros(entry: Record<string, unknown>): number {
  return Number(text(entry._SOURCE_REALTIME_TIMESTAMP) || text(entry.__REALTIME_TIMESTAMP));
}

/** A field value: journalctl writes a repeated field as an array, a binary one as an array of bytes. */
function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number')) return Buffer.from(value as number[]).toString('utf8');
    return text(value[0]);
  }
  return String(value);
}

function message(value: unknown): string {
  if (Array.isArray(value) && !value.every((v) => typeof v === 'number')) return value.map(text).join(' ');
  return text(value);
}

/** Python's int(value, 0) for a PID, or undefined when Python would refuse it. */
function pythonInt(value: string): number | undefined {
  const s = value.trim().replaceAll('_', '');
  if (/^[+-]?(?:[1-9]\d*|0+)$/.test(s)) return Number(s);
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(s)) return Number.parseInt(s, 16);
  if (/^[+-]?0[oO][0-7]+$/.test(s)) return Number.parseInt(s.replace(/0[oO]/, ''), 8);
  if (/^[+-]?0[bB][01]+$/.test(s)) return Number.parseInt(s.replace(/0[bB]/, ''), 2);
  return undefined;
}

/**
 * The date text fail2ban-regex puts before an entry's line, and the time it
 * gives the entry. python-systemd turns the entry's time into a datetime in
 * the zone offset in force when the process started (one fixed offset, also
 * for entries from the other side of a DST change); fail2ban prints it with
 * isoformat() (`2025-01-05T10:00:00.123456+01:00`) and takes the time back
 * with time.mktime() of its wall clock, which reads it in the local zone.
 */
export function journalDate(zone: LocalZone, micros: number, startedMs: number): { dateText: string; time: number } {
  const seconds = Math.floor(micros / 1e6);
  const fraction = micros - seconds * 1e6;
  const startSecond = Math.floor(startedMs / 1000) * 1000;
  const offsetMs = wallValue(zone.toWall(startSecond)) - startSecond;
  const wall = wallOf(seconds * 1000 + offsetMs);
  const p = (n: number, l = 2) => String(n).padStart(l, '0');
  const offsetMin = Math.round(Math.abs(offsetMs) / 60000);
  const offset = `${offsetMs < 0 ? '-' : '+'}${p(Math.floor(offsetMin / 60))}:${p(offsetMin % 60)}`;
  const dateText = `${p(wall.y, 4)}-${p(wall.mo)}-${p(wall.d)}T${p(wall.h)}:${p(wall.mi)}:${p(wall.s)}${fraction ? `.${p(fraction, 6)}` : ''}${offset}`;
  return { dateText, time: zone.fromWall(wall) / 1000 + fraction / 1e6 };
}
