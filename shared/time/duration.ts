import { InvalidDurationError } from '../errors.ts';

/** A ban that never ends (fail2ban's `bantime = -1`). Durations are otherwise ms >= 0. */
export const PERMANENT = -1;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
// fail2ban's MyTime.str2seconds: a year is 365.25 days and a month a twelfth of it.
const YEAR = (365 * 3 + 366) * DAY / 4;
const MONTH = YEAR / 12;

// Unit spellings that fail2ban accepts (MyTime._str2sec_subparts), longest first
// within each unit so that `mo` is not read as `m` followed by junk.
const UNITS: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(?:years?|yea|ye|yy|y)$/i, YEAR],
  [/^(?:months?|mon|mo)$/i, MONTH],
  [/^(?:weeks?|wee|we|ww|w)$/i, WEEK],
  [/^(?:days?|da|dd|d)$/i, DAY],
  [/^(?:hours?|hh|h)$/i, HOUR],
  [/^(?:minutes?|mins?|mm|m)$/i, MINUTE],
  [/^(?:seconds?|secs?|ss|s)$/i, SECOND],
];

const PART = /(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)/iy;

/**
 * Parses a duration in fail2ban's forms and returns milliseconds:
 * `600` (seconds), `10m`, `1h`, `1d`, `2w`, `1d12h`, `1h 30m`, `3 weeks`,
 * and `-1` for a permanent ban ({@link PERMANENT}). A number is seconds.
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') return fromSeconds(input, String(input));
  const text = input.trim();
  if (text === '') throw new InvalidDurationError('empty duration');
  if (/^-1(?:\.0*)?$/.test(text)) return PERMANENT;
  if (/^-/.test(text)) throw new InvalidDurationError(`negative duration "${input}" (only -1, permanent, is allowed)`);
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    while (pos < text.length && /[\s+]/.test(text[pos]!)) pos++;
    if (pos >= text.length) break;
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) throw new InvalidDurationError(`cannot read duration "${input}" at "${text.slice(pos)}"`);
    const value = Number(m[1]);
    const unit = m[2] ?? '';
    let scale = SECOND;
    if (unit !== '') {
      const found = UNITS.find(([re]) => re.test(unit));
      if (!found) throw new InvalidDurationError(`unknown unit "${unit}" in duration "${input}" (use s, m, h, d, w, mo, y)`);
      scale = found[1];
    }
    total += value * scale;
    pos = PART.lastIndex;
  }
  return checked(Math.round(total), input);
}

function fromSeconds(seconds: number, original: string): number {
  if (seconds === -1) return PERMANENT;
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidDurationError(`invalid duration ${original} (a number of seconds >= 0, or -1 for permanent)`);
  }
  return checked(Math.round(seconds * SECOND), original);
}

function checked(ms: number, original: string | number): number {
  if (!Number.isSafeInteger(ms)) throw new InvalidDurationError(`duration "${original}" is too large`);
  return ms;
}

/** Formats ms the way fail2ban users write durations: `1d12h`, `10m`, `permanent`. */
export function formatDuration(ms: number): string {
  if (ms === PERMANENT) return 'permanent';
  if (ms < SECOND) return `${ms}ms`;
  let rest = Math.round(ms / SECOND);
  const parts: string[] = [];
  for (const [unit, size] of [['w', 604800], ['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
