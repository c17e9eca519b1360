import { basename, dirname, resolve } from 'node:path';
import {
  CIDR_UNSPEC,
  compileFilter,
  extractOptions,
  inetAton,
  journalDate,
  newCore,
  PyMatch,
  readFilterDefinition,
  zoneSettings,
  type CompiledFilter,
  type CoreMode,
  type DateTemplateStats,
  type Failure,
  type FilterDefinition,
  type MatcherCore,
  type TupleLine,
  type UseDns,
  type ZoneSettings,
} from '../../../../shared/filter/index.ts';
import { FilterNotFoundError } from '../../../../shared/filter/index.ts';

/**
 * One `fleetban regex` run: the filter (or bare regexes) and the counts
 * fail2ban-regex keeps, fed line by line. The counting follows
 * fail2ban-regex's testRegex/process, including its multi-line correction
 * (lines taken up later by a multi-line match move from missed to matched).
 */

export interface SessionOptions {
  /** `-c`: a fail2ban config dir (its filter.d is searched first) or a filter.d dir. */
  configDir?: string;
  datepattern?: string;
  maxlines?: number;
  usedns?: UseDns;
  /** `systemd` when LOG is the journal: the filter's `logtype` is `journal` then, as in fail2ban. */
  backend?: string;
  raw: boolean;
  checkAll: boolean;
  out?: string;
  timezone?: string;
  localZone?: string;
  maxLineLength: number;
  printAllMatched: boolean;
  printAllMissed: boolean;
  printAllIgnored: boolean;
  printNoMissed: boolean;
  printNoIgnored: boolean;
  /** fail2ban-regex's `_maxlines`: how many missed/ignored lines are listed (20, or -L). */
  listLimit: number;
  /** `-D`: keep the lines for debuggex.com links. */
  debuggex?: boolean;
  /** Keep every failure (for --json and -v); otherwise only counts are kept. */
  keepFailures: boolean;
  /** Called with the failures of each line, in log order (for `-o`). */
  onFailures?: (failures: Failure[]) => void;
}

export interface Source {
  kind: 'filter' | 'regex';
  /** The filter name or file, or the regex text. */
  label: string;
  basedir?: string;
  /** A filter file outside a filter.d: fail2ban-regex names it as given ("Use   failregex file : PATH"). */
  foreign?: boolean;
  /** The options given with the filter's name (`sshd[mode=aggressive]`), in their order. */
  options?: Record<string, string>;
  definition?: FilterDefinition;
}

export interface RegexStat {
  regex: string;
  hits: number;
  /** With keepFailures: each failure the regex found, and whether fail2ban-regex marks it "(multiple regex matched)". */
  failures: Array<{ failure: Failure; multiple: boolean }>;
}

export interface LineStats {
  tested: number;
  matched: number;
  missed: number;
  ignored: number;
  matchedLines: string[];
  missedLines: string[];
  ignoredLines: string[];
  /**
   * With `-D`: fail2ban-regex's `*_lines_timeextracted`, the lines its
   * debuggex links are made of. They follow the lists above, except that the
   * multi-line correction removes a line from them only when the line had no
   * date (fail2ban looks for the line without its date there).
   */
  debuggex?: { matched: string[]; missed: string[]; ignored: string[] };
}

const NO_LINES: readonly TupleLine[] = [];

const FILTER_LIKE = /^\/{0,3}[\w/_\-.]+(?:\[[^]*\])?$/;

function searchDirs(configDir?: string): string[] | undefined {
  if (!configDir) return undefined;
  return [configDir.replace(/\/+$/, '').endsWith('filter.d') ? configDir : `${configDir.replace(/\/+$/, '')}/filter.d`];
}

/** REGEX or IGNOREREGEX: a filter (name with options, or file) when one is found, else regex text. */
export function readSource(value: string, options: SessionOptions): Source {
  if (FILTER_LIKE.test(value)) {
    try {
      const definition = readFilterDefinition(value, { dirs: searchDirs(options.configDir), ...(options.backend && { backend: options.backend }) });
      // The filter's own file, not the first one read (that may be an include before it).
      const first = definition.files.find((f) => basename(f).replace(/\.(?:conf|local)$/, '') === definition.name) ?? definition.files[0] ?? '';
      const basedir = first.includes('/filter.d/') ? first.slice(0, first.lastIndexOf('/filter.d/')) : first.slice(0, first.lastIndexOf('/'));
      const { name, options: given } = extractOptions(value);
      const dir = dirname(resolve(name));
      const foreign = name.includes('/') && basename(dir) !== 'filter.d' && (options.configDir === undefined || dir !== resolve(options.configDir));
      return { kind: 'filter', label: foreign ? name : definition.name, definition, basedir, foreign, options: given };
    } catch (err) {
      if (!(err instanceof FilterNotFoundError)) throw err;
    }
  }
  return { kind: 'regex', label: value };
}

export class RegexSession {
  readonly filter: CompiledFilter;
  readonly core: MatcherCore;
  readonly failregex: RegexStat[];
  readonly ignoreregex: RegexStat[];
  readonly stats: LineStats = { tested: 0, matched: 0, missed: 0, ignored: 0, matchedLines: [], missedLines: [], ignoredLines: [] };
  /** Failures, in log order, for `-o` and `--json`. */
  readonly failures: Failure[] = [];
  prefregexMatched = 0;
  /** With keepFailures: the prefregex's groups of the first lines it matched (`'...'` after listLimit), as `-v` lists them. */
  readonly prefregexGroups: Array<Record<string, string | undefined> | '...'> = [];
  /** Failures whose host is a name: fail2ban would resolve it; fleetban never does, so they count as no failure. */
  unresolved = 0;
  private started: number | undefined;
  /** The local zone (`--zone`, else TZ): what dates without a zone are read in, and what -v prints times in. */
  readonly zones: ZoneSettings;
  elapsedMs = 0;

  constructor(
    readonly fail: Source,
    readonly ignore: Source | undefined,
    readonly options: SessionOptions,
    readonly now: number = Date.now(),
  ) {
    const def: FilterDefinition = fail.definition ?? {
      name: fail.label,
      failregex: [fail.label],
      ignoreregex: [],
      journalmatch: [],
      files: [],
    };
    const ignoreList = ignore ? (ignore.definition ? ignore.definition.ignoreregex : [ignore.label]) : [];
    const merged: FilterDefinition = { ...def, ignoreregex: [...def.ignoreregex, ...ignoreList] };
    this.filter = compileFilter(merged, {
      maxlines: options.maxlines,
      datepattern: options.datepattern,
      usedns: options.usedns,
    });
    const mode: CoreMode = options.out
      ? { checkAllRegex: false, ignorePending: true, returnRawHost: options.raw, dateFromNow: false }
      : { checkAllRegex: options.checkAll, ignorePending: false, returnRawHost: options.raw, dateFromNow: false, snapshot: options.keepFailures };
    this.zones = zoneSettings({ logtimezone: options.timezone, timezone: options.localZone });
    // No warm-up (the shipper's matcher has one): compiling every default date
    // template up front cost this one-shot command about 0.1 s of CPU, on a
    // 100-line log and on a 200,000-line one alike; V8 compiles those it uses.
    this.core = newCore(this.filter, this.zones, mode);
    if (options.debuggex) this.stats.debuggex = { matched: [], missed: [], ignored: [] };
    this.failregex = merged.failregex.map((regex) => ({ regex, hits: 0, failures: [] }));
    this.ignoreregex = merged.ignoreregex.map((regex) => ({ regex, hits: 0, failures: [] }));
  }

  /** One line of the log (fail2ban-regex skips empty lines and lines starting with `#`). */
  push(rawLine: string): void {
    let end = rawLine.length;
    while (end > 0 && (rawLine.charCodeAt(end - 1) === 10 || rawLine.charCodeAt(end - 1) === 13)) end--;
    const line = end === rawLine.length ? rawLine : rawLine.slice(0, end);
    if (line === '' || line.startsWith('#')) return;
    const text = line.length > this.options.maxLineLength ? line.slice(0, this.options.maxLineLength) : line;
    // A line read with its `\n` is handed over with it too: the regexes see its tail and `\n`.
    const withNewline = text === line && end === rawLine.length - 1 && rawLine.charCodeAt(end) === 10 ? rawLine : undefined;
    this.test(line, text, undefined, withNewline);
  }

  /**
   * One journal entry as fail2ban's systemd backend hands it over: its line
   * (see journalLine) and its time, epoch microseconds. No date is looked
   * for in the line; the entry's date stands before it where the line is
   * shown (see journalDate). Empty lines are tested too.
   */
  pushEntry(line: string, micros: number): void {
    const { dateText, time } = journalDate(this.zones.zone, micros, this.now);
    const text = line.length > this.options.maxLineLength ? line.slice(0, this.options.maxLineLength) : line;
    this.test(`${dateText} ${line}`, text, { dateText: `${dateText} `, time });
  }

  /** fail2ban-regex's testRegex and its counting; `line` is the line as shown, `text` what is matched. */
  private test(line: string, text: string, given: { dateText: string; time: number } | undefined, withNewline?: string): void {
    this.started ??= performance.now();
    const maxlines = this.filter.maxlines;
    const before = maxlines > 1 ? this.core.buffered.slice() : NO_LINES;
    const fullBuffer = before.length >= maxlines;
    const all = this.core.processLine(text, this.now, given, withNewline);
    let found = all;
    for (let i = 0; i < all.length; i++) {
      if (all[i]!.id?.kind !== 'name') continue;
      found = all.filter((f) => this.resolveNumeric(f));
      this.unresolved += all.length - found.length;
      break;
    }
    if (this.core.ignoredLast) this.core.stats.ignoreregexHits.forEach((n, i) => (this.ignoreregex[i]!.hits = n));
    let ignored = false;
    const ret: Failure[] = [];
    for (const f of found) {
      if (!this.options.out) {
        this.failregex[f.regexIndex]!.hits++;
        // fail2ban-regex flags a match when more than one failure of its line came before it.
        if (this.options.keepFailures) this.failregex[f.regexIndex]!.failures.push({ failure: f, multiple: ret.length > 1 });
      }
      if (!f.nofail) ret.push(f);
      else ignored = true;
    }
    if (ret.length > 0) {
      if (this.options.keepFailures) this.failures.push(...ret);
      this.options.onFailures?.(ret);
    }
    if (this.options.out) return;
    if (this.core.prefregexHasMatched) {
      this.prefregexMatched++;
      if (this.options.keepFailures) this.keepPrefregexGroups();
    }
    const s = this.stats;
    if (maxlines > 1) {
      const now = this.core.buffered;
      for (const bufLine of before.slice(fullBuffer ? 1 : 0)) {
        if (now.some((l) => l[0] === bufLine[0] && l[1] === bufLine[1] && l[2] === bufLine[2])) continue;
        const joined = bufLine[0] + bufLine[1] + bufLine[2];
        const at = s.missedLines.indexOf(joined);
        if (at >= 0) {
          s.missedLines.splice(at, 1);
          const d = s.debuggex?.missed;
          const dat = d ? d.indexOf(bufLine[0] + bufLine[2]) : -1;
          if (dat >= 0) d!.splice(dat, 1);
        }
        // fail2ban-regex -D --print-all-matched fails here (it calls a Filter method that does not exist).
        if (this.options.printAllMatched) s.matchedLines.push(joined);
        s.matched++;
        s.missed--;
      }
    }
    if (ignored || this.core.ignoredLast) {
      s.ignored++;
      if (!this.options.printNoIgnored && (this.options.printAllIgnored || s.ignored <= this.options.listLimit + 1)) {
        s.ignoredLines.push(line);
        s.debuggex?.ignored.push(line);
      }
    } else if (ret.length > 0) {
      s.matched++;
      if (this.options.printAllMatched) {
        s.matchedLines.push(line);
        s.debuggex?.matched.push(line);
      }
    } else {
      s.missed++;
      if (!this.options.printNoMissed && (this.options.printAllMissed || s.missed <= this.options.listLimit + 1)) {
        s.missedLines.push(line);
        s.debuggex?.missed.push(line);
      }
    }
    s.tested++;
  }

  private keepPrefregexGroups(): void {
    const pre = this.filter.prefregex;
    const raw = this.core.prefregexLastMatch;
    if (!pre || !raw) return;
    const limit = this.options.listLimit;
    if (this.prefregexGroups.length < limit) this.prefregexGroups.push(new PyMatch(raw, pre.regex).groupdict());
    else if (this.prefregexGroups.length === limit) this.prefregexGroups.push('...');
  }

  /**
   * A host text fail2ban would hand to getaddrinfo: a numeric one (`5555`)
   * becomes the address inet_aton makes of it, as fail2ban-regex prints it;
   * any other name stays unresolved and is no failure, as in fail2ban when
   * the name does not resolve. Returns whether the failure is kept.
   */
  private resolveNumeric(f: Failure): boolean {
    if (f.id?.kind !== 'name') return true;
    const address = inetAton(f.id.text);
    if (address === undefined) return false;
    f.id = { kind: 'addr', text: address, cidr: CIDR_UNSPEC };
    return true;
  }

  /** Date templates with their hits, in the detector's order. */
  dateTemplates(): ReadonlyArray<DateTemplateStats> | undefined {
    return this.core.dateTemplates;
  }

  finish(): void {
    this.elapsedMs = this.started === undefined ? 0 : performance.now() - this.started;
  }
}
