import { getOwn, matchedLines, resolveTagsForDisplay, type FailureId } from '../../../../shared/filter/index.ts';
import type { RegexSession } from './session.ts';
import { ctime, idText, ipText, pyRepr } from './text.ts';

/** What `fleetban regex` prints as its result: fail2ban-regex's report layout, and a JSON form of the same result. */

function list(items: readonly string[], header?: string): string[] {
  if (items.length === 0) return [];
  const lines = header ? [`|- ${header}`] : [];
  return [...lines, ...items.map((i) => `|  ${i}`), '`-'];
}

/** fail2ban-regex's "Results" report. */
export function formatReport(session: RegexSession, verbose: boolean): string[] {
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
    out.push(...list(templates.filter((t) => verbose || t.hits).map((t) => `[${t.hits}] ${t.name}`), '[# of hits] date format'));
  }
  const s = session.stats;
  out.push('', `Lines: ${s.tested} lines, ${s.ignored} ignored, ${s.matched} matched, ${s.missed} missed`);
  out.push(`[processed in ${(session.elapsedMs / 1000).toFixed(2)} sec]`, '');
  if (session.unresolved) {
    out.push(`${session.unresolved} match(es) found a host name, not an address; fleetban never resolves names (--raw shows them)`, '');
  }
  const o = session.options;
  const section = (kind: 'matched' | 'ignored' | 'missed', count: number, lines: string[], all: boolean) => {
    if (!count) return;
    const header = `${kind[0]!.toUpperCase()}${kind.slice(1)} line(s):`;
    if (count < o.listLimit || all) out.push(...list(lines.map((l) => l.trimEnd()), header));
    else out.push(`${header} too many to print.  Use --print-all-${kind} to print all ${count} lines`);
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
    dateTemplates: (session.dateTemplates() ?? []).filter((t) => t.hits > 0),
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
