import { DatePatternError } from '../errors.ts';
import { wallOf, wallValue, zoneOffset, type LocalZone, type Wall } from './zones.ts';

/**
 * fail2ban's strptime: the `%` directives a datepattern may use, the regex
 * each stands for, the name each gets in a template's name, and the
 * conversion of the matched fields to a time (fail2ban.server.strptime).
 */

const A_DAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const F_DAY = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const A_MONTH = ['', 'jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const F_MONTH = ['', 'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** Python's _strptime regexes (C locale), longest alternatives first as Python sorts them. */
function byLength(words: string[]): string {
  return words
    .filter((w) => w !== '')
    .slice()
    .sort((a, b) => b.length - a.length)
    .join('|');
}

const TZ_ABBR = '[A-Z](?:[A-Z]{2,4})?';

/**
 * `ExY` accepts the years of the current century fail2ban considers (from
 * 2000 to three years ahead), like _updateTimeRE: its first three digits,
 * grouped, then any last digit.
 */
function yearPattern(now = new Date()): string {
  const year = now.getFullYear();
  const prefixes = new Set<string>();
  prefixes.add(String(year - 1).slice(0, 3));
  prefixes.add(String(year + 3).slice(0, 3));
  for (let y = 2000; y <= year; y += 3) prefixes.add(String(y).slice(0, 3));
  const sorted = [...prefixes].sort();
  return `(?P<Y>${group(sorted)}\\d)`;
}

/** fail2ban's compact grouping of year prefixes (`20[012]`). */
function group(items: string[]): string {
  if (items.length > 1) {
    let c: string | null = null;
    for (const i of items) {
      if (c === null || i.slice(0, -1) === c) c = i.slice(0, -1);
      else {
        c = null;
        break;
      }
    }
    if (!c) {
      c = null;
      for (const i of items) {
        if (c === null || i[0] === c) c = i[0]!;
        else {
          c = null;
          break;
        }
      }
    }
    if (c) return c + group(items.map((i) => i.slice(c!.length)));
  }
  if (items.length > 1) return items[0]!.length > 1 ? `(?:${items.join('|')})` : `[${items.join('')}]`;
  return items.join('');
}

export const TIME_RE: Record<string, string> = {
  '%': '%',
  a: `(?P<a>${byLength(A_DAY)})`,
  A: `(?P<A>${byLength(F_DAY)})`,
  b: `(?P<b>${A_MONTH.filter(Boolean).join('|')})`,
  B: `(?P<B>${byLength(F_MONTH)})`,
  c: String.raw`(?P<a>mon|tue|wed|thu|fri|sat|sun)\s+(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\s+(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])\s+(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)\s+(?P<Y>\d\d\d\d)`,
  d: String.raw`(?P<d>[1-2]\d|[0 ]?[1-9]|3[0-1])`,
  f: '(?P<f>[0-9]{1,6})',
  G: String.raw`(?P<G>\d\d\d\d)`,
  H: String.raw`(?P<H>[0-1]?\d|2[0-3])`,
  I: String.raw`(?P<I>1[0-2]|0[1-9]|[1-9])`,
  j: String.raw`(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])`,
  m: '(?P<m>0?[1-9]|1[0-2])',
  M: String.raw`(?P<M>[0-5]?\d)`,
  p: '(?P<p>am|pm)',
  S: String.raw`(?P<S>[0-5]?\d|6[0-1])`,
  U: String.raw`(?P<U>5[0-3]|[0-4]\d|\d)`,
  u: '(?P<u>[1-7])',
  V: String.raw`(?P<V>5[0-3]|0[1-9]|[1-4]\d|\d)`,
  w: '(?P<w>[0-6])',
  W: String.raw`(?P<W>5[0-3]|[0-4]\d|\d)`,
  x: String.raw`(?P<m>1[0-2]|0[1-9]|[1-9])/(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])/(?P<y>\d\d)`,
  X: String.raw`(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)`,
  y: String.raw`(?P<y>\d\d)`,
  Y: String.raw`(?P<Y>\d{4})`,
  z: String.raw`(?P<z>Z|UTC|GMT|[+-][01]\d(?::?\d{2})?)`,
  Z: '(?P<Z>Z|[A-Z]{3,5})',
  k: String.raw` ?(?P<H>[0-2]?\d)`,
  l: String.raw` ?(?P<I>1?\d)`,
  ExZ: `(?P<Z>${TZ_ABBR})`,
  Exz: String.raw`(?P<z>(?:${TZ_ABBR})?[+-][01]\d(?::?\d{2})?|${TZ_ABBR})`,
  Exd: String.raw`(?P<d>[1-2]\d|0[1-9]|3[0-1])`,
  Exm: '(?P<m>0[1-9]|1[0-2])',
  ExH: String.raw`(?P<H>[0-1]\d|2[0-3])`,
  Exk: String.raw` ?(?P<H>[0-1]?\d|2[0-3])`,
  Exl: String.raw` ?(?P<I>1[0-2]|\d)`,
  ExM: String.raw`(?P<M>[0-5]\d)`,
  ExS: String.raw`(?P<S>[0-5]\d|6[0-1])`,
  ExY: yearPattern(),
  Exy: String.raw`(?P<y>\d{2})`,
};

const NAMES: Record<string, string> = {
  a: 'DAY', A: 'DAYNAME', b: 'MON', B: 'MONTH', d: 'Day', H: '24hour', I: '12hour', j: 'Yearday', m: 'Month',
  M: 'Minute', p: 'AMPM', S: 'Second', U: 'Yearweek', w: 'Weekday', W: 'Yearweek', y: 'Year2', Y: 'Year', '%': '%',
  z: 'Zone offset', f: 'Microseconds', Z: 'Zone name',
};

/** Name of a directive in a template's name (`%d` → `Day`, `%ExY` → `ExYear`, `%k` → `%k`). */
export function directiveName(key: string): string {
  const direct = NAMES[key];
  if (direct) return direct;
  if (key.startsWith('Ex')) {
    const base = NAMES[key.slice(2)];
    return base ? `Ex${base}` : `Ex%${key.slice(2)}`;
  }
  return `%${key}`;
}

/** Directives longer than one letter first, as fail2ban's pattern regex lists them. */
const DIRECTIVE = new RegExp(
  `%(%|${Object.keys(TIME_RE)
    .filter((k) => k.length > 1)
    .join('|')}|[${Object.keys(TIME_RE)
    .filter((k) => k.length === 1 && k !== '%')
    .join('')}%])`,
  'g',
);

/** A datepattern with its `%` directives replaced: the Python regex and the template name. */
export function expandDirectives(pattern: string): { regex: string; name: string } {
  // Python formats the pattern with `%`, so a stray `%` is an error there too.
  const marker = '\u0000';
  const withMarkers = pattern.replace(DIRECTIVE, (_m, key: string) => `${marker}${key}${marker}`);
  if (withMarkers.split(marker).some((part, i) => i % 2 === 0 && part.includes('%'))) {
    throw new DatePatternError(`Failed to set datepattern '${pattern}' (may be an invalid format or unescaped percent char)`);
  }
  const parts = withMarkers.split(marker);
  let regex = '';
  let name = '';
  parts.forEach((part, i) => {
    if (i % 2 === 0) {
      regex += part;
      name += part;
    } else {
      regex += TIME_RE[part]!;
      name += directiveName(part);
    }
  });
  return { regex, name };
}

export interface StrptimeContext {
  /** The reading time, epoch ms ("now" for a date without a year). */
  now: number;
  /** Local zone for dates that name none. */
  zone: LocalZone;
  /** fail2ban's logtimezone: offset in minutes for dates that name none. */
  defaultOffset?: number;
  /** Memo of `now` as a wall clock, kept here by timeFromValues. */
  memo?: { for: number; wall: Wall; value: number };
}

/**
 * Epoch seconds for matched date fields (reGroupDictStrptime): a date
 * without a year is this year, or last year when that puts it more than a
 * day ahead of now; a time without a date is today, or yesterday when ahead
 * of now. Returns undefined for an impossible date (Python's ValueError).
 */
export function timeFromFields(found: Record<string, string | undefined>, ctx: StrptimeContext): number | undefined {
  return timeFromValues(Object.keys(found), Object.values(found), ctx);
}

/** timeFromFields over parallel arrays of group names and values, in pattern order. */
export function timeFromValues(names: readonly string[], values: ReadonlyArray<string | undefined>, ctx: StrptimeContext): number | undefined {
  return timeFromCodes(fieldCodes(names), values, ctx);
}

// What each named group of a date regex is, as a small integer: the conversion runs for most
// lines, and a switch over integers is cheaper than one over group names.
const K_OTHER = 0;
const K_Y2 = 1;
const K_Y = 2;
const K_MON = 3;
const K_MONTH_FULL = 4;
const K_MONTH_ABBR = 5;
const K_DAY = 6;
const K_H24 = 7;
const K_H12 = 8;
const K_AMPM = 9;
const K_MIN = 10;
const K_SEC = 11;
const K_WEEKDAY_FULL = 12;
const K_WEEKDAY_ABBR = 13;
const K_WEEKDAY_NUM = 14;
const K_YEARDAY = 15;
const K_WEEK_SUN = 16;
const K_WEEK_MON = 17;
const K_ZONE = 18;

const CODES: Record<string, number> = {
  y: K_Y2, Y: K_Y, m: K_MON, B: K_MONTH_FULL, b: K_MONTH_ABBR, d: K_DAY, H: K_H24, I: K_H12, p: K_AMPM, M: K_MIN, S: K_SEC,
  A: K_WEEKDAY_FULL, a: K_WEEKDAY_ABBR, w: K_WEEKDAY_NUM, j: K_YEARDAY, U: K_WEEK_SUN, W: K_WEEK_MON, z: K_ZONE, Z: K_ZONE,
};

/** The field codes of a date regex's named groups (pattern order), for timeFromCodes. */
export function fieldCodes(names: readonly string[]): Uint8Array {
  return Uint8Array.from(names, (n) => (Object.prototype.hasOwnProperty.call(CODES, n) ? CODES[n]! : K_OTHER));
}

/** Month and day names as they are usually written (any ASCII case): found without lower-casing. */
function namesByCase(names: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  names.forEach((name, i) => {
    if (name === '' || name.length > 4) return;
    for (let mask = 0; mask < 1 << name.length; mask++) {
      let v = '';
      for (let k = 0; k < name.length; k++) v += mask & (1 << k) ? name[k]!.toUpperCase() : name[k];
      out.set(v, i);
    }
  });
  return out;
}

const A_MONTH_CASES = namesByCase(A_MONTH);
const A_DAY_CASES = namesByCase(A_DAY);

/** Whether a zone field (`%z`, `%Z`) has a value: fail2ban then makes the time with calendar.timegm, an int. */
export function hasZoneValue(codes: Uint8Array, values: ReadonlyArray<string | undefined>): boolean {
  for (let i = 0; i < codes.length; i++) if (codes[i] === K_ZONE && values[i] !== undefined) return true;
  return false;
}

/** timeFromValues with the group names given as fieldCodes. */
export function timeFromCodes(codes: Uint8Array, values: ReadonlyArray<string | undefined>, ctx: StrptimeContext): number | undefined {
  let p: string | undefined;
  let twelveHour: number | undefined;
  let year: number | undefined;
  let month: number | undefined;
  let day: number | undefined;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let tzoffset: number | undefined;
  let weekday: number | undefined;
  let julian: number | undefined;
  let weekOfYear: number | undefined;
  let weekStartsMonday = false;
  for (let i = 0; i < codes.length; i++) {
    const val = values[i];
    if (val === undefined) continue;
    switch (codes[i]) {
      case K_Y2:
        year = Number(val);
        if (year <= 2000) year += 2000;
        break;
      case K_Y:
        year = Number(val);
        break;
      case K_MON:
        month = Number(val);
        break;
      case K_MONTH_FULL:
        month = F_MONTH.indexOf(val.toLowerCase());
        break;
      case K_MONTH_ABBR:
        month = A_MONTH_CASES.get(val) ?? A_MONTH.indexOf(val.toLowerCase());
        break;
      case K_DAY:
        day = Number(val);
        break;
      case K_H24:
        hour = Number(val);
        twelveHour = undefined;
        break;
      case K_H12:
        // Needs %p, which may come later in the pattern: applied after the loop.
        twelveHour = Number(val);
        break;
      case K_AMPM:
        p = val;
        break;
      case K_MIN:
        minute = Number(val);
        break;
      case K_SEC:
        second = Number(val);
        break;
      case K_WEEKDAY_FULL:
        weekday = F_DAY.indexOf(val.toLowerCase());
        break;
      case K_WEEKDAY_ABBR:
        weekday = A_DAY_CASES.get(val) ?? A_DAY.indexOf(val.toLowerCase());
        break;
      case K_WEEKDAY_NUM:
        weekday = Number(val) - 1;
        if (weekday < 0) weekday = 6;
        break;
      case K_YEARDAY:
        julian = Number(val);
        break;
      case K_WEEK_SUN:
      case K_WEEK_MON:
        weekOfYear = Number(val);
        weekStartsMonday = codes[i] === K_WEEK_MON;
        break;
      case K_ZONE:
        tzoffset = val === 'Z' || val === 'UTC' || val === 'GMT' ? 0 : zoneOffset(val);
        break;
    }
  }
  if (twelveHour !== undefined) {
    hour = twelveHour;
    const ampm = (p ?? '').toLowerCase();
    if (ampm === '' || ampm === 'am') {
      if (hour === 12) hour = 0;
    } else if (ampm === 'pm' && hour !== 12) {
      hour += 12;
    }
  }
  let memo = ctx.memo;
  if (!memo || memo.for !== ctx.now) {
    const wall = ctx.zone.toWall(ctx.now);
    memo = ctx.memo = { for: ctx.now, wall, value: wallValue(wall) };
  }
  const now = memo.wall;
  let assumeYear = false;
  if (year === undefined) {
    year = now.y;
    assumeYear = true;
  }
  if (month === undefined || day === undefined) {
    if (julian === undefined && weekOfYear !== undefined && weekday !== undefined) {
      julian = julianFromWeek(year, weekOfYear, weekday, weekStartsMonday);
    }
    if (julian !== undefined) {
      const d = new Date(Date.UTC(year, 0, 1) + (julian - 1) * 86_400_000);
      year = d.getUTCFullYear();
      month = d.getUTCMonth() + 1;
      day = d.getUTCDate();
    }
  }
  let assumeToday = false;
  if (month === undefined && day === undefined) {
    month = now.mo;
    day = now.d;
    assumeToday = true;
  }
  if (month === undefined || day === undefined || !validWall(year, month, day, hour, minute, second)) return undefined;
  const wall: Wall = { y: year, mo: month, d: day, h: hour, mi: minute, s: second };
  let value = wallValue(wall);
  let shifted = false;
  if (tzoffset === undefined && ctx.defaultOffset !== undefined) tzoffset = ctx.defaultOffset;
  if (tzoffset !== undefined) value -= tzoffset * 60_000;
  const nowValue = memo.value;
  if (assumeToday && value > nowValue) {
    value -= 86_400_000;
    shifted = true;
  }
  if (assumeYear && value > nowValue + 86_400_000) {
    // datetime.replace(year=year-1, month=month, day=day): the date fields as written, the time as shifted.
    const w = wallOf(value);
    if (!validWall(year - 1, month, day, w.h, w.mi, w.s)) return undefined;
    value = wallValue({ y: year - 1, mo: month, d: day, h: w.h, mi: w.mi, s: w.s });
    shifted = true;
  }
  if (tzoffset !== undefined) return value / 1000;
  return ctx.zone.fromWall(shifted ? wallOf(value) : wall) / 1000;
}

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validWall(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (!(y >= 1 && y <= 9999) || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const leap = mo === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0);
  return d <= DAYS[mo]! + (leap ? 1 : 0);
}

function julianFromWeek(year: number, week: number, dayOfWeek: number, weekStartsMonday: boolean): number {
  let firstWeekday = (new Date(Date.UTC(year, 0, 1)).getUTCDay() + 6) % 7;
  let dow = dayOfWeek;
  if (!weekStartsMonday) {
    firstWeekday = (firstWeekday + 1) % 7;
    dow = (dow + 1) % 7;
  }
  const week0 = (7 - firstWeekday) % 7;
  if (week === 0) return 1 + dow - firstWeekday;
  return 1 + week0 + 7 * (week - 1) + dow;
}

export type { Wall };
