import type { Flags } from './ast.ts';
import { expandConditionals } from './conditionals.ts';
import { emit } from './emit.ts';
import { guardedRegExp } from './guard.ts';
import { parsePythonRegex } from './parse.ts';

export interface CompileOptions extends Partial<Flags> {
  /** Keep group spans (the JavaScript `d` flag); only date templates need them. */
  spans?: boolean;
}

/**
 * A Python regular expression carried over to JavaScript, translated once.
 * `search` behaves like Python's `pattern.search(text, pos, endpos)`.
 */
export class PyRegex {
  readonly pattern: string;
  /** Python group number by name. */
  readonly names: ReadonlyMap<string, number>;
  readonly groupCount: number;
  /** The JavaScript source (for diagnostics). */
  readonly jsSource: string;
  private readonly re: RegExp;
  private readonly copies: number[][];

  constructor(pattern: string, options: CompileOptions = {}) {
    const { spans, ...flags } = options;
    const parsed = parsePythonRegex(pattern, flags);
    const root = expandConditionals(parsed.root, pattern);
    const { source, groups } = emit(root, parsed.groups);
    this.pattern = pattern;
    this.names = parsed.names;
    this.groupCount = parsed.groups;
    this.jsSource = source;
    this.copies = groups;
    this.re = guardedRegExp(source, spans ? 'gud' : 'gu');
  }

  search(text: string, pos = 0, endpos?: number): PyMatch | null {
    const subject = endpos === undefined || endpos >= text.length ? text : text.slice(0, endpos);
    const re = this.re;
    re.lastIndex = pos;
    const m = re.exec(subject);
    return m === null ? null : new PyMatch(m, this);
  }

  /** The JavaScript group that took part for Python group g (copies from conditional expansion), or -1. */
  jsGroup(m: RegExpExecArray, g: number): number {
    const copies = this.copies[g];
    if (!copies) return -1;
    for (let i = 0; i < copies.length; i++) {
      const n = copies[i]!;
      if (m[n] !== undefined) return n;
    }
    return -1;
  }
}

/** One match, read like Python's match object. */
export class PyMatch {
  constructor(
    readonly raw: RegExpExecArray,
    private readonly regex: PyRegex,
  ) {}

  start(): number {
    return this.raw.index;
  }

  end(): number {
    return this.raw.index + this.raw[0].length;
  }

  /** Group by number or name; undefined when it did not take part (or does not exist). */
  group(key: number | string): string | undefined {
    const g = typeof key === 'number' ? key : this.regex.names.get(key);
    if (g === undefined) return undefined;
    if (g === 0) return this.raw[0];
    const n = this.regex.jsGroup(this.raw, g);
    return n < 0 ? undefined : this.raw[n];
  }

  has(name: string): boolean {
    return this.regex.names.has(name);
  }

  /** Start and end of a group; needs the `spans` option. */
  span(g: number): [number, number] | undefined {
    const n = this.regex.jsGroup(this.raw, g);
    if (n < 0) return undefined;
    return this.raw.indices?.[n] as [number, number] | undefined;
  }

  /** Named groups that took part, like Python's groupdict() without the None entries. */
  groupdict(): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = {};
    for (const [name, g] of this.regex.names) {
      const n = this.regex.jsGroup(this.raw, g);
      out[name] = n < 0 ? undefined : this.raw[n];
    }
    return out;
  }
}
