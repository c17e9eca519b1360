import type { CompiledFilter } from './compiled.ts';
import type { DateDetector, DateTemplateStats } from './date/detector.ts';
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
  /** fail2ban keeps `time` as an int (see DateTemplate.lastWhole): fail2ban-regex prints it without `.0`. */
  wholeTime: boolean;
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
  private lastWhole = false;
  /** Whether the date of the line being processed is an int in fail2ban. */
  private dateWhole = false;
  private mlfidCache?: ExpiringCache<[number | undefined, Fail]>;
  private nowMs = 0;
  private readonly held: Held = { name: 'mlfforget', has: false, value: undefined };
  private readonly dateContext: StrptimeContext;
  readonly stats: CoreStats;
  /**
   * fail2ban's prefRegex.hasMatched() (what fail2ban-regex counts): the
   * result of the prefregex's last search. A line whose ignoreregex matched
   * before the prefregex was tried leaves it as the line before set it.
   */
  prefregexHasMatched = false;
  /** The prefregex's last match (fail2ban's `_matchCache`), for fail2ban-regex's verbose listing of its groups. */
  prefregexLastMatch: RegExpExecArray | undefined;
  /** An ignoreregex matched during the last line. */
  ignoredLast = false;
  /**
   * By the first unit of the text (index 256 for any unit above U+00FF), 1
   * for each failregex that may match a text starting with it: most
   * filters' failregexes are anchored and start differently, so most are
   * skipped at the cost of one array read.
   */
  private readonly byFirstUnit: Uint8Array[];

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
    this.byFirstUnit = [];
    for (let u = 0; u <= 256; u++) {
      // 256 stands for every unit above U+00FF: a regex is kept when it accepts any of them.
      const probe = u < 256 ? [u] : [0x100, 0xd800];
      this.byFirstUnit.push(Uint8Array.from(filter.failregex, (r) => (probe.some((p) => r.regex.mayStartWith(p)) ? 1 : 0)));
    }
  }

  private candidates(buf: string): Uint8Array {
    const u = buf.charCodeAt(0);
    return this.byFirstUnit[u <= 0xff ? u : 256]!;
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
  get dateTemplates(): ReadonlyArray<DateTemplateStats> | undefined {
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
  processLine(line: string, now: number, given?: { dateText: string; time: number }, lineNl?: string): Failure[] {
    this.nowMs = now;
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
      // The systemd backend's time is a float (time.mktime plus the microseconds).
      this.dateWhole = this.lastWhole = false;
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
            this.dateWhole = this.lastWhole = found.whole;
          }
        } else if (this.lastDate !== undefined && this.lastDate > nowSec - 60) {
          tuple = ['', this.lastTimeText, line];
          date = this.lastDate;
          this.dateWhole = this.lastWhole;
        } else {
          date = nowSec;
          this.dateWhole = false;
        }
      } else {
        tuple = ['', '', line];
      }
      if (date === undefined) {
        noDate = true;
        if (this.lastDate !== undefined && this.lastDate > nowSec - 60) {
          tuple = ['', this.lastTimeText, line];
          date = this.lastDate;
          this.dateWhole = this.lastWhole;
        } else if (this.mode.dateFromNow) {
          date = nowSec;
          this.dateWhole = false;
        }
      }
    }
    // The text the regexes see is the line without its date, with a `\n`. For the usual line, whose
    // date starts it, that is a tail of `line + '\n'`: a slice of one string made once, rather
    // than a concatenation the regex engine would first have to copy into one piece.
    let buf: string | undefined;
    if (this.filter.maxlines <= 1 && tuple[0] === '') {
      const nl = lineNl ?? `${line}\n`;
      const post = tuple[2];
      buf = post.length === line.length ? nl : nl.slice(line.length - post.length);
    }
    return this.findFailure(tuple, date, noDate, buf);
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

  /** `lineBuf`, when given, is tupleLinesBuf([tupleLine]). */
  private findFailure(tupleLine: TupleLine, date: number | undefined, noDate: boolean, lineBuf?: string): Failure[] {
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
    let buf: string | null = multi || lineBuf === undefined ? tupleLinesBuf(orgBuffer) : lineBuf;
    if (f.ignoreregex.length > 0 && f.ignoreregex.length < f.failregex.length - 2) {
      if (this.ignoreLine(buf, orgBuffer) !== undefined) return failList;
    }
    // The prefregex's match: each failregex hit starts from its groups (without `content`).
    let preRaw: RegExpExecArray | undefined;
    if (f.prefregex) {
      const hit = f.prefregex.search(buf, orgBuffer);
      this.prefregexHasMatched = hit !== null;
      if (!hit) return failList;
      this.prefregexLastMatch = hit.raw;
      this.stats.prefregexMatched++;
      preRaw = hit.raw;
      const repl = f.prefregex.contentOf(preRaw);
      if (repl) {
        this.buffer = [['', '', repl]];
        buf = tailWithNewline(buf, repl);
      }
    }

    let candidates = this.candidates(buf ?? tupleLinesBuf(this.buffer));
    for (let i = 0; i < f.failregex.length; i++) {
      if (buf === null) {
        buf = tupleLinesBuf(this.buffer);
        candidates = this.candidates(buf);
      }
      if (candidates[i] === 0) continue;
      const failRegex = f.failregex[i]!;
      const hit = failRegex.search(buf, orgBuffer);
      if (!hit) continue;
      const forget = this.held;
      forget.has = false;
      forget.value = undefined;
      let fail: Fail = failRegex.failData(f.prefregex, preRaw, hit.raw, forget);
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
          fail = failRegex.failData(f.prefregex, preRaw, hit.raw);
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
      let id: FailureId | null;
      if (ip == null) {
        fail.mlfpending = 1;
        if (!mode.checkAllRegex && mode.ignorePending) return failList;
        id = null;
      } else if (raw) {
        if (fid == null || fid === ip) {
          id = idOf(ip, cidr);
        } else {
          fail.ip = idOf(ip, cidr);
          id = idOf(fid, defcidr);
        }
      } else {
        id = textToId(ip);
      }
      if (mode.checkAllRegex && mlfid != null && mode.snapshot !== false) fail = { ...fail };
      failList.push({ regexIndex: i, id, time: date, wholeTime: this.dateWhole, fail, nofail: Boolean(fail.nofail) });
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
      this.mlfidCache.add(mlfid, [this.lastDate, fail], this.nowMs);
    }
    if (pop(fail, 'mlfpending') || (users && users.size > 1)) {
      delete fail.nofail;
      delete fail.mlfgained;
      flags &= ~(8 | 1);
    }
    if ((flags & 1) === 0) {
      const prior = pop(fail, 'nofail-matches') as TupleLine[] | undefined;
      const before = fail.matches as TupleLine[] | undefined;
      let m: TupleLine[];
      if (prior === undefined && before === undefined) {
        m = (flags & 8) === 0 ? hit.matched.slice() : [];
      } else {
        m = prior === undefined ? [] : prior.slice();
        if (before) for (const l of before) m.push(l);
        if ((flags & 8) === 0) for (const l of hit.matched) m.push(l);
      }
      fail.matches = m;
    } else if ((flags & 3) === 1) {
      fail['nofail-matches'] = [...((fail['nofail-matches'] as TupleLine[] | undefined) ?? []), ...hit.matched];
    }
    return fail;
  }
}

/**
 * `text + '\n'` for a text that is usually the end of `buf` just before its
 * final `\n` (a prefregex's `content`): then a slice of buf, which the regex
 * engine reads in place, instead of a concatenation it would have to copy.
 */
function tailWithNewline(buf: string, text: string): string {
  const end = buf.length - 1;
  // endsWith with an end position is V8's fast comparison; startsWith with a start position is not.
  if (end >= text.length && buf.charCodeAt(end) === 10 && buf.endsWith(text, end)) return buf.slice(end - text.length);
  return `${text}\n`;
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
