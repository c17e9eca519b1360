import { RegexSyntaxError } from './errors.ts';
import type { PyMatch } from './regex/compile.ts';
import { PyRegex } from './regex/compile.ts';
import { groupNameOfTag, localiseFlags, resolveTags } from './regex/tags.ts';

/**
 * fail2ban's Regex and FailRegex (fail2ban.server.failregex): a filter
 * regex with its tags resolved, searched in the line buffer, telling which
 * buffered lines it matched.
 */

/** One buffered line as fail2ban keeps it: text before the date, the date text, text after. */
export type TupleLine = readonly [pre: string, date: string, post: string];

/** The text regexes see for buffered lines: dates removed, one `\n` after each line. */
export function tupleLinesBuf(lines: readonly TupleLine[]): string {
  if (lines.length === 1) return lines[0]![0] + lines[0]![2] + '\n';
  let s = '';
  for (const l of lines) s += l[0] + l[2] + '\n';
  return s;
}

export interface RegexHit {
  match: PyMatch;
  /** Buffered lines the match covers (without lines taken by <SKIPLINES>). */
  matched: readonly TupleLine[];
  /** The other buffered lines. */
  unmatched: TupleLine[];
}

/** Groups that identify a failure, in the order fail2ban looks for one. */
export const FAILURE_ID_GROUPS = ['fid', 'ip4', 'ip6', 'dns'] as const;
const FAILURE_ID_PRESENT = [...FAILURE_ID_GROUPS, 'mlfid'];

const COMPLEX_NAME = /^(alt_|tuple_)(.*?)(?:_\d+)?$/;
/** Python's str.splitlines separators. */
const LINE_BREAKS = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** A group kept out of the failure data (see groupsOnto). */
export interface Held {
  readonly name: string;
  has: boolean;
  value: unknown;
}

export class FilterRegex {
  readonly regex: PyRegex;
  /** Group names that came from `<F-...>` tags. */
  readonly fieldNames: ReadonlySet<string>;
  private readonly altValues: Array<[string, string]> = [];
  private readonly tupleValues: Array<[string, string]> = [];
  private readonly skipGroups: number;

  /**
   * @param pattern as written in the filter (with tags)
   * @param options.multiline re.MULTILINE, set for failregex when maxlines > 1
   */
  constructor(
    readonly pattern: string,
    options: { multiline?: boolean; usedns?: string } = {},
  ) {
    const resolved = resolveTags(pattern, options.usedns);
    if (resolved.trim() === '') throw new RegexSyntaxError('Cannot add empty regex', pattern);
    this.regex = new PyRegex(localiseFlags(resolved), { m: options.multiline ?? false });
    // Failure data is kept in plain objects: a group may not be named like an Object.prototype member.
    for (const name of this.regex.names.keys()) {
      if (name in Object.prototype) throw new RegexSyntaxError(`group name '${name}' is not allowed`, pattern);
    }
    const fields = new Set<string>();
    for (const m of pattern.matchAll(/<F-([A-Z0-9_-]+)>/g)) fields.add(groupNameOfTag(m[1]!));
    this.fieldNames = fields;
    for (const name of this.regex.names.keys()) {
      if (name.length <= 4) continue;
      const m = COMPLEX_NAME.exec(name);
      if (!m) continue;
      const target = groupNameOfTag(m[2]!);
      (m[1] === 'alt_' ? this.altValues : this.tupleValues).push([name, target]);
    }
    this.altValues.sort(byPair);
    this.tupleValues.sort(byPair);
    let n = 0;
    while (this.regex.names.has(`skiplines${n}`)) n++;
    this.skipGroups = n;
  }

  /** Named groups except `content`, for the prefregex's part of a failure. */
  preValues(match: PyMatch): { keys: readonly string[]; values: unknown[]; content: string | undefined } {
    const named = this.regex.named;
    const raw = match.raw;
    const values: unknown[] = [];
    let content: string | undefined;
    for (let i = 0; i < named.length; i++) {
      const [name, g] = named[i]!;
      const n = this.regex.jsGroup(raw, g);
      const v = n < 0 ? undefined : raw[n];
      if (name === 'content') content = v;
      else values.push(v);
    }
    return { keys: this.preKeys, values, content };
  }

  private get preKeys(): readonly string[] {
    return (this.preKeyCache ??= this.regex.namedKeys.filter((k) => k !== 'content'));
  }

  private preKeyCache?: readonly string[];

  hasFailureId(): boolean {
    return FAILURE_ID_PRESENT.some((g) => this.regex.names.has(g));
  }

  /** Regex.search: `buf` is tupleLinesBuf of the lines (or of a prefregex's content). */
  search(buf: string, orgLines: readonly TupleLine[]): RegexHit | null {
    const match = this.regex.search(buf);
    if (!match) return null;
    if (orgLines.length <= 1) return { match, matched: orgLines, unmatched: [] };
    const start = match.start();
    const end = match.end();
    const lineStart = buf.lastIndexOf('\n', start) + 1;
    let lineEnd = buf.indexOf('\n', Math.max(0, end - 1));
    lineEnd = lineEnd < 0 ? buf.length : lineEnd + 1;
    const count1 = countNewlines(buf, lineStart);
    const count2 = countNewlines(buf, lineEnd);
    const matched = orgLines.slice(count1, count2);
    const unmatched = orgLines.slice(0, count1);
    let n = 0;
    for (const skipped of this.skippedLines(match)) {
      for (let k = n; k < matched.length; k++) {
        const l = matched[k]!;
        if (l[0] + l[2] === skipped) {
          unmatched.push(matched.splice(k, 1)[0]!);
          n = k;
          break;
        }
      }
    }
    unmatched.push(...orgLines.slice(count2));
    return { match, matched, unmatched };
  }

  private skippedLines(match: PyMatch): string[] {
    if (this.skipGroups === 0) return [];
    let text = '';
    for (let i = 0; i < this.skipGroups; i++) text += match.group(`skiplines${i}`) ?? '';
    if (text === '') return [];
    const lines = text.split(LINE_BREAKS);
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  }

  /** getGroups: every named group (undefined when it did not take part), alt_/tuple_ groups merged. */
  groups(match: PyMatch): Record<string, unknown> {
    return this.groupsOnto({}, match);
  }

  /**
   * `base.update(getGroups())`: the groups of this match set on `base`
   * (fail2ban merges a prefregex's groups with a failregex's this way).
   * The group named in `hold` is not set but returned there: a key that is
   * set only to be deleted again would cost V8 its fast object layout.
   */
  groupsOnto(base: Record<string, unknown>, match: PyMatch, hold?: Held): Record<string, unknown> {
    const named = this.regex.named;
    const raw = match.raw;
    for (let i = 0; i < named.length; i++) {
      const [name, g] = named[i]!;
      const n = this.regex.jsGroup(raw, g);
      const v = n < 0 ? undefined : raw[n];
      if (hold && name === hold.name) {
        hold.has = true;
        hold.value = v;
      } else {
        base[name] = v;
      }
    }
    if (this.altValues.length === 0 && this.tupleValues.length === 0) return base;
    // alt_/tuple_ merging looks at this regex's own groups only, as getGroups does before the merge.
    const own = new Map<string, unknown>();
    for (const [name] of named) own.set(name, base[name]);
    for (const [k, n] of this.altValues) {
      const v = own.get(k);
      if (v && !own.get(n)) {
        own.set(n, v);
        base[n] = v;
      }
    }
    for (const [k, n] of this.tupleValues) {
      const v = own.get(k);
      const t = own.get(n);
      const combined = Array.isArray(t) ? [...t, v] : [t, v];
      own.set(n, combined);
      base[n] = combined;
    }
    return base;
  }
}

function countNewlines(s: string, end: number): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0 && i < end; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function byPair(a: [string, string], b: [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}
