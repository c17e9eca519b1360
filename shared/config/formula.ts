import { FleetbanError } from '../errors.ts';

/**
 * fail2ban's `bantime.formula` is a Python expression evaluated with `eval`.
 * This is a small, safe evaluator for the part of Python that such formulas
 * use: numbers, `ban.Time`, `ban.Count`, `banFactor`, arithmetic (`+ - * / //
 * % **`), shifts, comparisons, `and`/`or`/`not`, `x if c else y`, `math.*`
 * functions and `float`, `int`, `min`, `max`, `abs`, `round`. Anything else is
 * refused when the formula is compiled, so no expression can reach the host.
 */

/** A formula that does not parse or names something unknown; says where. */
export class FormulaError extends FleetbanError {}

/** What a formula sees: fail2ban's `ban` object and `banFactor`. Times are seconds, as in fail2ban. */
export interface FormulaInput {
  /** `ban.Time`: the jail's bantime, seconds. */
  time: number;
  /** `ban.Count`: how many times the address was banned before. */
  count: number;
  /** `banFactor`: the jail's `bantime.factor`. */
  factor: number;
}

export interface CompiledFormula {
  readonly source: string;
  /** The formula's value; throws {@link FormulaError} on a math error (division by zero, overflow). */
  evaluate(input: FormulaInput): number;
}

type Node =
  | { k: 'num'; v: number }
  | { k: 'var'; name: 'ban.Time' | 'ban.Count' | 'banFactor' | 'math.e' | 'math.pi' }
  | { k: 'un'; op: string; a: Node }
  | { k: 'bin'; op: string; a: Node; b: Node }
  | { k: 'cmp'; ops: string[]; items: Node[] }
  | { k: 'if'; cond: Node; then: Node; else: Node }
  | { k: 'call'; fn: string; args: Node[] };

const FUNCTIONS: Record<string, { min: number; max: number; fn: (...a: number[]) => number }> = {
  float: { min: 1, max: 1, fn: (x) => x },
  int: { min: 1, max: 1, fn: (x) => Math.trunc(x) },
  abs: { min: 1, max: 1, fn: (x) => Math.abs(x) },
  round: { min: 1, max: 2, fn: (x, digits) => roundHalfEven(x, digits ?? 0) },
  min: { min: 1, max: 64, fn: (...a) => Math.min(...a) },
  max: { min: 1, max: 64, fn: (...a) => Math.max(...a) },
  'math.exp': { min: 1, max: 1, fn: Math.exp },
  'math.log': { min: 1, max: 2, fn: (x, base) => (base === undefined ? domain(Math.log, x) : domain(Math.log, x) / domain(Math.log, base)) },
  'math.log2': { min: 1, max: 1, fn: (x) => domain(Math.log2, x) },
  'math.log10': { min: 1, max: 1, fn: (x) => domain(Math.log10, x) },
  'math.sqrt': { min: 1, max: 1, fn: (x) => (x < 0 ? fail('math domain error') : Math.sqrt(x)) },
  'math.pow': { min: 2, max: 2, fn: (x, y) => x ** y },
  'math.floor': { min: 1, max: 1, fn: Math.floor },
  'math.ceil': { min: 1, max: 1, fn: Math.ceil },
  'math.fabs': { min: 1, max: 1, fn: Math.abs },
};

const VARIABLES = new Set(['ban.Time', 'ban.Count', 'banFactor', 'math.e', 'math.pi']);
const KEYWORDS = new Set(['if', 'else', 'and', 'or', 'not', 'True', 'False']);

function fail(message: string): never {
  throw new FormulaError(message);
}

function domain(fn: (x: number) => number, x: number): number {
  return x <= 0 ? fail('math domain error') : fn(x);
}

function roundHalfEven(x: number, digits: number): number {
  const scale = 10 ** digits;
  const v = x * scale;
  const floor = Math.floor(v);
  const diff = v - floor;
  const r = diff > 0.5 || (diff === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return r / scale;
}

interface Token {
  t: 'num' | 'name' | 'op' | 'end';
  v: string;
  at: number;
}

const OPERATORS = ['**', '//', '<<', '>>', '<=', '>=', '==', '!=', '+', '-', '*', '/', '%', '<', '>', '(', ')', ',', '.', '&', '|', '^', '~'];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(source.slice(i));
    if (num) {
      tokens.push({ t: 'num', v: num[0], at: i });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i));
    if (name) {
      tokens.push({ t: 'name', v: name[0], at: i });
      i += name[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (!op) fail(`unexpected "${c}" at column ${i + 1}`);
    tokens.push({ t: 'op', v: op, at: i });
    i += op.length;
  }
  tokens.push({ t: 'end', v: '', at: source.length });
  return tokens;
}

/** Recursive descent over Python's precedence levels, lowest first. */
class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.ternary();
    if (this.peek().t !== 'end') this.unexpected();
    return node;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }

  private isWord(v: string): boolean {
    const t = this.peek();
    return t.t === 'name' && t.v === v;
  }

  private expect(v: string): void {
    if (!this.isOp(v)) this.unexpected(`"${v}"`);
    this.pos++;
  }

  private unexpected(wanted?: string): never {
    const t = this.peek();
    const what = t.t === 'end' ? 'end of formula' : `"${t.v}"`;
    fail(`unexpected ${what} at column ${t.at + 1}${wanted ? `; expected ${wanted}` : ''}`);
  }

  private ternary(): Node {
    if (++this.depth > 100) fail('formula nests too deeply');
    const value = this.or();
    let node = value;
    if (this.isWord('if')) {
      this.pos++;
      const cond = this.or();
      if (!this.isWord('else')) this.unexpected('"else"');
      this.pos++;
      node = { k: 'if', cond, then: value, else: this.ternary() };
    }
    this.depth--;
    return node;
  }

  private or(): Node {
    let node = this.and();
    while (this.isWord('or')) {
      this.pos++;
      node = { k: 'bin', op: 'or', a: node, b: this.and() };
    }
    return node;
  }

  private and(): Node {
    let node = this.not();
    while (this.isWord('and')) {
      this.pos++;
      node = { k: 'bin', op: 'and', a: node, b: this.not() };
    }
    return node;
  }

  private not(): Node {
    if (this.isWord('not')) {
      this.pos++;
      return { k: 'un', op: 'not', a: this.not() };
    }
    return this.comparison();
  }

  private comparison(): Node {
    const first = this.binary(0);
    const ops: string[] = [];
    const items = [first];
    while (['<', '>', '<=', '>=', '==', '!='].some((o) => this.isOp(o))) {
      ops.push(this.next().v);
      items.push(this.binary(0));
    }
    return ops.length === 0 ? first : { k: 'cmp', ops, items };
  }

  // Binary levels from `|` (loosest) to `*` (tightest), all left-associative.
  private static readonly LEVELS = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '//', '%']];

  private binary(level: number): Node {
    if (level >= Parser.LEVELS.length) return this.unary();
    const ops = Parser.LEVELS[level]!;
    let node = this.binary(level + 1);
    while (ops.some((o) => this.isOp(o))) {
      const op = this.next().v;
      node = { k: 'bin', op, a: node, b: this.binary(level + 1) };
    }
    return node;
  }

  private unary(): Node {
    if (this.isOp('-') || this.isOp('+') || this.isOp('~')) {
      const op = this.next().v;
      return { k: 'un', op, a: this.unary() };
    }
    return this.power();
  }

  private power(): Node {
    const base = this.primary();
    if (this.isOp('**')) {
      this.pos++;
      // Python: `-2**2` is -(2**2) and `2**-1` is allowed, so the exponent is a unary.
      return { k: 'bin', op: '**', a: base, b: this.unary() };
    }
    return base;
  }

  private primary(): Node {
    const t = this.next();
    if (t.t === 'num') return { k: 'num', v: Number(t.v) };
    if (t.t === 'op' && t.v === '(') {
      const inner = this.ternary();
      this.expect(')');
      return inner;
    }
    if (t.t !== 'name') {
      this.pos--;
      this.unexpected('a number, a name or "("');
    }
    if (t.v === 'True' || t.v === 'False') return { k: 'num', v: t.v === 'True' ? 1 : 0 };
    if (KEYWORDS.has(t.v)) {
      this.pos--;
      this.unexpected();
    }
    let name = t.v;
    while (this.isOp('.')) {
      this.pos++;
      const attr = this.next();
      if (attr.t !== 'name') fail(`expected a name after "." at column ${attr.at + 1}`);
      name += `.${attr.v}`;
    }
    if (this.isOp('(')) {
      this.pos++;
      const fn = FUNCTIONS[name];
      if (!fn) fail(`unknown function "${name}" at column ${t.at + 1} (known: ${Object.keys(FUNCTIONS).join(', ')})`);
      const args: Node[] = [];
      if (!this.isOp(')')) {
        args.push(this.ternary());
        while (this.isOp(',')) {
          this.pos++;
          args.push(this.ternary());
        }
      }
      this.expect(')');
      if (args.length < fn.min || args.length > fn.max) fail(`${name}() takes ${fn.min === fn.max ? fn.min : `${fn.min} to ${fn.max}`} arguments, got ${args.length}`);
      return { k: 'call', fn: name, args };
    }
    if (!VARIABLES.has(name)) fail(`unknown name "${name}" at column ${t.at + 1} (known: ban.Time, ban.Count, banFactor, math.e, math.pi)`);
    return { k: 'var', name: name as Extract<Node, { k: 'var' }>['name'] };
  }
}

function integer(x: number, op: string): number {
  if (!Number.isInteger(x)) fail(`unsupported operand for ${op}: ${x} is not an integer`);
  return x;
}

function evaluate(node: Node, input: FormulaInput): number {
  switch (node.k) {
    case 'num':
      return node.v;
    case 'var':
      switch (node.name) {
        case 'ban.Time':
          return input.time;
        case 'ban.Count':
          return input.count;
        case 'banFactor':
          return input.factor;
        case 'math.e':
          return Math.E;
        case 'math.pi':
          return Math.PI;
      }
      break;
    case 'un': {
      const a = evaluate(node.a, input);
      if (node.op === '-') return -a;
      if (node.op === '+') return a;
      if (node.op === '~') return -integer(a, '~') - 1;
      return a ? 0 : 1;
    }
    case 'bin': {
      if (node.op === 'and') {
        const a = evaluate(node.a, input);
        return a ? evaluate(node.b, input) : a;
      }
      if (node.op === 'or') {
        const a = evaluate(node.a, input);
        return a ? a : evaluate(node.b, input);
      }
      return binary(node.op, evaluate(node.a, input), evaluate(node.b, input));
    }
    case 'cmp': {
      let left = evaluate(node.items[0]!, input);
      for (let i = 0; i < node.ops.length; i++) {
        const right = evaluate(node.items[i + 1]!, input);
        if (!compare(node.ops[i]!, left, right)) return 0;
        left = right;
      }
      return 1;
    }
    case 'if':
      return evaluate(node.cond, input) ? evaluate(node.then, input) : evaluate(node.else, input);
    case 'call':
      return FUNCTIONS[node.fn]!.fn(...node.args.map((a) => evaluate(a, input)));
  }
  return fail('internal: unknown node');
}

function binary(op: string, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? fail('division by zero') : a / b;
    case '//':
      return b === 0 ? fail('division by zero') : Math.floor(a / b);
    case '%':
      return b === 0 ? fail('modulo by zero') : a - b * Math.floor(a / b);
    case '**':
      return a ** b;
    case '<<':
      return integer(b, '<<') < 0 ? fail('negative shift count') : integer(a, '<<') * 2 ** b;
    case '>>':
      return integer(b, '>>') < 0 ? fail('negative shift count') : Math.floor(integer(a, '>>') / 2 ** b);
    case '&':
    case '|':
    case '^': {
      const x = BigInt(integer(a, op));
      const y = BigInt(integer(b, op));
      return Number(op === '&' ? x & y : op === '|' ? x | y : x ^ y);
    }
  }
  return fail(`internal: unknown operator ${op}`);
}

function compare(op: string, a: number, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    default:
      return a !== b;
  }
}

/** Parses a formula once; throws {@link FormulaError} naming the column of the problem. */
export function compileFormula(source: string): CompiledFormula {
  if (source.trim() === '') fail('empty formula');
  const ast = new Parser(tokenize(source)).parse();
  return {
    source,
    evaluate(input) {
      const value = evaluate(ast, input);
      if (Number.isNaN(value)) fail('the formula gives no number (NaN)');
      return value;
    },
  };
}

/** fail2ban's default `bantime.formula`. */
export const DEFAULT_FORMULA = 'ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor';
