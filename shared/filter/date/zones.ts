import { DatePatternError } from '../errors.ts';

/**
 * Time zones for log timestamps.
 *
 * Two different things, as in fail2ban:
 * - a zone written in the line (`+0200`, `CEST`, `UTC`) or fail2ban's
 *   `logtimezone` jail option: a fixed offset in minutes;
 * - the local zone, for lines that name none: the process's zone by
 *   default (Python's time.mktime), or one given by name.
 */

/** Wall-clock fields; month 1-12. */
export interface Wall {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

/** A local time zone: wall clock ↔ epoch ms. */
export interface LocalZone {
  readonly name: string;
  /** Epoch ms of a wall-clock time (like time.mktime). */
  fromWall(w: Wall): number;
  /** Wall clock of an epoch ms (like datetime.fromtimestamp). */
  toWall(ms: number): Wall;
}

/** Wall-clock fields encoded as a number (ms as if the wall clock were UTC), for comparisons. */
export function wallValue(w: Wall): number {
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
}

export function wallOf(value: number): Wall {
  const d = new Date(value);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds() };
}

/** The process's own zone (TZ), through Date. */
export const SYSTEM_ZONE: LocalZone = {
  name: 'system',
  fromWall(w) {
    const date = new Date(2000, 0, 1, w.h, w.mi, w.s);
    date.setFullYear(w.y, w.mo - 1, w.d);
    date.setHours(w.h, w.mi, w.s, 0);
    return date.getTime();
  },
  toWall(ms) {
    const d = new Date(ms);
    return { y: d.getFullYear(), mo: d.getMonth() + 1, d: d.getDate(), h: d.getHours(), mi: d.getMinutes(), s: d.getSeconds() };
  },
};

/**
 * A zone with memory: the last reading time's wall clock, and each hour's
 * start (an hour without a clock change is linear inside). Date handling is
 * the hottest part of matching, and log lines come in time order.
 */
export function memoZone(zone: LocalZone): LocalZone {
  let lastMs = NaN;
  let lastWall: Wall | undefined;
  const hours = new Map<number, number>();
  return {
    name: zone.name,
    toWall(ms) {
      if (ms !== lastMs || !lastWall) {
        lastMs = ms;
        lastWall = zone.toWall(ms);
      }
      return lastWall;
    },
    fromWall(w) {
      const key = ((w.y * 16 + w.mo) * 32 + w.d) * 32 + w.h;
      let start = hours.get(key);
      if (start === undefined) {
        const a = zone.fromWall({ ...w, mi: 0, s: 0 });
        const b = zone.fromWall({ ...w, mi: 59, s: 59 });
        start = b - a === 3_599_000 ? a : NaN;
        if (hours.size >= 4096) hours.clear();
        hours.set(key, start);
      }
      return Number.isNaN(start) ? zone.fromWall(w) : start + w.mi * 60_000 + w.s * 1000;
    },
  };
}

/** A zone with a constant offset from UTC (minutes east). */
export function fixedZone(offsetMinutes: number, name = `UTC${offsetMinutes >= 0 ? '+' : '-'}${Math.abs(offsetMinutes)}m`): LocalZone {
  const off = offsetMinutes * 60_000;
  return { name, fromWall: (w) => wallValue(w) - off, toWall: (ms) => wallOf(ms + off) };
}

/** An IANA zone (`Europe/Berlin`) through Intl. */
export function ianaZone(name: string): LocalZone {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: name,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const toWall = (ms: number): Wall => {
    const parts: Record<string, number> = {};
    for (const p of fmt.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    return { y: parts.year!, mo: parts.month!, d: parts.day!, h: parts.hour!, mi: parts.minute!, s: parts.second! };
  };
  return {
    name,
    toWall,
    fromWall(w) {
      const v = wallValue(w);
      // Two passes find the offset in force at that wall time (the earlier one when ambiguous).
      let guess = v;
      for (let i = 0; i < 2; i++) guess = v - (wallValue(toWall(guess)) - guess);
      return guess;
    },
  };
}

/**
 * A POSIX TZ rule such as `CET-1CEST,M3.5.0,M10.5.0/3` (the form fail2ban's
 * own tests set), which Node's Intl does not read.
 */
export function posixZone(spec: string): LocalZone {
  const m = /^([A-Za-z]{3,}|<[^>]+>)([+-]?\d{1,2}(?::\d{2}){0,2})(?:([A-Za-z]{3,}|<[^>]+>)([+-]?\d{1,2}(?::\d{2}){0,2})?(?:,([^,]+),([^,]+))?)?$/.exec(spec);
  if (!m) throw new DatePatternError(`not a POSIX TZ rule: ${spec}`);
  const std = -hms(m[2]!);
  if (!m[3]) return fixedZone(std / 60, spec);
  const dst = m[4] ? -hms(m[4]) : std + 3600;
  const start = rule(m[5] ?? 'M3.2.0');
  const end = rule(m[6] ?? 'M11.1.0');
  // DST is in force from start (given in standard time) to end (given in DST).
  const offsetAtUtc = (ms: number): number => {
    const year = new Date(ms).getUTCFullYear();
    const s = start(year) - std * 1000;
    const e = end(year) - dst * 1000;
    const inDst = s < e ? ms >= s && ms < e : !(ms >= e && ms < s);
    return inDst ? dst : std;
  };
  return {
    name: spec,
    toWall: (ms) => wallOf(ms + offsetAtUtc(ms) * 1000),
    fromWall(w) {
      const v = wallValue(w);
      const asStd = v - std * 1000;
      const asDst = v - dst * 1000;
      // mktime with tm_isdst=-1: take the reading that is consistent; in a gap, the standard one.
      if (offsetAtUtc(asDst) === dst) return asDst;
      if (offsetAtUtc(asStd) === std) return asStd;
      return asStd;
    },
  };
}

function hms(text: string): number {
  const sign = text.startsWith('-') ? -1 : 1;
  const [h = 0, mi = 0, s = 0] = text.replace(/^[+-]/, '').split(':').map(Number);
  return sign * (h * 3600 + mi * 60 + s);
}

/** A transition rule (`Mm.w.d[/time]`, `Jn[/time]`, `n[/time]`) as wall ms (UTC-encoded) in a year. */
function rule(text: string): (year: number) => number {
  const [date, time] = text.split('/');
  const at = time === undefined ? 7200 : hms(time);
  const mm = /^M(\d{1,2})\.(\d)\.(\d)$/.exec(date!);
  if (mm) {
    const month = Number(mm[1]);
    const week = Number(mm[2]);
    const day = Number(mm[3]);
    return (year) => {
      const first = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
      let dom = 1 + ((day - first + 7) % 7) + (week - 1) * 7;
      const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
      while (dom > days) dom -= 7;
      return Date.UTC(year, month - 1, dom) + at * 1000;
    };
  }
  const jn = /^(J?)(\d{1,3})$/.exec(date!);
  if (jn) {
    const n = Number(jn[2]);
    const julian = jn[1] === 'J';
    return (year) => {
      const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
      // Jn counts 1..365 and never 29 February; n counts from 0 and does.
      const day = julian ? n - 1 + (leap && n >= 60 ? 1 : 0) : n;
      return Date.UTC(year, 0, 1) + day * 86_400_000 + at * 1000;
    };
  }
  throw new DatePatternError(`bad POSIX TZ transition rule: ${text}`);
}

/** A local zone by name: an IANA name, a POSIX TZ rule, or `system`. */
export function localZone(spec?: string): LocalZone {
  if (!spec || spec === 'system') return SYSTEM_ZONE;
  if (/^[A-Za-z]{3,}[+-]?\d/.test(spec) || spec.startsWith('<')) return posixZone(spec);
  try {
    return ianaZone(spec);
  } catch (err) {
    throw new DatePatternError(`unknown time zone: ${spec}`, { cause: err });
  }
}

/** Zone abbreviations fail2ban knows (strptime.TZ_STR), as offsets in hours. */
const ABBREVIATIONS: Array<[number, string]> = [
  [-12, 'Y'],
  [-11, 'X NUT SST'],
  [-10, 'W CKT HAST HST TAHT TKT'],
  [-9, 'V AKST GAMT GIT HADT HNY'],
  [-8, 'U AKDT CIST HAY HNP PST PT'],
  [-7, 'T HAP HNR MST PDT'],
  [-6, 'S CST EAST GALT HAR HNC MDT'],
  [-5, 'R CDT COT EASST ECT EST ET HAC HNE PET'],
  [-4, 'Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT'],
  [-3, 'P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT'],
  [-2, 'O BRST FNT PMDT UYST WGST'],
  [-1, 'N AZOT CVT EGT'],
  [0, 'Z EGST GMT UTC WET WT'],
  [1, 'A CET DFT WAT WEDT WEST'],
  [2, 'B CAT CEDT CEST EET SAST WAST'],
  [3, 'C EAT EEDT EEST IDT MSK'],
  [4, 'D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT'],
  [5, 'E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT'],
  [6, 'F ALMT BIOT BTT IOT KGT NOVT OMST YEKST'],
  [7, 'G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB'],
  [8, 'H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST'],
  [9, 'I AWDT IRKST JST KST PWT TLT WDT WIT YAKT'],
  [10, 'K AEST ChST PGT VLAT YAKST YAPT'],
  [11, 'L AEDT LHDT MAGT NCT PONT SBT VLAST VUT'],
  [12, 'M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT'],
  [13, 'FJST NZDT'],
  [11.5, 'NFT'],
  [10.5, 'ACDT LHST'],
  [9.5, 'ACST'],
  [6.5, 'CCT MMT'],
  [5.75, 'NPT'],
  [5.5, 'SLT'],
  [4.5, 'AFT IRDT'],
  [3.5, 'IRST'],
  [-2.5, 'HAT NDT'],
  [-3.5, 'HNT NST NT'],
  [-4.5, 'HLV VET'],
  [-9.5, 'MART MIT'],
];

const ABBR_OFFSET = new Map<string, number>([['', 0]]);
for (const [hours, names] of ABBREVIATIONS) for (const n of names.split(' ')) ABBR_OFFSET.set(n, Math.trunc(hours * 60));

const FIXED_OFFSET_TZ = /^([A-Z](?:[A-Z]{2,4})?)?([+-][01]\d(?::?\d{2})?)?$/;

/**
 * A zone written as fail2ban reads it (`UTC`, `CEST`, `+0200`, `UTC+02:00`,
 * `EST-5`), as minutes east of UTC; throws for anything else, like fail2ban's
 * validateTimeZone (an unknown abbreviation is an error too).
 */
export function zoneOffset(tz: string): number {
  const m = FIXED_OFFSET_TZ.exec(tz);
  if (!m) throw new DatePatternError(`Unknown or unsupported time zone: '${tz}'`);
  const base = ABBR_OFFSET.get(m[1] ?? '');
  if (base === undefined) throw new DatePatternError(`Unknown or unsupported time zone: '${tz}'`);
  const o = m[2];
  if (!o) return base;
  const sign = o[0] === '-' ? -1 : 1;
  if (o.length <= 3) return base + Number(o) * 60;
  const mm = o[3] === ':' ? o.slice(4, 6) : o.slice(3, 5);
  return base + sign * (Number(o.slice(1, 3)) * 60 + Number(mm));
}
