import { getOwn, matchedLines, resolveTagsForDisplay, type FailureId } from '../../../../shared/filter/index.ts';
import { debuggexLines } from './debuggex.ts';
import type { Codec } from './encoding.ts';
import type { RegexSession } from './session.ts';
import { ctime, idText, ipText, pyRepr } from './text.ts';

/** What `fleetban regex` prints as its result: fail2ban-regex's report layout, and a JSON form of the same result. */

function list(items: readonly string[], header?: string): string[] {
  if (items.length === 0) return [];
  const lines = header ? [`|- ${header}`] : [];
  return [...lines, ...items.map((i) => `|  ${i}`), '`-'];
}

/** What the report shows besides the counts. */
export interface ReportOptions {
  /** `-v` (or `--verbosity` above 0): every regex and date template, each failure with its time. */
  verbose: boolean;
  /** `--VD`: each date template's weight, pattern and regex. */
  verboseDate: boolean;
  /** `-D`: the listed lines with debuggex.com links (their encoding, and --usedns as given). */
  debuggex?: { codec: Codec; usedns: string | undefined };
}

/** Python's `'%.3f' % x`: rounds half to even where x is exactly half-way (toFixed rounds those up). */
function fixed3(x: number): string {
  const scaled = x * 1000;
  if (Number.isInteger(scaled * 2) && !Number.isInteger(scaled)) {
    const down = Math.floor(scaled);
    return ((down % 2 === 0 ? down : down + 1) / 1000).toFixed(3);
  }
  return x.toFixed(3);
}

/** fail2ban-regex's "Results" report. */
export function formatReport(session: RegexSession, options: ReportOptions): string[] {
  const { verbose } = options;
  const out: string[] = ['', 'Results', '======='];
  const pre = session.filter.prefregex;
  if (pre) {
    const groups = verbose ? session.prefregexGroups.map((g) => `    ${g === '...' ? g : pyRepr(g)}`) : [];
    out.push('', `Prefregex: ${session.prefregexMatched} total`, ...list([resolveTagsForDisplay(pre.pattern, session.filter.usedns), ...groups]));
  }
  const regexes = (title: string, stats: RegexSession['failregex']) => {
    const rows: string[] = [];
    let total = 0;
    stats.forEach((s, i) => {
      total += s.hits;
      if (s.hits || verbose) rows.push(`${String(i + 1).padStart(2)}) [${s.hits}] ${s.regex}`);
      if (verbose) {
        for (const { failure: f, multiple } of s.failures) {
          rows.push(`    ${idText(f.id) ?? f.id?.text}  ${f.time === undefined ? 'None' : ctime(session.zones.zone, f.time * 1000)}${multiple ? ' (multiple regex matched)' : ''}`);
        }
      }
    });
    out.push('', `${title}: ${total} total`, ...list(rows, ' #) [# of hits] regular expression'));
  };
  regexes('Failregex', session.failregex);
  regexes('Ignoreregex', session.ignoreregex);
  const templates = session.dateTemplates();
  if (templates) {
    out.push('', 'Date template hits:');
    const rows: string[] = [];
    for (const t of templates) {
      if (!verbose && !t.hits) continue;
      rows.push(`[${t.hits}] ${t.name}`);
      if (options.verboseDate) {
        rows.push(`    # weight: ${fixed3(t.weight)} (${fixed3(t.templateWeight)}), pattern: ${t.pattern}`);
        rows.push(`    # regex:   ${t.regex}`);
      }
    }
    out.push(...list(rows, '[# of hits] date format'));
  }
  const s = session.stats;
  out.push('', `Lines: ${s.tested} lines, ${s.ignored} ignored, ${s.matched} matched, ${s.missed} missed`);
  out.push(`[processed in ${(session.elapsedMs / 1000).toFixed(2)} sec]`, '');
  const o = session.options;
  const section = (kind: 'matched' | 'ignored' | 'missed', count: number, lines: string[], all: boolean) => {
    if (!count) return;
    const header = `${kind[0]!.toUpperCase()}${kind.slice(1)} line(s):`;
    const d = options.debuggex;
    if (!(count < o.listLimit || all)) {
      out.push(`${header} too many to print.  Use --print-all-${kind} to print all ${count} lines`);
    } else if (d) {
      const regexes = (kind === 'ignored' ? session.ignoreregex : session.failregex).map((r) => r.regex);
      const multiline = session.filter.maxlines > 1;
      out.push(...list(debuggexLines(s.debuggex?.[kind] ?? [], regexes, { ...d, multiline }), header));
    } else {
      out.push(...list(lines.map((l) => l.trimEnd()), header));
    }
  };
  if (o.printAllMatched) section('matched', s.matched, s.matchedLines, o.printAllMatched);
  if (!o.printNoIgnored) section('ignored', s.ignored, s.ignoredLines, o.printAllIgnored);
  if (!o.printNoMissed) section('missed', s.missed, s.missedLines, o.printAllMissed);
  return out;
}

/** The same result as JSON. */
export function formatJson(session: RegexSession): unknown {
  const s = session.stats;
  return {
    filter: session.filter.name,
    lines: { total: s.tested, matched: s.matched, missed: s.missed, ignored: s.ignored },
    prefregex: session.filter.prefregex ? { regex: session.filter.prefregex.pattern, matched: session.prefregexMatched } : null,
    failregex: session.failregex.map((r) => ({ regex: r.regex, hits: r.hits })),
    ignoreregex: session.ignoreregex.map((r) => ({ regex: r.regex, hits: r.hits })),
    dateTemplates: (session.dateTemplates() ?? [])
      .filter((t) => t.hits > 0)
      .map((t) => ({ name: t.name, hits: t.hits })),
    failures: session.failures.map((f) => ({
      regex: f.regexIndex + 1,
      ip: ipText(f) ?? null,
      host: (getOwn(f.fail, 'ip') as FailureId | undefined)?.text ?? f.id?.text ?? null,
      time: f.time === undefined ? null : new Date(Math.round(f.time * 1000)).toISOString(),
      user: typeof getOwn(f.fail, 'user') === 'string' ? (getOwn(f.fail, 'user') as string) : null,
      lines: matchedLines(f.fail),
    })),
    missedLines: s.missedLines,
    ignoredLines: s.ignoredLines,
    unresolvedHostNames: session.unresolved,
    elapsedSeconds: Number((session.elapsedMs / 1000).toFixed(3)),
  };
}
