import { RegexSyntaxError } from '../errors.ts';
import { childrenOf, cloneNode, containsGroup, EMPTY, type Node } from './ast.ts';

/**
 * Rewrites Python's conditional groups `(?(g)yes|no)` away, because
 * JavaScript has none (and a backreference to a group that did not take part
 * matches the empty string there, so it cannot test participation).
 *
 * Whether group g took part is decided where g's element of a sequence makes
 * its choice. That element is split into its variants with g and without g,
 * in the order the backtracking engine tries them; the rest of the sequence
 * is copied after each variant with every conditional on g resolved:
 *
 *     (?P<g>a)?b(?(g)c|d)   →   (?:(?P<g>a)bc|bd)
 *
 * The part of the sequence before the element stays shared, so the order in
 * which paths are tried, and with it leftmost-first matching, is unchanged.
 * Copies of a capturing group keep its Python number; the emitter gives each
 * copy its own JavaScript group and reads whichever took part.
 *
 * Refused (RegexSyntaxError): a conditional whose group may have been set by
 * an earlier iteration of a loop around both, and a group whose participation
 * is decided inside a repetition, a lookaround or an atomic group, because
 * splitting those would change what the pattern matches.
 */
export function expandConditionals(root: Node, source: string): Node {
  let tree = root;
  for (let guard = 0; guard < 10_000; guard++) {
    const path = findConditional(tree, []);
    if (!path) return tree;
    tree = resolve(tree, path, source);
  }
  throw new RegexSyntaxError('too many conditional groups to expand', source);
}

/** Path from the root to the first conditional, pre-order. */
function findConditional(node: Node, path: Node[]): Node[] | undefined {
  const here = [...path, node];
  if (node.t === 'cond') return here;
  for (const child of childrenOf(node)) {
    const found = findConditional(child, here);
    if (found) return found;
  }
  return undefined;
}

function resolve(root: Node, path: Node[], source: string): Node {
  const cond = path[path.length - 1] as Extract<Node, { t: 'cond' }>;
  const g = cond.index;
  for (let k = path.length - 2; k >= 0; k--) {
    const parent = path[k]!;
    const child = path[k + 1]!;
    if (parent.t === 'group' && parent.index === g) {
      throw new RegexSyntaxError(`conditional (?(${g})...) inside the group it tests is not supported`, source);
    }
    if (parent.t === 'repeat' && parent.max > 1 && containsGroup(parent.body, g)) {
      throw new RegexSyntaxError(`conditional (?(${g})...) in a loop that also sets the group is not supported`, source);
    }
    if (parent.t !== 'seq') continue;
    const at = parent.items.indexOf(child);
    let j = -1;
    for (let i = at - 1; i >= 0; i--) {
      if (containsGroup(parent.items[i]!, g)) {
        j = i;
        break;
      }
    }
    if (j < 0) continue;
    const variants = split(parent.items[j]!, g, source);
    const suffix = parent.items.slice(j + 1);
    const alts = variants.map((v) => {
      const rest = suffix.map((n) => settle(cloneNode(n), g, v.takesPart));
      return { t: 'seq', items: [v.node, ...rest] } as Node;
    });
    const replacement: Node = { t: 'group', body: { t: 'alt', alts } };
    parent.items.splice(j, parent.items.length - j, replacement);
    return root;
  }
  // No group g before the conditional on this path: g cannot have taken part.
  return replaceNode(root, cond, cond.no);
}

interface Variant {
  node: Node;
  takesPart: boolean;
}

/** The ways `node` can match, split by whether group g takes part, in the order they are tried. */
function split(node: Node, g: number, source: string): Variant[] {
  if (!containsGroup(node, g)) return [{ node, takesPart: false }];
  switch (node.t) {
    case 'group':
      if (node.index === g) return [{ node, takesPart: true }];
      return split(node.body, g, source).map((v) => ({ node: { ...node, body: v.node }, takesPart: v.takesPart }));
    case 'seq': {
      const k = node.items.findIndex((n) => containsGroup(n, g));
      return split(node.items[k]!, g, source).map((v) => ({
        node: { t: 'seq', items: [...node.items.slice(0, k).map(cloneNode), v.node, ...node.items.slice(k + 1).map(cloneNode)] },
        takesPart: v.takesPart,
      }));
    }
    case 'alt':
      return node.alts.flatMap((a) => split(a, g, source));
    case 'repeat': {
      if (node.max <= 1 && !node.possessive) {
        const once = split(node.body, g, source);
        if (node.min === 1) return once;
        const none: Variant = { node: { t: 'seq', items: [] }, takesPart: false };
        return node.lazy ? [none, ...once] : [...once, none];
      }
      throw new RegexSyntaxError(`group ${g} tested by a conditional is inside a repetition; not supported`, source);
    }
    case 'look':
      if (node.negate) return [{ node, takesPart: false }];
      throw new RegexSyntaxError(`group ${g} tested by a conditional is inside a lookaround; not supported`, source);
    case 'atomic':
      throw new RegexSyntaxError(`group ${g} tested by a conditional is inside an atomic group; not supported`, source);
    case 'cond':
      throw new RegexSyntaxError(`group ${g} tested by a conditional is inside another conditional; not supported`, source);
    default:
      return [{ node, takesPart: false }];
  }
}

/** Replaces every conditional on g in the subtree by the branch that applies. */
function settle(node: Node, g: number, takesPart: boolean): Node {
  if (node.t === 'cond' && node.index === g) return settle(takesPart ? node.yes : node.no, g, takesPart);
  switch (node.t) {
    case 'seq':
      return { t: 'seq', items: node.items.map((n) => settle(n, g, takesPart)) };
    case 'alt':
      return { t: 'alt', alts: node.alts.map((n) => settle(n, g, takesPart)) };
    case 'group':
    case 'look':
    case 'atomic':
    case 'repeat':
      return { ...node, body: settle(node.body, g, takesPart) };
    case 'cond':
      return { ...node, yes: settle(node.yes, g, takesPart), no: settle(node.no, g, takesPart) };
    default:
      return node;
  }
}

function replaceNode(node: Node, target: Node, by: Node): Node {
  if (node === target) return by ?? EMPTY;
  switch (node.t) {
    case 'seq':
      node.items = node.items.map((n) => replaceNode(n, target, by));
      return node;
    case 'alt':
      node.alts = node.alts.map((n) => replaceNode(n, target, by));
      return node;
    case 'group':
    case 'look':
    case 'atomic':
    case 'repeat':
      node.body = replaceNode(node.body, target, by);
      return node;
    case 'cond':
      node.yes = replaceNode(node.yes, target, by);
      node.no = replaceNode(node.no, target, by);
      return node;
    default:
      return node;
  }
}
