import type { Flags, Node } from './ast.ts';
import { anchoredFirstUnits, skippablePrefixFirst, topLevelGroup1 } from './analyze.ts';
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
  /** [name, Python group] in pattern order. */
  readonly named: ReadonlyArray<readonly [string, number]>;
  readonly namedKeys: readonly string[];
  private readonly re: RegExp;
  private readonly copies: number[][];

  /** For spans of group 1: the JavaScript group holding the text before it, or -1 (then the `d` flag is used). */
  readonly beforeGroup1: number = -1;
  /** Bit set of the code units an anchored match can start with (see anchoredFirstUnits). */
  private readonly first?: Uint32Array;
  /** For `^(?:\W{0,k})?X`: k and the bit set of X's first units (see skippablePrefixFirst). */
  private readonly skip: number = -1;
  private readonly skipFirst?: Uint32Array;

  constructor(pattern: string, options: CompileOptions = {}) {
    const { spans, ...flags } = options;
    const parsed = parsePythonRegex(pattern, flags);
    let tree: Node = parsed.root;
    let extra = 0;
    const at = spans ? topLevelGroup1(tree) : undefined;
    if (at !== undefined) {
      // Capture what precedes group 1, so its start is the match start plus that length.
      const items = tree.t === 'seq' ? tree.items : [tree];
      tree = { t: 'seq', items: [{ t: 'group', index: parsed.groups + 1, body: { t: 'seq', items: items.slice(0, at) } }, ...items.slice(at)] };
      extra = 1;
    }
    const first = anchoredFirstUnits(parsed.root);
    if (first) this.first = bitSet(first);
    const skippable = first ? undefined : skippablePrefixFirst(parsed.root);
    if (skippable) {
      this.skip = skippable.skip;
      this.skipFirst = bitSet(skippable.units);
    }
    const root = expandConditionals(tree, pattern);
    const { source, groups } = emit(root, parsed.groups + extra);
    this.pattern = pattern;
    this.names = parsed.names;
    this.groupCount = parsed.groups;
    this.jsSource = source;
    this.copies = groups;
    this.named = [...parsed.names].sort((a, b) => a[1] - b[1]);
    this.namedKeys = this.named.map(([n]) => n);
    if (extra) this.beforeGroup1 = groups[parsed.groups + 1]![0]!;
    this.re = guardedRegExp(source, spans && !extra ? 'gud' : 'gu');
  }

  /** Makes V8 compile the regex to machine code now (it interprets the first run), not on the first line. */
  warm(): void {
    for (let i = 0; i < 2; i++) {
      this.re.lastIndex = 0;
      this.re.exec('');
    }
  }

  search(text: string, pos = 0, endpos?: number): PyMatch | null {
    // An anchored pattern cannot match a text that starts with none of its first characters.
    if (pos === 0 && this.first !== undefined) {
      const u = text.charCodeAt(0);
      if (u !== u || (this.first[u >>> 5]! & (1 << (u & 31))) === 0) return null;
    }
    if (pos === 0 && this.skipFirst !== undefined && !this.mayStartAfterNonWord(text)) return null;
    const subject = endpos === undefined || endpos >= text.length ? text : text.slice(0, endpos);
    const re = this.re;
    re.lastIndex = pos;
    const m = re.exec(subject);
    return m === null ? null : new PyMatch(m, this);
  }

  private mayStartAfterNonWord(text: string): boolean {
    const set = this.skipFirst!;
    const end = Math.min(text.length, this.skip + 1);
    for (let i = 0; i < end; i++) {
      const u = text.charCodeAt(i);
      if ((set[u >>> 5]! & (1 << (u & 31))) !== 0) return true;
      // An astral character may or may not be a word character: no shortcut.
      if (u >= 0xd800 && u <= 0xdfff) return true;
      if (isWordUnit(u)) return false;
    }
    return false;
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
    const before = this.regex.beforeGroup1;
    if (g === 1 && before >= 0) {
      const start = this.raw.index + this.raw[before]!.length;
      return [start, start + this.raw[n]!.length];
    }
    return this.raw.indices?.[n] as [number, number] | undefined;
  }

  /** Python's groupdict(): every named group in pattern order, undefined when it did not take part. */
  groupdict(): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = {};
    const named = this.regex.named;
    for (let i = 0; i < named.length; i++) {
      const [name, g] = named[i]!;
      const n = this.regex.jsGroup(this.raw, g);
      out[name] = n < 0 ? undefined : this.raw[n];
    }
    return out;
  }

  /** Values of the named groups into `out`, in pattern order; returns the names (same order). */
  namedValues(out: Array<string | undefined>): readonly string[] {
    const named = this.regex.named;
    out.length = named.length;
    for (let i = 0; i < named.length; i++) {
      const n = this.regex.jsGroup(this.raw, named[i]![1]);
      out[i] = n < 0 ? undefined : this.raw[n];
    }
    return this.regex.namedKeys;
  }

  /** groupdict() as a Map (fail2ban mutates it as a dict). */
  groupMap(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    const named = this.regex.named;
    for (let i = 0; i < named.length; i++) {
      const [name, g] = named[i]!;
      const n = this.regex.jsGroup(this.raw, g);
      out.set(name, n < 0 ? undefined : this.raw[n]);
    }
    return out;
  }
}

function bitSet(units: Iterable<number>): Uint32Array {
  const set = new Uint32Array(2048);
  for (const u of units) set[u >>> 5]! |= 1 << (u & 31);
  return set;
}

const WORD = /[\p{L}\p{N}_]/u;

/** Python's \w for one UTF-16 unit of the Basic Multilingual Plane. */
function isWordUnit(u: number): boolean {
  if (u < 128) return (u >= 48 && u <= 57) || (u >= 65 && u <= 90) || (u >= 97 && u <= 122) || u === 95;
  return WORD.test(String.fromCharCode(u));
}
