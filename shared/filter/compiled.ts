import type { FilterDefinition } from './config/definition.ts';
import { DateDetector } from './date/detector.ts';
import { FilterConfigError, RegexSyntaxError } from './errors.ts';
import { FilterRegex } from './failregex.ts';

export type UseDns = 'yes' | 'warn' | 'no' | 'raw';

/** A filter's regexes translated once, ready for any number of matchers. */
export interface CompiledFilter {
  name: string;
  prefregex?: FilterRegex;
  failregex: FilterRegex[];
  ignoreregex: FilterRegex[];
  maxlines: number;
  /** undefined: fail2ban's default templates. */
  datepattern?: string;
  journalmatch: string[][];
  usedns: UseDns;
}

export interface CompileSettings {
  maxlines?: number;
  datepattern?: string;
  journalmatch?: string;
  usedns?: UseDns;
}

/**
 * Filter.prefRegex / addFailRegex / addIgnoreRegex as fail2ban applies a
 * filter's stream: usedns first, then maxlines (failregex is compiled
 * multi-line when maxlines > 1), prefregex, the regexes, the datepattern.
 * The jail's settings override the filter's.
 */
export function compileFilter(def: FilterDefinition, settings: CompileSettings = {}): CompiledFilter {
  const usedns = normaliseUseDns(settings.usedns ?? def.usedns ?? 'warn');
  const maxlines = settings.maxlines ?? def.maxlines ?? 1;
  if (!Number.isInteger(maxlines) || maxlines <= 0) throw new FilterConfigError(`${def.name}: maxlines must be integer greater than zero`);
  const multiline = maxlines > 1;
  const prefregex = def.prefregex ? new FilterRegex(def.prefregex, { usedns }) : undefined;
  const failregex = def.failregex.map((r) => {
    const fr = new FilterRegex(r, { multiline, usedns });
    if (!fr.hasFailureId() && !prefregex?.hasFailureId()) throw new RegexSyntaxError('No failure-id group', r);
    return fr;
  });
  const ignoreregex = def.ignoreregex.map((r) => new FilterRegex(r, { usedns }));
  const datepattern = settings.datepattern ?? def.datepattern;
  // Build the templates now, so a bad datepattern fails the load, not the first line.
  DateDetector.forPattern(datepattern);
  const journal = settings.journalmatch !== undefined ? settings.journalmatch.split('\n') : def.journalmatch;
  return {
    name: def.name,
    prefregex,
    failregex,
    ignoreregex,
    maxlines,
    datepattern: datepattern === '' ? undefined : datepattern,
    journalmatch: parseJournalMatch(journal),
    usedns,
  };
}

function normaliseUseDns(value: string): UseDns {
  const v = value.toLowerCase();
  // fail2ban logs an error and uses the safe 'no' for anything else.
  return v === 'yes' || v === 'warn' || v === 'no' || v === 'raw' ? v : 'no';
}

/** journalmatch lines → OR-groups of FIELD=value terms, as FilterSystemd.addJournalMatch builds them. */
export function parseJournalMatch(lines: readonly string[]): string[][] {
  const groups: string[][] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const words = shlexSplit(line);
    let fresh = true;
    for (const w of words) {
      if (w === '+') {
        groups.push([]);
        fresh = false;
        continue;
      }
      if (fresh || groups.length === 0) {
        groups.push([w]);
        fresh = false;
      } else {
        groups[groups.length - 1]!.push(w);
      }
    }
  }
  return groups.filter((g) => g.length > 0);
}

/** Python's shlex.split (POSIX mode, no comments). */
export function shlexSplit(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new FilterConfigError(`No closing quotation in ${JSON.stringify(text)}`);
      cur += text.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && (text[j + 1] === '"' || text[j + 1] === '\\' || text[j + 1] === '$' || text[j + 1] === '`')) j++;
        cur += text[j];
      }
      if (j >= text.length) throw new FilterConfigError(`No closing quotation in ${JSON.stringify(text)}`);
      i = j;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}
