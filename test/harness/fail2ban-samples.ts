import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compileFilter,
  ConfigSet,
  fail2banIpText,
  FILE_SOURCE,
  getOwn,
  MatcherCore,
  resolveDefinition,
  type CompiledFilter,
  type Failure,
} from '../../shared/filter/index.ts';
import { DateDetector } from '../../shared/filter/date/detector.ts';
import { posixZone } from '../../shared/filter/date/zones.ts';
import type { Fail2banPackage } from './fail2ban.ts';

/**
 * fail2ban's own conformance suite (tests/samplestestcase.py) run on
 * fleetban's engine: every sample log against its filter, under every
 * `filterOptions` variant, each `# failJSON:` line an expectation. Mirrors
 * the original: its fixed "now" (2005-08-14 10:00 UTC) and time zone
 * (CET-01CEST-02,M3.5.0,M10.5.0), check-all-regex mode with raw hosts, one
 * filter instance per options variant shared by all files (addFILE), the
 * journal log type fed with a given date, `constraint` and `test.condition`.
 */

export const TEST_NOW = 1124013600;
const TEST_ZONE = 'CET-01CEST-02,M3.5.0,M10.5.0';
const TEST_NOW_STR = '2005-08-14T10:00:00';

export interface Expectation {
  filter: string;
  variant: string;
  file: string;
  line: number;
  text: string;
  ok: boolean;
  reason?: string;
}

export interface SamplesReport {
  expectations: Expectation[];
  /** Filters that could not be loaded, with the error. */
  loadErrors: Array<{ variant: string; error: string }>;
  /** Regexes that no sample line matched (fail2ban's test fails on these too). */
  unusedRegexes: Array<{ variant: string; index: number; regex: string }>;
}

type Opts = Record<string, string>;

interface Instance {
  core: MatcherCore;
  compiled: CompiledFilter;
  used: Set<number>;
}

/** A tiny evaluator for the Python expressions the sample logs use (`name == 'x'`, `opts.get('k') != 'v'`). */
function evaluate(expr: string, name: string, opts: Opts): boolean {
  const m = /^\s*(name|opts\.get\('([^']+)'\))\s*(==|!=)\s*'([^']*)'\s*$/.exec(expr);
  if (!m) throw new Error(`cannot evaluate sample expression: ${expr}`);
  const left = m[1] === 'name' ? name : opts[m[2]!];
  return m[3] === '==' ? left === m[4] : left !== m[4];
}

/** The filters fail2ban's test covers: config filter.d minus *common.conf, plus tests/config zzz-*. */
export function sampleFilters(pkg: Fail2banPackage): Array<{ name: string; filterDir: string }> {
  const stock = readdirSync(pkg.filterDir)
    .filter((f) => f.endsWith('.conf') && !f.endsWith('common.conf'))
    .map((f) => ({ name: f.slice(0, -5), filterDir: pkg.filterDir }));
  const testDir = join(pkg.testsDir, 'config', 'filter.d');
  const extra = readdirSync(testDir)
    .filter((f) => f.startsWith('zzz-') && f.endsWith('.conf'))
    .map((f) => ({ name: f.slice(0, -5), filterDir: testDir }));
  return [...stock, ...extra].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * The zzz- test filters include common.conf by a path that only resolves in
 * fail2ban's source tree; they are copied with the stock common.conf into a
 * temporary filter.d, outside the repository.
 */
function stageTestFilters(pkg: Fail2banPackage): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetban-f2b-'));
  const filterDir = join(dir, 'filter.d');
  mkdirSync(filterDir);
  copyFileSync(join(pkg.filterDir, 'common.conf'), join(filterDir, 'common.conf'));
  const testDir = join(pkg.testsDir, 'config', 'filter.d');
  for (const f of readdirSync(testDir).filter((n) => n.startsWith('zzz-'))) {
    const text = readFileSync(join(testDir, f), 'utf8').replace(/^before\s*=\s*\S*common\.conf\s*$/m, 'before = common.conf');
    writeFileSync(join(filterDir, f), text);
  }
  return dir;
}

function sameSorted(a: unknown[], b: unknown[]): boolean {
  const x = a.map(String).sort();
  const y = b.map(String).sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** IPAddr equality as the test compares fid with a string. */
function hostEquals(f: Failure, expected: unknown): boolean {
  if (!f.id) return expected === null;
  if (f.id.kind === 'addr') return fail2banIpText(f.id.text, f.id.cidr) === fail2banIpText(String(expected));
  return f.id.text === expected;
}

function jsonTime(t: string, zone: ReturnType<typeof posixZone>): number {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$/.exec(t);
  if (!m) throw new Error(`bad time in failJSON: ${t}`);
  const secs = zone.fromWall({ y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +m[4]!, mi: +m[5]!, s: +m[6]! }) / 1000;
  return secs + (m[7] ? Number(`0.${m[7]}`) : 0);
}

export function runSamples(pkg: Fail2banPackage, only?: string[]): SamplesReport {
  const zone = posixZone(TEST_ZONE);
  const report: SamplesReport = { expectations: [], loadErrors: [], unusedRegexes: [] };
  const staged = stageTestFilters(pkg);
  try {
    for (const { name, filterDir } of sampleFilters(pkg)) {
      if (only && !only.includes(name)) continue;
      const dir = name.startsWith('zzz-') ? join(staged, 'filter.d') : filterDir;
      runFilter(name, dir, pkg, zone, report);
    }
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }
  return report;
}

function runFilter(name: string, filterDir: string, pkg: Fail2banPackage, zone: ReturnType<typeof posixZone>, report: SamplesReport): void {
  const instances = new Map<string, Instance | null>();
  const readFilter = (variant: string, opts: Opts): Instance | null => {
    if (instances.has(variant)) return instances.get(variant)!;
    let inst: Instance | null = null;
    try {
      const cfg = new ConfigSet(FILE_SOURCE);
      if (!cfg.readNamed(join(filterDir, name))) throw new Error(`cannot read ${name}`);
      const def = resolveDefinition(name, cfg, opts);
      const compiled = compileFilter(def);
      const core = new MatcherCore(
        compiled,
        DateDetector.forPattern(compiled.datepattern),
        zone,
        { checkAllRegex: true, ignorePending: true, returnRawHost: true, dateFromNow: false },
      );
      inst = { core, compiled, used: new Set() };
    } catch (err) {
      report.loadErrors.push({ variant, error: (err as Error).message });
    }
    instances.set(variant, inst);
    return inst;
  };

  const files = [name];
  let commonOpts: Opts = {};
  let tests: Array<{ variant: string; inst: Instance | null; opts: Opts }> | undefined;
  for (let fi = 0; fi < files.length; fi++) {
    const file = files[fi]!;
    const lines = readFileSync(join(pkg.logsDir, file)).toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    let ignoreBlock = false;
    let faildata: Record<string, unknown> = {};
    for (let ln = 0; ln < lines.length; ln++) {
      let line = lines[ln]!.replace(/\r$/, '');
      const json = /^#+ ?(failJSON|(?:file|filter)Options|addFILE):(.+)$/.exec(line);
      if (json) {
        const data = JSON.parse(json[2]!);
        if (json[1] === 'fileOptions') {
          commonOpts = data;
          continue;
        }
        if (json[1] === 'filterOptions') {
          tests = [];
          ignoreBlock = false;
          for (const fd of Array.isArray(data) ? data : [data]) {
            const opts: Opts = Object.keys(commonOpts).length ? { ...commonOpts, ...fd } : fd;
            if (opts['test.condition']) ignoreBlock = !evaluate(opts['test.condition'], name, opts);
            if (!ignoreBlock) {
              const fltOpts = Object.fromEntries(Object.entries(opts).filter(([k]) => !k.startsWith('test.')));
              const variant = name + (opts['test.filter-name'] ?? (Object.keys(fltOpts).length ? JSON.stringify(fltOpts) : ''));
              tests.push({ variant, inst: readFilter(variant, fltOpts), opts });
            }
          }
          continue;
        }
        if (json[1] === 'addFILE') {
          files.push(data);
          continue;
        }
        faildata = data;
        ln++;
        line = (lines[ln] ?? '').replace(/\r$/, '');
      } else if (ignoreBlock || line.startsWith('#') || !line.trim()) {
        continue;
      } else {
        faildata = {};
      }
      if (ignoreBlock) continue;
      if (!tests || tests.length === 0) tests = [{ variant: name, inst: readFilter(name, {}), opts: {} }];
      line = line.replace(/[\r\n]+$/, '');
      for (const { variant, inst, opts } of tests) {
        if (typeof faildata.constraint === 'string' && !evaluate(faildata.constraint, name, opts)) continue;
        const isExpectation = 'match' in faildata;
        const record = (ok: boolean, reason?: string) => {
          if (isExpectation || !ok) report.expectations.push({ filter: name, variant, file, line: ln + 1, text: line, ok, reason });
        };
        if (!inst) {
          record(false, 'filter did not load');
          continue;
        }
        let ret: Failure[];
        try {
          if (opts.logtype !== 'journal') {
            ret = inst.core.processLine(line, TEST_NOW * 1000);
          } else {
            const text = opts['test.prefix-line'] ? opts['test.prefix-line'] + line : line;
            ret = inst.core.processLine(text, TEST_NOW * 1000, { dateText: TEST_NOW_STR, time: TEST_NOW });
          }
        } catch (err) {
          record(false, `error: ${(err as Error).message}`);
          continue;
        }
        const found = ret.filter((r) => {
          if (r.id === null || r.nofail) {
            inst.used.add(r.regexIndex);
            return false;
          }
          return true;
        });
        if (found.length === 0) {
          record(!faildata.match, faildata.match ? 'not matched, should have been' : undefined);
          continue;
        }
        if (!faildata.match) {
          record(false, `matched (regex ${found[0]!.regexIndex}), should not have been`);
          continue;
        }
        if (found.length !== 1) {
          record(false, `several regexes matched: ${found.map((f) => f.regexIndex).join(', ')}`);
          continue;
        }
        const f = found[0]!;
        const problems: string[] = [];
        for (const [k, v] of Object.entries(faildata)) {
          if (['time', 'match', 'desc', 'constraint'].includes(k)) continue;
          let fv = getOwn(f.fail, k);
          if (fv === undefined || fv === null) {
            if (k === 'host') {
              if (!hostEquals(f, v)) problems.push(`host ${f.id ? f.id.text : 'none'} != ${JSON.stringify(v)}`);
              continue;
            }
            if (k === 'attempts') fv = ((getOwn(f.fail, 'matches') as unknown[]) ?? []).length;
          }
          if (fv instanceof Set) fv = [...fv];
          if (Array.isArray(fv) && Array.isArray(v)) {
            if (!sameSorted(fv, v)) problems.push(`${k} ${JSON.stringify(fv)} != ${JSON.stringify(v)}`);
          } else if (fv !== v && !(fv === undefined && v === null)) {
            problems.push(`${k} ${JSON.stringify(fv ?? null)} != ${JSON.stringify(v)}`);
          }
        }
        if (typeof faildata.time === 'string') {
          const want = jsonTime(faildata.time, zone);
          if (f.time !== want) {
            const show = (t: number | undefined) => (t === undefined ? 'none' : new Date(t * 1000).toISOString());
            problems.push(`time ${show(f.time)} != ${show(want)} (${faildata.time} local)`);
          }
        }
        if (problems.length === 0) inst.used.add(f.regexIndex);
        record(problems.length === 0, problems.join('; ') || undefined);
      }
    }
  }
  // As fail2ban checks it: a regex counts as covered when some variant matched it (by index) or the same text.
  const usedText = new Set<string>();
  for (const inst of instances.values()) inst?.used.forEach((i) => usedText.add(inst.compiled.failregex[i]!.pattern));
  for (const [variant, inst] of instances) {
    if (!inst) continue;
    inst.compiled.failregex.forEach((r, i) => {
      if (!inst.used.has(i) && !usedText.has(r.pattern)) report.unusedRegexes.push({ variant, index: i, regex: r.pattern });
    });
  }
}
