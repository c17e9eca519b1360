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

/**
 * The longest duration fleetban accepts, 100 years, also the longest ban it
 * gives (shared/config/bantime.ts): longer is as good as permanent (`-1`), and
 * the bound keeps ms safe integers and the streams' nanoseconds within int64.
 */
export const MAX_DURATION = 100 * YEAR;

// Unit spellings that fail2ban accepts (MyTime._str2sec_subparts), longest first
// within each unit so that `mo` is not read as `m` followed by junk.
const UNITS: ReadonlyArray<readonly [RegExp, number]> = [
  // fleetban's own: fail2ban has no millisecond unit, but `500ms` was once printed by `config check`.
  [/^(?:ms|msecs?|milliseconds?)$/i, 1],
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
  if (!Number.isSafeInteger(ms) || ms > MAX_DURATION) {
    throw new InvalidDurationError(`duration "${original}" is too large (at most 100y; -1 is permanent)`);
  }
  return ms;
}

/**
 * Formats ms the way fail2ban users write durations: `1d12h`, `10m`, `0.5s`,
 * `permanent`. Exact for every whole number of ms, so that
 * `parseDuration(formatDuration(ms)) === ms` (config check's output is read back).
 */
export function formatDuration(ms: number): string {
  if (ms === PERMANENT) return 'permanent';
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  const parts: string[] = [];
  for (const [unit, size] of [['w', WEEK], ['d', DAY], ['h', HOUR], ['m', MINUTE]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${secondsText(rest)}s`);
  return parts.join('');
}

/** ms below a minute as seconds with up to three decimals, without trailing zeros: 1500 -> `1.5`. */
function secondsText(ms: number): string {
  const whole = Math.floor(ms / SECOND);
  const frac = ms % SECOND;
  return frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

/** The reason text of a scorer ban: `1 failure within 10m`, `5 failures within 10m`. */
export function failuresWithin(failures: number, findtime: number): string {
  return `${failures} failure${failures === 1 ? '' : 's'} within ${formatDuration(findtime)}`;
}
