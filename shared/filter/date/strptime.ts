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

/** timeFromFields over parallel arrays of group names and values, in pattern order (nothing allocated per line). */
export function timeFromValues(names: readonly string[], values: ReadonlyArray<string | undefined>, ctx: StrptimeContext): number | undefined {
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
  for (let i = 0; i < names.length; i++) {
    const key = names[i]!;
    const val = values[i];
    if (val === undefined) continue;
    switch (key) {
      case 'y':
        year = Number(val);
        if (year <= 2000) year += 2000;
        break;
      case 'Y':
        year = Number(val);
        break;
      case 'm':
        month = Number(val);
        break;
      case 'B':
        month = F_MONTH.indexOf(val.toLowerCase());
        break;
      case 'b':
        month = A_MONTH.indexOf(val.toLowerCase());
        break;
      case 'd':
        day = Number(val);
        break;
      case 'H':
        hour = Number(val);
        twelveHour = undefined;
        break;
      case 'I':
        // Needs %p, which may come later in the pattern: applied after the loop.
        twelveHour = Number(val);
        break;
      case 'p':
        p = val;
        break;
      case 'M':
        minute = Number(val);
        break;
      case 'S':
        second = Number(val);
        break;
      case 'A':
        weekday = F_DAY.indexOf(val.toLowerCase());
        break;
      case 'a':
        weekday = A_DAY.indexOf(val.toLowerCase());
        break;
      case 'w':
        weekday = Number(val) - 1;
        if (weekday < 0) weekday = 6;
        break;
      case 'j':
        julian = Number(val);
        break;
      case 'U':
      case 'W':
        weekOfYear = Number(val);
        weekStartsMonday = key === 'W';
        break;
      case 'z':
      case 'Z':
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
