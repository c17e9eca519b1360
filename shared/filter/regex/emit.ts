import type { ClassItem, Flags, Node, Shorthand } from './ast.ts';
import { caseVariants, foldRanges, mergeRanges } from './casefold.ts';

/**
 * Writes a syntax tree as a JavaScript pattern for the `u` flag, with
 * Python's meaning:
 *
 * - `\w \d \s \b` are Unicode-aware as in Python 3 (`\s` includes U+001C-1F
 *   and U+0085, `\w` is letters, numbers and `_`), ASCII-only under (?a);
 * - `.` never matches `\n` only (JavaScript's also refuses `\r`, U+2028, U+2029);
 * - `^ $` without MULTILINE are the start, and the end or before a final `\n`;
 *   with MULTILINE they also hold around `\n` (and only `\n`);
 * - IGNORECASE is applied per character, so local `(?i:...)` works;
 * - atomic groups and possessive quantifiers use the lookahead-capture idiom;
 * - capturing groups are emitted unnamed: copies made by conditional
 *   expansion are allowed, and `groups[g]` lists the JavaScript groups that
 *   stand for Python group g.
 */
export interface Emitted {
  source: string;
  /** Python group number → JavaScript group numbers (copies), in pattern order. */
  groups: number[][];
}

const W = String.raw`\p{L}\p{N}_`;
const S = String.raw`\t-\r\x1C-\x20\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000`;
const S_ASCII = String.raw`\t-\r `;

export function emit(root: Node, groupCount: number): Emitted {
  const numbering = new Map<Node, number>();
  let next = 1;
  const groups: number[][] = Array.from({ length: groupCount + 1 }, () => []);
  // Number JavaScript groups in the order their "(" will appear.
  const walk = (node: Node): void => {
    switch (node.t) {
      case 'seq':
        node.items.forEach(walk);
        return;
      case 'alt':
        node.alts.forEach(walk);
        return;
      case 'group':
        if (node.index !== undefined) {
          numbering.set(node, next);
          groups[node.index]!.push(next++);
        }
        walk(node.body);
        return;
      case 'atomic':
        numbering.set(node, next++);
        walk(node.body);
        return;
      case 'repeat':
        if (node.possessive) numbering.set(node, next++);
        walk(node.body);
        return;
      case 'look':
        walk(node.body);
        return;
      case 'cond':
        walk(node.yes);
        walk(node.no);
        return;
      default:
        return;
    }
  };
  walk(root);

  const out = (node: Node): string => {
    switch (node.t) {
      case 'seq':
        return node.items.map(out).join('');
      case 'alt':
        return node.alts.map(out).join('|');
      case 'char':
        return literal(node.cp, node.flags);
      case 'class':
        return charClass(node.items, node.negated, node.flags);
      case 'shorthand':
        return shorthand(node.kind, node.flags);
      case 'any':
        return node.flags.s ? '[^]' : '[^\\n]';
      case 'assert':
        return assertion(node.kind, node.flags);
      case 'group':
        return node.index === undefined ? `(?:${out(node.body)})` : `(${out(node.body)})`;
      case 'look':
        return `(?${node.behind ? '<' : ''}${node.negate ? '!' : '='}${out(node.body)})`;
      case 'atomic':
        return `(?=(${out(node.body)}))(?:\\${numbering.get(node)})`;
      case 'repeat': {
        const q = quantifier(node.min, node.max) + (node.lazy ? '?' : '');
        const b = node.body;
        // A single atom takes the quantifier directly; V8 optimises `[...]+` better than `(?:[...])+`.
        const atom = b.t === 'class' || b.t === 'shorthand' || b.t === 'any' || (b.t === 'char' && !b.flags.i) || (b.t === 'group' && !(b.index === undefined && b.body.t === 'seq' && b.body.items.length === 0));
        const body = atom && !(b.t === 'class' && b.items.some((i) => i.t === 'shorthand' && i.kind !== i.kind.toLowerCase())) ? `${out(b)}${q}` : `(?:${out(b)})${q}`;
        return node.possessive ? `(?=(${body}))(?:\\${numbering.get(node)})` : body;
      }
      case 'backref': {
        const copies = groups[node.index]!;
        return `(?:${copies.map((n) => `\\${n}`).join('')})`;
      }
      case 'cond':
        throw new Error('conditional groups must be expanded before emitting');
    }
  };
  return { source: out(root), groups };
}

function quantifier(min: number, max: number): string {
  if (min === 0 && max === Infinity) return '*';
  if (min === 1 && max === Infinity) return '+';
  if (min === 0 && max === 1) return '?';
  if (min === max) return `{${min}}`;
  return max === Infinity ? `{${min},}` : `{${min},${max}}`;
}

/** A code point as pattern text, escaped unless it is a letter, digit, `_` or space. */
function esc(cp: number): string {
  if ((cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122) || cp === 95 || cp === 32) {
    return String.fromCharCode(cp);
  }
  if (cp <= 0xff) return `\\x${cp.toString(16).toUpperCase().padStart(2, '0')}`;
  if (cp <= 0xffff) return `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return `\\u{${cp.toString(16).toUpperCase()}}`;
}

function literal(cp: number, flags: Flags): string {
  if (flags.i) {
    const variants = caseVariants(cp);
    if (variants.length > 1) return `[${variants.map(esc).join('')}]`;
  }
  return esc(cp);
}

/** Class body text of a shorthand that is a plain union of ranges (`\d \w \s`). */
function positiveShorthand(kind: 'd' | 'w' | 's', flags: Flags): string {
  if (kind === 'd') return flags.a ? '0-9' : '\\p{Nd}';
  if (kind === 'w') return flags.a ? 'A-Za-z0-9_' : W;
  return flags.a ? S_ASCII : S;
}

function shorthand(kind: Shorthand, flags: Flags): string {
  const lower = kind.toLowerCase() as 'd' | 'w' | 's';
  const body = positiveShorthand(lower, flags);
  return kind === lower ? `[${body}]` : `[^${body}]`;
}

function assertion(kind: Extract<Node, { t: 'assert' }>['kind'], flags: Flags): string {
  switch (kind) {
    case 'start':
      return '^';
    case 'end':
      return '$';
    case 'bol':
      return flags.m ? '(?<![^\\n])' : '^';
    case 'eol':
      return flags.m ? '(?![^\\n])' : '(?=\\n?$)';
    case 'word':
      return flags.a ? '\\b' : `(?:(?<=[${W}])(?![${W}])|(?<![${W}])(?=[${W}]))`;
    case 'nonword':
      return flags.a ? '\\B' : `(?:(?<=[${W}])(?=[${W}])|(?<![${W}])(?![${W}]))`;
  }
}

function charClass(items: readonly ClassItem[], negated: boolean, flags: Flags): string {
  let ranges: Array<[number, number]> = [];
  const positive: string[] = [];
  const complements: string[] = [];
  for (const item of items) {
    if (item.t === 'range') {
      ranges.push([item.from, item.to]);
    } else {
      const lower = item.kind.toLowerCase() as 'd' | 'w' | 's';
      if (item.kind === lower) positive.push(positiveShorthand(lower, flags));
      else complements.push(`[^${positiveShorthand(lower, flags)}]`);
    }
  }
  ranges = flags.i ? foldRanges(ranges) : mergeRanges(ranges);
  const body = ranges.map(([a, b]) => (a === b ? esc(a) : `${esc(a)}-${esc(b)}`)).join('') + positive.join('');
  if (complements.length === 0) return negated ? `[^${body}]` : `[${body}]`;
  // A negated shorthand inside a class (`[\S\n]`) is a union the class syntax cannot spell.
  const union = [...(body ? [`[${body}]`] : []), ...complements].join('|');
  return negated ? `(?:(?!${union})[^])` : `(?:${union})`;
}
