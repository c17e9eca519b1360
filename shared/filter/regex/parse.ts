import { RegexSyntaxError } from '../errors.ts';
import type { ClassItem, Flags, Node, ParsedRegex, Shorthand } from './ast.ts';

/**
 * Parses a pattern written for Python's `re` module (3.11, as fail2ban runs
 * it) into a syntax tree. It follows sre_parse: the same escapes, the same
 * rules for `{` that is not a quantifier, octal escapes versus group
 * references, global flags only at the start, local flag groups, atomic
 * groups and possessive quantifiers, verbose mode. What Python refuses is
 * refused here too, with Python's wording where it helps.
 */
export function parsePythonRegex(source: string, initial: Partial<Flags> = {}): ParsedRegex {
  return new Parser(source, { i: false, m: false, s: false, a: false, ...initial }).parse();
}

const DIGITS = /[0-9]/;
const OCTAL = /[0-7]/;
const HEX = /^[0-9a-fA-F]+$/;
const ASCII_LETTER = /[A-Za-z]/;
const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };

class Parser {
  private pos = 0;
  private groupCount = 0;
  private readonly names = new Map<string, number>();
  private readonly open = new Set<number>();
  private verbose = false;

  constructor(
    private readonly src: string,
    private flags: Flags,
  ) {}

  parse(): ParsedRegex {
    this.readGlobalFlags();
    const root = this.parseAlternation(this.flags, true);
    if (this.pos < this.src.length) {
      // Only an unbalanced ')' stops the top level early.
      throw this.error('unbalanced parenthesis');
    }
    return { root, groups: this.groupCount, names: this.names };
  }

  private error(message: string): RegexSyntaxError {
    return new RegexSyntaxError(`${message} at position ${this.pos}`, this.src);
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  /** `(?aiLmsux)` groups at the very start set flags for the whole pattern. */
  private readGlobalFlags(): void {
    for (;;) {
      const m = /^\(\?([aiLmsux]+)\)/.exec(this.src.slice(this.pos));
      if (!m) return;
      this.applyFlagLetters(this.flags, m[1]!, true);
      this.pos += m[0].length;
    }
  }

  private applyFlagLetters(flags: Flags, letters: string, on: boolean): void {
    for (const c of letters) {
      if (c === 'i') flags.i = on;
      else if (c === 'm') flags.m = on;
      else if (c === 's') flags.s = on;
      else if (c === 'a') flags.a = on;
      else if (c === 'x') this.verbose = on;
      else if (c === 'u' || c === 'L') {
        // `u` is the default for str patterns; `L` (locale) is for bytes only.
        if (c === 'L') throw this.error('bad inline flags: cannot use \'L\' flag with a str pattern');
      }
    }
  }

  private skipVerbose(): void {
    if (!this.verbose) return;
    for (;;) {
      const c = this.peek();
      if (c === undefined) return;
      if (/\s/.test(c)) {
        this.pos++;
      } else if (c === '#') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
      } else {
        return;
      }
    }
  }

  private parseAlternation(flags: Flags, top = false): Node {
    const alts: Node[] = [this.parseSequence(flags)];
    while (this.peek() === '|') {
      this.pos++;
      alts.push(this.parseSequence(flags));
    }
    if (!top && this.peek() !== ')') throw this.error('missing ), unterminated subpattern');
    return alts.length === 1 ? alts[0]! : { t: 'alt', alts };
  }

  private parseSequence(flags: Flags): Node {
    const items: Node[] = [];
    for (;;) {
      this.skipVerbose();
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') break;
      const atom = this.parseAtom(flags);
      if (atom === null) continue;
      items.push(this.parseQuantifiers(atom, flags));
    }
    return items.length === 1 ? items[0]! : { t: 'seq', items };
  }

  private parseQuantifiers(atom: Node, _flags: Flags): Node {
    let node = atom;
    let quantified = false;
    for (;;) {
      this.skipVerbose();
      const q = this.readQuantifier();
      if (!q) return node;
      if (quantified) throw this.error('multiple repeat');
      if (!isRepeatable(node)) throw this.error('nothing to repeat');
      let lazy = false;
      let possessive = false;
      if (this.peek() === '?') {
        lazy = true;
        this.pos++;
      } else if (this.peek() === '+') {
        possessive = true;
        this.pos++;
      }
      node = { t: 'repeat', body: node, min: q.min, max: q.max, lazy, possessive };
      quantified = true;
    }
  }

  private readQuantifier(): { min: number; max: number } | undefined {
    const c = this.peek();
    if (c === '*') {
      this.pos++;
      return { min: 0, max: Infinity };
    }
    if (c === '+') {
      this.pos++;
      return { min: 1, max: Infinity };
    }
    if (c === '?') {
      this.pos++;
      return { min: 0, max: 1 };
    }
    if (c === '{') {
      // sre_parse: `{` is a quantifier only in the forms {m}, {m,}, {,n}, {m,n}; else a literal.
      const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(this.src.slice(this.pos));
      if (!m || (m[1] === '' && m[2] === undefined)) return undefined;
      const min = m[1] === '' ? 0 : Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) throw this.error('min repeat greater than max repeat');
      this.pos += m[0].length;
      return { min, max };
    }
    return undefined;
  }

  /** One atom, or null for something that matches nothing (a comment, a flags group). */
  private parseAtom(flags: Flags): Node | null {
    const c = this.src[this.pos]!;
    switch (c) {
      case '(':
        return this.parseGroup(flags);
      case '[':
        return this.parseClass(flags);
      case '.':
        this.pos++;
        return { t: 'any', flags };
      case '^':
        this.pos++;
        return { t: 'assert', kind: 'bol', flags };
      case '$':
        this.pos++;
        return { t: 'assert', kind: 'eol', flags };
      case '\\':
        return this.parseEscape(flags);
      case '*':
      case '+':
      case '?':
        throw this.error('nothing to repeat');
      case '{':
        if (this.readQuantifier()) throw this.error('nothing to repeat');
        this.pos++;
        return { t: 'char', cp: 123, flags };
      default: {
        const cp = this.src.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return { t: 'char', cp, flags };
      }
    }
  }

  private parseGroup(flags: Flags): Node | null {
    this.pos++; // (
    if (this.peek() !== '?') return this.captureGroup(undefined, flags);
    this.pos++;
    const c = this.peek();
    if (c === ':') {
      this.pos++;
      return this.finishGroup({ t: 'group', body: this.parseAlternation(flags) });
    }
    if (c === 'P') {
      this.pos++;
      if (this.peek() === '<') {
        this.pos++;
        const name = this.readName('>');
        return this.captureGroup(name, flags);
      }
      if (this.peek() === '=') {
        this.pos++;
        const name = this.readName(')');
        const index = this.names.get(name);
        if (index === undefined) throw this.error(`unknown group name '${name}'`);
        if (this.open.has(index)) throw this.error('cannot refer to an open group');
        return { t: 'backref', index, flags };
      }
      throw this.error(`unknown extension ?P${this.peek() ?? ''}`);
    }
    if (c === '#') {
      const end = this.src.indexOf(')', this.pos);
      if (end < 0) throw this.error('missing ), unterminated comment');
      this.pos = end + 1;
      return null;
    }
    if (c === '=' || c === '!') {
      this.pos++;
      return this.finishGroup({ t: 'look', behind: false, negate: c === '!', body: this.parseAlternation(flags) });
    }
    if (c === '<') {
      const d = this.peek(1);
      if (d === '=' || d === '!') {
        this.pos += 2;
        return this.finishGroup({ t: 'look', behind: true, negate: d === '!', body: this.parseAlternation(flags) });
      }
      throw this.error(`unknown extension ?<${d ?? ''}`);
    }
    if (c === '>') {
      this.pos++;
      return this.finishGroup({ t: 'atomic', body: this.parseAlternation(flags) });
    }
    if (c === '(') {
      this.pos++;
      const ref = this.readName(')');
      const index = /^\d+$/.test(ref) ? Number(ref) : this.names.get(ref);
      if (index === undefined || index > this.groupCount || index === 0) throw this.error(`unknown group name '${ref}'`);
      const alts = this.parseAlternation(flags);
      const branches = alts.t === 'alt' ? alts.alts : [alts];
      if (branches.length > 2) throw this.error('conditional backref with more than two branches');
      this.finishGroupClose();
      return { t: 'cond', index, yes: branches[0]!, no: branches[1] ?? { t: 'seq', items: [] } };
    }
    // Flags: (?aiLmsux) global (only at the start, handled there) or (?flags-flags:...) local.
    const m = /^([aiLmsux]*)(?:-([imsx]*))?([:)])/.exec(this.src.slice(this.pos));
    if (m && (m[1] !== '' || m[2] !== undefined)) {
      if (m[3] === ')') {
        throw this.error('global flags not at the start of the expression');
      }
      this.pos += m[0].length;
      const local: Flags = { ...flags };
      const verbose = this.verbose;
      this.applyFlagLetters(local, m[1]!, true);
      if (m[2]) this.applyFlagLetters(local, m[2], false);
      const body = this.parseAlternation(local);
      this.verbose = verbose;
      return this.finishGroup({ t: 'group', body });
    }
    throw this.error(`unknown extension ?${c ?? ''}`);
  }

  private captureGroup(name: string | undefined, flags: Flags): Node {
    const index = ++this.groupCount;
    if (name !== undefined) {
      if (this.names.has(name)) throw this.error(`redefinition of group name '${name}'`);
      this.names.set(name, index);
    }
    this.open.add(index);
    const body = this.parseAlternation(flags);
    this.open.delete(index);
    return this.finishGroup({ t: 'group', index, body });
  }

  private finishGroup(node: Node): Node {
    this.finishGroupClose();
    return node;
  }

  private finishGroupClose(): void {
    if (this.peek() !== ')') throw this.error('missing ), unterminated subpattern');
    this.pos++;
  }

  private readName(terminator: string): string {
    const end = this.src.indexOf(terminator, this.pos);
    if (end < 0) throw this.error('missing group name terminator');
    const name = this.src.slice(this.pos, end);
    if (!/^(?:[A-Za-z_\u00c0-\uffff][\w\u00c0-\uffff]*|\d+)$/.test(name)) throw this.error(`bad character in group name '${name}'`);
    this.pos = end + 1;
    return name;
  }

  private parseEscape(flags: Flags): Node {
    this.pos++; // backslash
    const c = this.peek();
    if (c === undefined) throw this.error('bad escape (end of pattern)');
    switch (c) {
      case 'A':
        this.pos++;
        return { t: 'assert', kind: 'start', flags };
      case 'Z':
        this.pos++;
        return { t: 'assert', kind: 'end', flags };
      case 'b':
        this.pos++;
        return { t: 'assert', kind: 'word', flags };
      case 'B':
        this.pos++;
        return { t: 'assert', kind: 'nonword', flags };
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S':
        this.pos++;
        return { t: 'shorthand', kind: c as Shorthand, flags };
    }
    if (DIGITS.test(c)) return this.digitEscape(flags);
    return { t: 'char', cp: this.charEscape(false), flags };
  }

  /** `\1`..`\99` group references, or octal escapes (`\0`, `\012`, `\123`). */
  private digitEscape(flags: Flags): Node {
    const s = this.src;
    const p = this.pos;
    if (s[p] === '0') {
      let text = '0';
      let q = p + 1;
      while (q < s.length && q < p + 3 && OCTAL.test(s[q]!)) text += s[q++];
      this.pos = q;
      return { t: 'char', cp: parseInt(text, 8), flags };
    }
    if (DIGITS.test(s[p + 1] ?? '')) {
      if (OCTAL.test(s[p]!) && OCTAL.test(s[p + 1]!) && OCTAL.test(s[p + 2] ?? '')) {
        const value = parseInt(s.slice(p, p + 3), 8);
        if (value > 0o377) throw this.error(`octal escape value \\${s.slice(p, p + 3)} outside of range 0-0o377`);
        this.pos = p + 3;
        return { t: 'char', cp: value, flags };
      }
      return this.groupRef(Number(s.slice(p, p + 2)), p + 2, flags);
    }
    return this.groupRef(Number(s[p]), p + 1, flags);
  }

  private groupRef(index: number, next: number, flags: Flags): Node {
    if (index > this.groupCount) throw this.error(`invalid group reference ${index}`);
    if (this.open.has(index)) throw this.error('cannot refer to an open group');
    this.pos = next;
    return { t: 'backref', index, flags };
  }

  /** A single-character escape (after the backslash); `inClass` makes `\b` a backspace. */
  private charEscape(inClass: boolean): number {
    const c = this.src[this.pos]!;
    if (c === 'b' && inClass) {
      this.pos++;
      return 8;
    }
    if (c in SIMPLE_ESCAPES && c !== 'b') {
      this.pos++;
      return SIMPLE_ESCAPES[c]!;
    }
    if (c === 'x' || c === 'u' || c === 'U') {
      const len = c === 'x' ? 2 : c === 'u' ? 4 : 8;
      const hex = this.src.slice(this.pos + 1, this.pos + 1 + len);
      if (hex.length !== len || !HEX.test(hex)) throw this.error(`incomplete escape \\${c}${hex}`);
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) throw this.error(`bad escape \\${c}${hex}`);
      this.pos += 1 + len;
      return cp;
    }
    if (c === 'N') throw this.error('named Unicode escapes (\\N{...}) are not supported');
    if (inClass && DIGITS.test(c)) {
      // Inside a class, digits are octal escapes only.
      let text = '';
      let q = this.pos;
      while (q < this.src.length && q < this.pos + 3 && OCTAL.test(this.src[q]!)) text += this.src[q++];
      if (text === '') throw this.error(`bad escape \\${c}`);
      this.pos = q;
      return parseInt(text, 8);
    }
    if (ASCII_LETTER.test(c)) throw this.error(`bad escape \\${c}`);
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private parseClass(flags: Flags): Node {
    this.pos++; // [
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw this.error('unterminated character set');
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const start = this.classAtom();
      if (start.t === 'shorthand') {
        if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) throw this.error('bad character range');
        items.push(start);
        continue;
      }
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.pos++;
        const end = this.classAtom();
        if (end.t === 'shorthand') throw this.error('bad character range');
        if (end.cp < start.cp) throw this.error('bad character range');
        items.push({ t: 'range', from: start.cp, to: end.cp });
      } else {
        items.push({ t: 'range', from: start.cp, to: start.cp });
      }
    }
    return { t: 'class', items, negated, flags };
  }

  private classAtom(): { t: 'cp'; cp: number } | { t: 'shorthand'; kind: Shorthand } {
    const c = this.src[this.pos]!;
    if (c !== '\\') {
      const cp = this.src.codePointAt(this.pos)!;
      this.pos += cp > 0xffff ? 2 : 1;
      return { t: 'cp', cp };
    }
    this.pos++;
    const e = this.peek();
    if (e === undefined) throw this.error('bad escape (end of pattern)');
    if ('dDwWsS'.includes(e)) {
      this.pos++;
      return { t: 'shorthand', kind: e as Shorthand };
    }
    if (e === 'A' || e === 'Z' || e === 'B') throw this.error(`bad escape \\${e}`);
    return { t: 'cp', cp: this.charEscape(true) };
  }
}

function isRepeatable(node: Node): boolean {
  if (node.t === 'assert') return false;
  return true;
}
