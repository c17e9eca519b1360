import type { Node } from './ast.ts';
import { caseVariants } from './casefold.ts';
import { PrefixSets } from './prefix.ts';

/**
 * Cheap facts about a pattern that let the matcher skip work without
 * changing results.
 */

/** Longest prefix worked out (positions); a set larger than this many units is taken as "any". */
const MAX_POSITIONS = 24;
const TOO_MANY = 512;

/** Per position, the units a match may have there (undefined: any); `fixed`: the node always consumes exactly these positions. */
interface Prefix {
  sets: Array<Set<number> | undefined>;
  fixed: boolean;
}

const ANY: Prefix = { sets: [undefined], fixed: true };
const EMPTY_FIXED: Prefix = { sets: [], fixed: true };
const EMPTY_OPEN: Prefix = { sets: [], fixed: false };

/**
 * For a pattern that can only match at the start of the text (every
 * alternative begins with `^` without MULTILINE, or `\A`), the units its
 * first characters can be, position by position (see PrefixSets);
 * undefined when not anchored or nothing is known.
 */
export function anchoredPrefix(root: Node): PrefixSets | undefined {
  budget = 10_000;
  const p = anchored(root);
  return p && p.sets.length > 0 && p.sets[0] !== undefined ? new PrefixSets(p.sets) : undefined;
}

/**
 * fail2ban's line-anchored date templates start `^(?:\W{0,k})?`: up to `k`
 * non-word characters, then the date. Returns k and the prefix of what
 * follows (the date).
 */
export function skippablePrefix(root: Node): { skip: number; prefix: PrefixSets } | undefined {
  const items = root.t === 'seq' ? root.items : undefined;
  if (!items || items.length < 3) return undefined;
  const [anchor, optional, ...rest] = items;
  if (anchor!.t !== 'assert' || anchor!.kind !== 'bol' || anchor!.flags.m) return undefined;
  const skip = nonWordRun(optional!);
  if (skip === undefined) return undefined;
  budget = 10_000;
  const p = prefixOfSeq(rest);
  return p.sets.length > 0 && p.sets[0] !== undefined ? { skip, prefix: new PrefixSets(p.sets) } : undefined;
}

/** `(?:\W{0,k})?` → k. */
function nonWordRun(node: Node): number | undefined {
  let n = node;
  if (n.t === 'repeat' && n.min === 0 && n.max === 1 && !n.possessive) n = n.body;
  while (n.t === 'group' && n.index === undefined) n = n.body;
  if (n.t !== 'repeat' || n.min !== 0 || !Number.isFinite(n.max) || n.possessive) return undefined;
  const body = n.body;
  if (body.t !== 'shorthand' || body.kind !== 'W' || body.flags.a) return undefined;
  return n.max;
}

/** The prefix after the anchor, when every way through the pattern starts with one. */
function anchored(node: Node): Prefix | undefined {
  switch (node.t) {
    case 'alt': {
      const parts: Prefix[] = [];
      for (const a of node.alts) {
        const p = anchored(a);
        if (!p) return undefined;
        parts.push(p);
      }
      return union(parts);
    }
    case 'group':
      return anchored(node.body);
    case 'seq': {
      const first = node.items[0];
      if (!first) return undefined;
      if ((first.t === 'assert' && ((first.kind === 'bol' && !first.flags.m) || first.kind === 'start'))) return prefixOfSeq(node.items.slice(1));
      if (first.t === 'group' && first.index === undefined && node.items.length === 1) return anchored(first);
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Work left for one analysis: optional items make it branch, and a pattern may have many. */
let budget = 0;

function prefixOfSeq(items: readonly Node[]): Prefix {
  const sets: Array<Set<number> | undefined> = [];
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    if (--budget < 0) return { sets, fixed: false };
    if (it.t === 'repeat' && it.min === 0 && it.max > 0) {
      // `X? rest` starts like `X rest` or like `rest`; `X* rest` like `X...` or like `rest`.
      const rest = items.slice(k + 1);
      const taken = it.max === 1 ? prefixOfSeq([it.body, ...rest]) : { sets: prefixOf(it.body).sets, fixed: false };
      const u = union([taken, prefixOfSeq(rest)]);
      sets.push(...u.sets);
      return { sets: sets.slice(0, MAX_POSITIONS), fixed: u.fixed && sets.length <= MAX_POSITIONS };
    }
    const p = prefixOf(it);
    sets.push(...p.sets);
    if (sets.length >= MAX_POSITIONS) return { sets: sets.slice(0, MAX_POSITIONS), fixed: false };
    if (!p.fixed) return { sets, fixed: false };
  }
  return { sets, fixed: true };
}

/** Position-wise union of alternatives, as long as the shortest. */
function union(parts: readonly Prefix[]): Prefix {
  if (parts.length === 0) return EMPTY_OPEN;
  const n = Math.min(...parts.map((p) => p.sets.length));
  const sets: Array<Set<number> | undefined> = [];
  for (let i = 0; i < n; i++) {
    let set: Set<number> | undefined = new Set<number>();
    for (const p of parts) {
      const s = p.sets[i];
      if (s === undefined) {
        set = undefined;
        break;
      }
      for (const u of s) set.add(u);
    }
    sets.push(set !== undefined && set.size > TOO_MANY ? undefined : set);
  }
  return { sets, fixed: parts.every((p) => p.fixed && p.sets.length === n) };
}

function prefixOf(node: Node): Prefix {
  switch (node.t) {
    case 'char': {
      const set = new Set<number>();
      for (const v of node.flags.i ? caseVariants(node.cp) : [node.cp]) add(v, set);
      return { sets: [set], fixed: true };
    }
    case 'class':
      return { sets: [classSet(node)], fixed: true };
    case 'shorthand':
      return { sets: [shorthandSet(node.kind, node.flags.a)], fixed: true };
    case 'any':
      return ANY;
    case 'assert':
    case 'look':
      return EMPTY_FIXED;
    case 'group':
    case 'atomic':
      return prefixOf(node.body);
    case 'seq':
      return prefixOfSeq(node.items);
    case 'alt':
      return union(node.alts.map(prefixOf));
    case 'repeat': {
      if (node.min === 0) return node.max === 0 ? EMPTY_FIXED : EMPTY_OPEN;
      const body = prefixOf(node.body);
      if (!body.fixed) return { sets: body.sets, fixed: false };
      const sets: Array<Set<number> | undefined> = [];
      for (let i = 0; i < node.min && sets.length < MAX_POSITIONS; i++) sets.push(...body.sets);
      return { sets: sets.slice(0, MAX_POSITIONS), fixed: node.min === node.max && sets.length <= MAX_POSITIONS };
    }
    default:
      return EMPTY_OPEN;
  }
}

function add(cp: number, out: Set<number>): void {
  out.add(cp > 0xffff ? 0xd800 + ((cp - 0x10000) >> 10) : cp);
}

/** A class's units; undefined (any) when negated or large. */
function classSet(node: Extract<Node, { t: 'class' }>): Set<number> | undefined {
  if (node.negated) return undefined;
  const out = new Set<number>();
  for (const item of node.items) {
    if (item.t === 'shorthand') {
      const s = shorthandSet(item.kind, node.flags.a);
      if (s === undefined) return undefined;
      for (const u of s) out.add(u);
      continue;
    }
    if (item.to - item.from > TOO_MANY) return undefined;
    for (let cp = item.from; cp <= item.to; cp++) {
      for (const v of node.flags.i ? caseVariants(cp) : [cp]) add(v, out);
    }
    if (out.size > TOO_MANY) return undefined;
  }
  return out;
}

/** `\d \w \s`: exact in ASCII, and "some unit above U+00FF" unless ASCII-only; negated ones are "any". */
function shorthandSet(kind: string, ascii: boolean): Set<number> | undefined {
  const ranges: Array<[number, number]> =
    kind === 'd' ? [[48, 57]] : kind === 'w' ? [[48, 57], [65, 90], [95, 95], [97, 122]] : kind === 's' ? [[9, 13], [28, 32]] : [];
  if (ranges.length === 0) return undefined;
  const out = new Set<number>();
  for (const [a, b] of ranges) for (let u = a; u <= b; u++) out.add(u);
  if (!ascii) {
    // Latin-1's non-ASCII members, then one stand-in for everything above.
    for (let u = 0x80; u <= 0xff; u++) if (latin1Member(kind, u)) out.add(u);
    out.add(0x100);
  }
  return out;
}

function latin1Member(kind: string, u: number): boolean {
  const c = String.fromCharCode(u);
  if (kind === 'd') return /\p{Nd}/u.test(c);
  if (kind === 'w') return /[\p{L}\p{N}_]/u.test(c);
  return u === 0x85 || u === 0xa0;
}

/**
 * When Python group 1 is an element of the top-level sequence, the index of
 * that element: the emitter can then capture what precedes it, and group 1's
 * span follows from the match without the slower `d` flag.
 */
export function topLevelGroup1(root: Node): number | undefined {
  if (root.t === 'group' && root.index === 1) return 0;
  if (root.t !== 'seq') return undefined;
  const at = root.items.findIndex((n) => n.t === 'group' && n.index === 1);
  return at >= 0 ? at : undefined;
}
