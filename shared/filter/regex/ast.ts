/**
 * The syntax tree of a Python `re` pattern, as far as fail2ban filters use it.
 * Nodes that depend on flags carry the flags in effect where they appear, so
 * local flag groups (`(?i:...)`) need no special handling when emitting.
 */

export interface Flags {
  /** re.IGNORECASE */
  i: boolean;
  /** re.MULTILINE: `^` and `$` also at line breaks. */
  m: boolean;
  /** re.DOTALL: `.` also matches a line break. */
  s: boolean;
  /** re.ASCII: `\w`, `\d`, `\s`, `\b` are ASCII-only. */
  a: boolean;
}

export type ClassItem =
  | { t: 'range'; from: number; to: number }
  /** `\d \D \w \W \s \S` inside a class. */
  | { t: 'shorthand'; kind: Shorthand };

export type Shorthand = 'd' | 'D' | 'w' | 'W' | 's' | 'S';

export type Node =
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'char'; cp: number; flags: Flags }
  | { t: 'class'; items: ClassItem[]; negated: boolean; flags: Flags }
  | { t: 'shorthand'; kind: Shorthand; flags: Flags }
  | { t: 'any'; flags: Flags }
  /** bol/eol: `^`/`$`; start/end: `\A`/`\Z`; word/nonword: `\b`/`\B`. */
  | { t: 'assert'; kind: 'bol' | 'eol' | 'start' | 'end' | 'word' | 'nonword'; flags: Flags }
  /** A group; `index` is the Python group number of a capturing group. */
  | { t: 'group'; index?: number; body: Node }
  | { t: 'look'; behind: boolean; negate: boolean; body: Node }
  | { t: 'atomic'; body: Node }
  | { t: 'repeat'; body: Node; min: number; max: number; lazy: boolean; possessive: boolean }
  | { t: 'backref'; index: number; flags: Flags }
  | { t: 'cond'; index: number; yes: Node; no: Node };

export interface ParsedRegex {
  root: Node;
  /** Number of capturing groups (Python numbering, 1-based). */
  groups: number;
  /** Group name → Python group number. */
  names: Map<string, number>;
}

export const EMPTY: Node = { t: 'seq', items: [] };

/** Deep copy of a node (flags objects are shared; they are never mutated). */
export function cloneNode(node: Node): Node {
  switch (node.t) {
    case 'seq':
      return { t: 'seq', items: node.items.map(cloneNode) };
    case 'alt':
      return { t: 'alt', alts: node.alts.map(cloneNode) };
    case 'group':
      return { ...node, body: cloneNode(node.body) };
    case 'look':
    case 'atomic':
    case 'repeat':
      return { ...node, body: cloneNode(node.body) };
    case 'cond':
      return { ...node, yes: cloneNode(node.yes), no: cloneNode(node.no) };
    case 'class':
      return { ...node, items: node.items.slice() };
    default:
      return { ...node };
  }
}

/** The direct children of a node, in pattern order. */
export function childrenOf(node: Node): Node[] {
  switch (node.t) {
    case 'seq':
      return node.items;
    case 'alt':
      return node.alts;
    case 'group':
    case 'look':
    case 'atomic':
    case 'repeat':
      return [node.body];
    case 'cond':
      return [node.yes, node.no];
    default:
      return [];
  }
}

/** Whether the subtree holds the capturing group `index`. */
export function containsGroup(node: Node, index: number): boolean {
  if (node.t === 'group' && node.index === index) return true;
  return childrenOf(node).some((c) => containsGroup(c, index));
}
