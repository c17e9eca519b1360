import type { CompiledFilter } from './compiled.ts';
import type { DateDetector } from './date/detector.ts';
import { ExpiringCache } from './cache.ts';
import type { StrptimeContext } from './date/strptime.ts';
import type { LocalZone } from './date/zones.ts';
import { tupleLinesBuf, type Held, type RegexHit, type TupleLine } from './failregex.ts';
import { CIDR_RAW, CIDR_UNSPEC, FAM_IPV4, FAM_IPV6 } from './ipaddr.ts';

/**
 * The matching state machine of one log source: fail2ban's
 * Filter.processLine and Filter.findFailure, line for line, with the
 * multi-line buffer (maxlines) and the connection cache (F-MLFID) that
 * joins lines of one connection. Pure: time comes from the caller.
 */

/** How a failure is identified: an address (as fail2ban holds it), a raw id, or a host name left unresolved. */
export type FailureId =
  | { kind: 'addr'; text: string; cidr: number }
  | { kind: 'raw'; text: string }
  | { kind: 'name'; text: string };

export interface Failure {
  regexIndex: number;
  /** null for a failure still waiting for its address (F-MLFID without host yet). */
  id: FailureId | null;
  /** Epoch seconds; undefined when the line had no usable date (test modes only). */
  time: number | undefined;
  /** fail2ban's failure data: every named group, `matches`, `ip` for complex ids, ... */
  fail: Fail;
  /** `fail.nofail` when the failure was found (a not-a-failure match, fail2ban-regex counts it as ignored). */
  nofail: boolean;
}

export interface CoreMode {
  /** Try every failregex on every line (fail2ban-regex and fail2ban's tests); the daemon stops at the first. */
  checkAllRegex: boolean;
  /** Drop failures that have no address yet (the daemon and `-o`); fail2ban-regex's summary counts them. */
  ignorePending: boolean;
  /** Report the host text as it is (fail2ban's returnRawHost / usedns=raw). */
  returnRawHost: boolean;
  /** A line without a usable date takes the last date, or `now`; in fail2ban's test modes it has none. */
  dateFromNow: boolean;
  /**
   * With checkAllRegex, give each failure its own copy of a connection's
   * (F-MLFID) data, as fail2ban does, so later lines cannot change it. Not
   * needed by a caller that reads only `nofail` before the next line.
   */
  snapshot?: boolean;
}

export interface CoreStats {
  prefregexMatched: number;
  ignoreregexHits: number[];
}

/**
 * fail2ban's failure dict: every named group (undefined when it did not take
 * part) and bookkeeping keys, in insertion order. A plain object: several
 * times faster than a Map for this pattern of use (filters cannot name a
 * group `__proto__`; FilterRegex refuses it).
 */
export type Fail = Record<string, unknown>;

function pop(obj: Fail, key: string): unknown {
  // Deleting is costly (the object leaves V8's fast mode); most keys popped are absent.
  if (!Object.prototype.hasOwnProperty.call(obj, key)) return undefined;
  const v = obj[key];
  delete obj[key];
  return v;
}

export class MatcherCore {
  private buffer: TupleLine[] = [];
  private lastTimeText = '';
  private lastDate: number | undefined;
  private mlfidCache?: ExpiringCache<[number | undefined, Fail]>;
  private nowMs = 0;
  private readonly held: Held = { name: 'mlfforget', has: false, value: undefined };
  private readonly dateContext: StrptimeContext;
  readonly stats: CoreStats;
  /** The prefregex matched the last line (for fail2ban-regex's count). */
  prefregexMatchedLast = false;
  /** An ignoreregex matched during the last line. */
  ignoredLast = false;

  constructor(
    private readonly filter: CompiledFilter,
    private readonly dates: DateDetector | undefined,
    zone: LocalZone,
    private readonly mode: CoreMode,
    defaultOffset?: number,
  ) {
    this.dateContext = { now: 0, zone, defaultOffset };
    this.stats = {
      prefregexMatched: 0,
      ignoreregexHits: filter.ignoreregex.map(() => 0),
    };
  }

  get maxlines(): number {
    return this.filter.maxlines;
  }

  /** Compiles the date templates and the filter's regexes to machine code before the first line. */
  warm(): void {
    this.dates?.warm();
    const f = this.filter;
    for (const r of [f.prefregex, ...f.failregex, ...f.ignoreregex]) r?.regex.warm();
  }

  /** The date templates in their current order with their hits (none when dates come with the lines). */
  get dateTemplates(): ReadonlyArray<{ name: string; hits: number }> | undefined {
    return this.dates?.templates;
  }

  /** Lines currently held for multi-line matching. */
  get buffered(): readonly TupleLine[] {
    return this.buffer;
  }

  /**
   * processLine: finds the date (or takes `given`, as the journal backend
   * does), removes it from the text the regexes see, and looks for failures.
   * `now` is epoch ms.
   */
  processLine(line: string, now: number, given?: { dateText: string; time: number }): Failure[] {
    this.nowMs = now;
    this.prefregexMatchedLast = false;
    this.ignoredLast = false;
    const nowSec = now / 1000;
    let tuple: TupleLine;
    let date: number | undefined;
    let noDate = false;
    if (given) {
      tuple = ['', given.dateText, line];
      date = given.time;
      this.lastTimeText = given.dateText;
      this.lastDate = date;
    } else {
      this.dateContext.now = now;
      const found = this.dates?.find(line, this.dateContext);
      if (found) {
        const text = line.slice(found.start, found.end);
        tuple = [line.slice(0, found.start), text, line.slice(found.end)];
        if (text) {
          if (found.time !== undefined) {
            date = found.time;
            this.lastTimeText = text;
            this.lastDate = date;
          }
        } else if (this.lastDate !== undefined && this.lastDate > nowSec - 60) {
          tuple = ['', this.lastTimeText, line];
          date = this.lastDate;
        } else {
          date = nowSec;
        }
      } else {
        tuple = ['', '', line];
      }
      if (date === undefined) {
        noDate = true;
        if (this.lastDate !== undefined && this.lastDate > nowSec - 60) {
          tuple = ['', this.lastTimeText, line];
          date = this.lastDate;
        } else if (this.mode.dateFromNow) {
          date = nowSec;
        }
      }
    }
    return this.findFailure(tuple, date, noDate);
  }

  private ignoreLine(buf: string, orgBuffer: readonly TupleLine[], hit?: RegexHit): number | undefined {
    const multi = this.filter.maxlines > 1;
    let lines = orgBuffer;
    let text = buf;
    if (hit && multi) {
      lines = hit.matched;
      text = tupleLinesBuf(lines);
    }
    let found: number | undefined;
    const regexes = this.filter.ignoreregex;
    for (let i = 0; i < regexes.length; i++) {
      if (!regexes[i]!.search(text, lines)) continue;
      found = i;
      this.stats.ignoreregexHits[i]!++;
      this.ignoredLast = true;
      if (!this.mode.checkAllRegex || multi) {
        if (hit) this.buffer = hit.unmatched;
      }
      if (!this.mode.checkAllRegex) break;
    }
    return found;
  }

  private findFailure(tupleLine: TupleLine, date: number | undefined, noDate: boolean): Failure[] {
    const failList: Failure[] = [];
    const f = this.filter;
    const mode = this.mode;
    const multi = f.maxlines > 1;
    const defcidr = f.usedns === 'raw' || mode.returnRawHost ? CIDR_RAW : CIDR_UNSPEC;
    let orgBuffer: TupleLine[];
    if (multi) {
      this.buffer.push(tupleLine);
      this.buffer = this.buffer.slice(-f.maxlines);
      orgBuffer = this.buffer;
    } else {
      orgBuffer = this.buffer = [tupleLine];
    }
    let buf: string | null = tupleLinesBuf(orgBuffer);
    if (f.ignoreregex.length > 0 && f.ignoreregex.length < f.failregex.length - 2) {
      if (this.ignoreLine(buf, orgBuffer) !== undefined) return failList;
    }
    // The prefregex's groups (without `content`), as parallel arrays: each failregex hit starts from them.
    let preKeys: readonly string[] | undefined;
    let preValues: unknown[] | undefined;
    if (f.prefregex) {
      const hit = f.prefregex.search(buf, orgBuffer);
      if (!hit) return failList;
      this.prefregexMatchedLast = true;
      this.stats.prefregexMatched++;
      const pre = f.prefregex.preValues(hit.match);
      const repl = pre.content;
      if (pre.keys.length > 0) {
        preKeys = pre.keys;
        preValues = pre.values;
      }
      if (repl) {
        this.buffer = [['', '', repl as string]];
        buf = null;
      }
    }

    for (let i = 0; i < f.failregex.length; i++) {
      const failRegex = f.failregex[i]!;
      if (buf === null) buf = tupleLinesBuf(this.buffer);
      const hit = failRegex.search(buf, orgBuffer);
      if (!hit) continue;
      let fail: Fail = {};
      if (preKeys) for (let k = 0; k < preKeys.length; k++) fail[preKeys[k]!] = preValues![k];
      const forget = this.held;
      forget.has = false;
      forget.value = undefined;
      failRegex.groupsOnto(fail, hit.match, forget);
      if (f.ignoreregex.length > 0 && this.ignoreLine(buf, orgBuffer, hit) !== undefined) {
        buf = null;
        if (!mode.checkAllRegex) break;
        continue;
      }
      if (noDate && date === undefined && mode.dateFromNow) continue;
      if (!mode.checkAllRegex || multi) {
        this.buffer = hit.unmatched;
        buf = null;
      }
      let cidr = defcidr;
      let raw = defcidr === CIDR_RAW;
      const mlfid = fail.mlfid as string | undefined;
      if (mlfid != null) {
        fail = this.mergeFailure(mlfid, fail, hit, forget);
        if (fail.nofail && !mode.checkAllRegex) return failList;
      } else {
        if (forget.has) {
          // No connection id: the mlfforget group stays, in its place.
          fail = {};
          if (preKeys) for (let k = 0; k < preKeys.length; k++) fail[preKeys[k]!] = preValues![k];
          failRegex.groupsOnto(fail, hit.match);
        }
        const before = fail.matches as TupleLine[] | undefined;
        fail.matches = before ? [...before, ...hit.matched] : hit.matched.slice();
      }
      const fid = fail.fid as string | undefined;
      let ip = fail.ip4 as string | undefined;
      if (ip != null) {
        const c = fail.cidr;
        cidr = c ? Number(c) : FAM_IPV4;
        raw = true;
      } else {
        ip = fail.ip6 as string | undefined;
        if (ip != null) {
          const c = fail.cidr;
          cidr = c ? Number(c) : FAM_IPV6;
          raw = true;
        } else {
          ip = fail.dns as string | undefined;
          if (ip == null) {
            // fail2ban's getFailID finds no id group here, logs an error and tries the next regex.
            if (fid == null && mlfid == null) continue;
            ip = fid;
            raw = true;
          }
        }
      }
      let ids: Array<FailureId | null>;
      if (ip == null) {
        fail.mlfpending = 1;
        if (!mode.checkAllRegex && mode.ignorePending) return failList;
        ids = [null];
      } else if (raw) {
        if (fid == null || fid === ip) {
          ids = [idOf(ip, cidr)];
        } else {
          fail.ip = idOf(ip, cidr);
          ids = [idOf(fid, defcidr)];
        }
      } else {
        ids = [textToId(ip)];
      }
      if (mode.checkAllRegex && mlfid != null && mode.snapshot !== false) fail = { ...fail };
      const nofail = Boolean(fail.nofail);
      for (const id of ids) failList.push({ regexIndex: i, id, time: date, fail, nofail });
      if (!mode.checkAllRegex) break;
    }
    return failList;
  }

  private mergeFailure(mlfid: string, failIn: Fail, hit: RegexHit, held: Held): Fail {
    let fail = failIn;
    const cached = this.mlfidCache?.get(mlfid, this.nowMs);
    let users: Set<unknown> | undefined;
    let flags = 0;
    const gained = fail.mlfgained;
    if (gained) {
      flags |= 8 | 1;
      if (!fail.nofail) fail.nofail = gained;
    } else if (fail.nofail) {
      flags |= 1;
    }
    // fail2ban pops mlfforget here; the failregex's own value was held back from the data.
    const preForget = pop(fail, 'mlfforget');
    if (held.has ? held.value : preForget) flags |= 2;
    if (cached) {
      const groups = cached[1];
      users = updateUsers(groups, fail.user);
      if (pop(groups, 'nofail')) flags |= 4;
      if (pop(groups, 'mlfgained')) flags |= 4;
      if (flags & 8) delete groups.mlfpending;
      if ((flags & 4) === 0 && !groups.mlfpending) delete groups.matches;
      for (const k in fail) {
        const v = fail[k];
        if (v != null) groups[k] = v;
      }
      fail = groups;
      if (flags & 2) this.mlfidCache!.unset(mlfid);
    } else if (!(flags & 2)) {
      users = updateUsers(fail, fail.user);
      this.mlfidCache ??= new ExpiringCache(100, 5 * 60_000);
      this.mlfidCache.set(mlfid, [this.lastDate, fail], this.nowMs);
    }
    if (pop(fail, 'mlfpending') || (users && users.size > 1)) {
      delete fail.nofail;
      delete fail.mlfgained;
      flags &= ~(8 | 1);
    }
    if ((flags & 1) === 0) {
      const m = ((pop(fail, 'nofail-matches') as TupleLine[] | undefined) ?? []).slice();
      const before = fail.matches as TupleLine[] | undefined;
      if (before) m.push(...before);
      if ((flags & 8) === 0) m.push(...hit.matched);
      fail.matches = m;
    } else if ((flags & 3) === 1) {
      fail['nofail-matches'] = [...((fail['nofail-matches'] as TupleLine[] | undefined) ?? []), ...hit.matched];
    }
    return fail;
  }
}

function updateUsers(fail: Fail, user: unknown): Set<unknown> | undefined {
  let users = fail.users as Set<unknown> | undefined;
  if (user) {
    if (!users) fail.users = users = new Set();
    users.add(user);
  }
  return users;
}

function idOf(text: string, cidr: number): FailureId {
  return cidr === CIDR_RAW ? { kind: 'raw', text } : { kind: 'addr', text, cidr };
}

const IP_4_RE = String.raw`(?:\d{1,3}\.){3}\d{1,3}`;
const PLAIN_IPV4 = new RegExp(`^${IP_4_RE}$`);

/**
 * DNSUtils.textToIp without DNS: a host text that is itself an IPv4 address
 * is taken as one (searchIP only recognises IPv4 there); any other name is
 * reported as a name. fleetban never resolves names.
 */
function textToId(text: string): FailureId {
  if (PLAIN_IPV4.test(text)) return { kind: 'addr', text, cidr: CIDR_UNSPEC };
  return { kind: 'name', text };
}
