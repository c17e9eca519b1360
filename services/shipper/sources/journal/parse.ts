/**
 * journalctl's JSON output, one entry per line (`--output=json --all`):
 * every field is a string; a field that is not valid UTF-8 is an array of
 * byte values; a field that occurs several times is an array of such values;
 * `null` stands for a value journalctl left out. Pure: text in, entry out.
 */
export type JournalValue = string | string[];
export type JournalEntry = Record<string, JournalValue>;

/** A journal line longer than this (JSON of one entry) is skipped rather than held. */
export const MAX_ENTRY_BYTES = 1 << 20;

export type ParsedEntry = { ok: true; cursor: string; entry: JournalEntry; time: number | undefined } | { ok: false; reason: string };

const decoder = new TextDecoder('utf-8');
const FIELD = /^[A-Z0-9_]{1,64}$/;

function decodeValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return decoder.decode(Uint8Array.from(value as number[]));
  return undefined;
}

function normalise(value: unknown): JournalValue | undefined {
  const single = decodeValue(value);
  if (single !== undefined) return single;
  if (!Array.isArray(value)) return undefined;
  const many = value.map(decodeValue).filter((v): v is string => v !== undefined);
  return many.length > 0 ? many : undefined;
}

/** Microseconds since the epoch (journal timestamps) to ms. */
function microsToMs(value: JournalValue | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d{1,19}$/.test(text)) return undefined;
  return Math.floor(Number(text) / 1000);
}

/** One line of journalctl's output as an entry, its cursor and its time (the source's own time when it gave one). */
export function parseJournalLine(text: string): ParsedEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: 'not a JSON object' };
  const entry: JournalEntry = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!FIELD.test(key)) continue;
    const v = normalise(value);
    if (v !== undefined) entry[key] = v;
  }
  const cursor = entry.__CURSOR;
  if (typeof cursor !== 'string' || cursor === '') return { ok: false, reason: 'entry without __CURSOR' };
  const time = microsToMs(entry._SOURCE_REALTIME_TIMESTAMP) ?? microsToMs(entry.__REALTIME_TIMESTAMP);
  return { ok: true, cursor, entry, time };
}

/** journalctl's match arguments: terms of a group are ANDed, groups are ORed with `+`. */
export function matchArgs(groups: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  for (const group of groups) {
    const terms = group.filter((t) => t !== '');
    if (terms.length === 0) continue;
    for (const term of terms) {
      if (!/^[A-Z0-9_]+=/.test(term)) throw new Error(`not a journal match: "${term}" (FIELD=value)`);
    }
    if (out.length > 0) out.push('+');
    out.push(...terms);
  }
  return out;
}

export interface JournalctlOptions {
  directory?: string;
  match: readonly (readonly string[])[];
}

/**
 * Arguments that follow the journal from a position: after `cursor`, or
 * from the oldest entry when the position is `null` (the journal was empty
 * when this jail first started).
 */
export function followArgs(options: JournalctlOptions, cursor: string | null): string[] {
  return [
    '--follow', '--output=json', '--all', '--quiet', '--no-pager',
    ...(options.directory ? [`--directory=${options.directory}`] : []),
    cursor === null ? '--lines=all' : `--after-cursor=${cursor}`,
    '--', ...matchArgs(options.match),
  ];
}

/** Arguments that print the newest matching entry: where a jail seen for the first time starts. */
export function lastEntryArgs(options: JournalctlOptions): string[] {
  return [
    '--output=json', '--all', '--quiet', '--no-pager', '--lines=1',
    ...(options.directory ? [`--directory=${options.directory}`] : []),
    '--', ...matchArgs(options.match),
  ];
}

/**
 * What else fail2ban's systemd backend may be told (`systemd-journal[journalpath=…]`, see
 * `man jail.conf`), as journalctl options: `journalfiles` → `--file`, `namespace` →
 * `--namespace`, and the journal kinds `journalflags` selects.
 */
export interface JournalReadOptions extends JournalctlOptions {
  files?: readonly string[];
  namespace?: string;
  /** `--system` (system services and the kernel), `--user` (the current user's services). */
  system?: boolean;
  user?: boolean;
  /** `--merge`: remote machines' journals too. */
  merge?: boolean;
}

/** Arguments that print every matching entry once, oldest first, and exit (no `--follow`). */
export function readArgs(options: JournalReadOptions): string[] {
  return [
    '--output=json', '--all', '--quiet', '--no-pager',
    ...(options.directory ? [`--directory=${options.directory}`] : []),
    ...(options.files ?? []).map((f) => `--file=${f}`),
    ...(options.namespace ? [`--namespace=${options.namespace}`] : []),
    ...(options.system ? ['--system'] : []),
    ...(options.user ? ['--user'] : []),
    ...(options.merge ? ['--merge'] : []),
    '--', ...matchArgs(options.match),
  ];
}
