import type { CompiledFilter } from './compiled.ts';
import { MatcherCore, type CoreMode, type Failure } from './core.ts';
import { DateDetector } from './date/detector.ts';
import { localZone, memoZone, zoneOffset, type LocalZone } from './date/zones.ts';
import type { FilterRegex, TupleLine } from './failregex.ts';
import { canonicalAddress } from './ipaddr.ts';
import { DEFAULT_MAX_LINE_LENGTH } from './limits.ts';
import type { FilterMatch, LineMatcher } from './types.ts';

export { DEFAULT_MAX_LINE_LENGTH };

/** The fail2ban daemon's way: first matching failregex wins, failures without an address are held back. */
export const OPERATION_MODE: CoreMode = { checkAllRegex: false, ignorePending: true, returnRawHost: false, dateFromNow: true };

/** Groups that steer matching rather than describe the failure; left out of `fields`. */
const STRUCTURAL = new Set(['content', 'mlfid']);

export interface MatcherSettings {
  maxLineLength?: number;
  logtimezone?: string;
  timezone?: string;
}

/** Zone settings resolved once per filter. */
export interface ZoneSettings {
  zone: LocalZone;
  defaultOffset?: number;
}

export function zoneSettings(settings: MatcherSettings): ZoneSettings {
  return {
    zone: memoZone(localZone(settings.timezone)),
    defaultOffset: settings.logtimezone === undefined ? undefined : zoneOffset(settings.logtimezone),
  };
}

/** A core for the filter with its own date detector and buffers. */
export function newCore(filter: CompiledFilter, zones: ZoneSettings, mode: CoreMode): MatcherCore {
  return new MatcherCore(filter, DateDetector.forPattern(filter.datepattern), zones.zone, mode, zones.defaultOffset);
}

export class FilterLineMatcher implements LineMatcher {
  private readonly core: MatcherCore;
  private readonly maxLineLength: number;

  constructor(
    private readonly filter: CompiledFilter,
    private readonly zones: ZoneSettings,
    maxLineLength = DEFAULT_MAX_LINE_LENGTH,
  ) {
    this.core = newCore(filter, zones, OPERATION_MODE);
    this.core.warm();
    this.maxLineLength = maxLineLength;
  }

  push(line: string, now: number, time?: number): FilterMatch[] {
    const text = line.length > this.maxLineLength ? line.slice(0, this.maxLineLength) : line;
    const given = time === undefined ? undefined : { dateText: `${isoLocal(this.zones.zone, time)} `, time: time / 1000 };
    const failures = this.core.processLine(text, now, given);
    if (failures.length === 0) return [];
    const out: FilterMatch[] = [];
    for (const f of failures) {
      const m = toMatch(f, this.filter, now);
      if (m) out.push(m);
    }
    return out;
  }
}

/** Python's datetime.isoformat() of a local time: the date text fail2ban's journal backend puts before a line. */
export function isoLocal(zone: LocalZone, ms: number): string {
  const w = zone.toWall(ms);
  const p = (n: number, l = 2) => String(n).padStart(l, '0');
  const frac = ((ms % 1000) + 1000) % 1000;
  return `${p(w.y, 4)}-${p(w.mo)}-${p(w.d)}T${p(w.h)}:${p(w.mi)}:${p(w.s)}${frac ? `.${p(Math.floor(frac), 3)}000` : ''}`;
}

/** A failure field, own properties only (failure data is a plain object). */
export function getOwn(fail: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(fail, key) ? fail[key] : undefined;
}

/** Lines of a failure as they were written (date included). */
export function matchedLines(fail: Readonly<Record<string, unknown>>): string[] {
  const matches = (getOwn(fail, 'matches') as TupleLine[] | undefined) ?? [];
  return matches.map((t) => t[0] + t[1] + t[2]);
}

function stripBrackets(text: string): string {
  return text.length > 2 && text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
}

/** A core failure as the shipper sees it; undefined for a failure without an id. */
export function toMatch(f: Failure, filter: CompiledFilter, now: number): FilterMatch | undefined {
  if (!f.id) return undefined;
  const fail = f.fail;
  let host = f.id.text;
  let ip: string | undefined;
  let id: string | undefined;
  const complex = getOwn(fail, 'ip') as { text: string } | undefined;
  if (complex && typeof complex === 'object') {
    host = complex.text;
    ip = canonicalAddress(stripBrackets(complex.text));
    id = f.id.text;
  } else if (f.id.kind !== 'name') {
    ip = canonicalAddress(stripBrackets(f.id.text));
  }
  const fid = getOwn(fail, 'fid');
  if (typeof fid === 'string') id = fid;
  const fields: Record<string, string> = {};
  const regexes: Array<FilterRegex | undefined> = [filter.prefregex, filter.failregex[f.regexIndex]];
  for (const r of regexes) {
    if (!r) continue;
    for (const name of r.fieldNames) {
      const v = getOwn(fail, name);
      if (typeof v === 'string' && !STRUCTURAL.has(name)) fields[name] = v;
    }
  }
  const match: FilterMatch = {
    host,
    time: f.time === undefined ? now : Math.round(f.time * 1000),
    lines: matchedLines(fail),
    fields,
  };
  if (ip !== undefined) match.ip = ip;
  const user = getOwn(fail, 'user');
  if (typeof user === 'string') match.user = user;
  if (id !== undefined) match.id = id;
  return match;
}
