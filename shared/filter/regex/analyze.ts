import type { Node } from './ast.ts';
import { caseVariants } from './casefold.ts';

/**
 * Cheap facts about a pattern that let the matcher skip work without
 * changing results.
 */

const TOO_MANY = 512;

/**
 * For a pattern that can only match at the start of the text (every
 * alternative begins with `^` without MULTILINE, or `\A`), the UTF-16 code
 * units its first character can start with; undefined when not anchored or
 * not known. A line whose first unit is not in the set cannot match.
 */
export function anchoredFirstUnits(root: Node): Set<number> | undefined {
  const out = new Set<number>();
  return anchoredFirst(root, out) === 'ok' ? out : undefined;
}

/**
 * fail2ban's line-anchored date templates start `^(?:\W{0,2})?`: up to
 * `skip` non-word characters, then the date. Returns that bound and the
 * units the date can start with; a line where none of its first `skip`+1
 * characters (stopping at the first word character) is such a unit cannot
 * match.
 */
export function skippablePrefixFirst(root: Node): { skip: number; units: Set<number> } | undefined {
  const items = root.t === 'seq' ? root.items : undefined;
  if (!items || items.length < 3) return undefined;
  const [anchor, optional, ...rest] = items;
  if (anchor!.t !== 'assert' || anchor!.kind !== 'bol' || anchor!.flags.m) return undefined;
  const skip = nonWordRun(optional!);
  if (skip === undefined) return undefined;
  const units = new Set<number>();
  return firstOfSeq(rest, units) === 'ok' ? { skip, units } : undefined;
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

type Outcome = 'ok' | 'unknown';

/** Requires an anchor before anything that consumes, then collects the first units. */
function anchoredFirst(node: Node, out: Set<number>): Outcome {
  switch (node.t) {
    case 'alt':
      for (const a of node.alts) if (anchoredFirst(a, out) !== 'ok') return 'unknown';
      return 'ok';
    case 'group':
      return anchoredFirst(node.body, out);
    case 'seq': {
      const items = node.items;
      let i = 0;
      // Zero-width items before the anchor do not matter; anything else does.
      for (; i < items.length; i++) {
        const it = items[i]!;
        if (it.t === 'assert' && ((it.kind === 'bol' && !it.flags.m) || it.kind === 'start')) break;
        if (it.t === 'group' && it.index === undefined && items.length === 1) return anchoredFirst(it, out);
        return 'unknown';
      }
      if (i >= items.length) return 'unknown';
      return firstOfSeq(items.slice(i + 1), out);
    }
    default:
      return 'unknown';
  }
}

/** First units of what a sequence consumes first; unknown when it may consume nothing first. */
function firstOfSeq(items: readonly Node[], out: Set<number>): Outcome {
  for (const it of items) {
    if (it.t === 'look' || (it.t === 'assert' && it.kind !== 'bol' && it.kind !== 'eol')) continue;
    return first(it, out);
  }
  return 'unknown';
}

function add(cp: number, out: Set<number>): void {
  out.add(cp > 0xffff ? 0xd800 + ((cp - 0x10000) >> 10) : cp);
}

function first(node: Node, out: Set<number>): Outcome {
  switch (node.t) {
    case 'char':
      for (const v of node.flags.i ? caseVariants(node.cp) : [node.cp]) add(v, out);
      return 'ok';
    case 'class': {
      if (node.negated) return 'unknown';
      for (const item of node.items) {
        if (item.t !== 'range') return 'unknown';
        if (item.to - item.from > TOO_MANY) return 'unknown';
        for (let cp = item.from; cp <= item.to; cp++) {
          for (const v of node.flags.i ? caseVariants(cp) : [cp]) add(v, out);
        }
      }
      return out.size > TOO_MANY ? 'unknown' : 'ok';
    }
    case 'group':
    case 'atomic':
      return first(node.body, out);
    case 'seq':
      return firstOfSeq(node.items, out);
    case 'alt':
      for (const a of node.alts) if (first(a, out) !== 'ok') return 'unknown';
      return 'ok';
    case 'repeat':
      return node.min >= 1 ? first(node.body, out) : 'unknown';
    default:
      return 'unknown';
  }
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
