/** Fields of a pino line that the short form shows in its own way or leaves out. */
const SHOWN = new Set(['level', 'time', 'msg', 'part', 'host', 'pid', 'hostname', 'v']);

/**
 * One line a child wrote, for a terminal: a fleetban part's JSON log line
 * becomes `HH:MM:SS scorer   warn  message key=value`; anything else is
 * prefixed with the child's name.
 */
export function formatChildLine(name: string, line: string): string {
  const label = name.padEnd(8);
  let entry: Record<string, unknown> | undefined;
  if (line.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) entry = parsed as Record<string, unknown>;
    } catch {
      entry = undefined;
    }
  }
  if (!entry || typeof entry.msg !== 'string') return `${label} ${line}`;
  const time = typeof entry.time === 'string' && /T(\d\d:\d\d:\d\d)/.exec(entry.time)?.[1];
  const level = typeof entry.level === 'string' ? entry.level : String(entry.level ?? '');
  const fields = Object.entries(entry)
    .filter(([key]) => !SHOWN.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  return [time || '--:--:--', label, level.padEnd(5), entry.msg, ...fields].join(' ');
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (value && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') return JSON.stringify((value as { message: string }).message);
  return JSON.stringify(value);
}
