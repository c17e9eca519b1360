import type { PyRegex } from './regex/compile.ts';

/**
 * The failure data of a failregex match, made by a function generated once
 * per failregex: one object literal with the prefregex's groups (without
 * `content`) and then the failregex's, as fail2ban's `dict.update` leaves
 * them (a key both have keeps the prefregex's place and takes the
 * failregex's value). Setting the keys one by one through a computed name
 * costs a generic store per key and gives objects whose shapes differ from
 * line to line; the literal gives one shape per failregex and is built in
 * a single step. Group names are Python identifiers (no `__proto__`:
 * FilterRegex refuses names of Object.prototype members).
 */
export type FailBuilder = (pre: RegExpExecArray | undefined, raw: RegExpExecArray) => Record<string, unknown>;

/** JavaScript that reads Python group g of a raw match held in `v` (the first copy that took part). */
function valueOf(regex: PyRegex, g: number, v: string): string {
  const copies = regex.groupCopies(g);
  if (copies.length === 0) return 'undefined';
  let expr = `${v}[${copies[copies.length - 1]}]`;
  for (let i = copies.length - 2; i >= 0; i--) expr = `(${v}[${copies[i]}] !== undefined ? ${v}[${copies[i]}] : ${expr})`;
  return expr;
}

/**
 * @param pre the filter's prefregex (its groups come first), if any
 * @param own the failregex
 * @param hold a group of the failregex left out of the data (fail2ban pops it right away)
 */
export function failBuilder(pre: PyRegex | undefined, own: PyRegex, hold?: string): FailBuilder {
  const entries: Array<[string, string]> = [];
  const at = new Map<string, number>();
  if (pre) {
    for (const [name, g] of pre.named) {
      if (name === 'content') continue;
      at.set(name, entries.length);
      entries.push([name, valueOf(pre, g, 'p')]);
    }
  }
  for (const [name, g] of own.named) {
    if (name === hold) continue;
    const value = valueOf(own, g, 'r');
    const i = at.get(name);
    if (i === undefined) {
      at.set(name, entries.length);
      entries.push([name, value]);
    } else {
      entries[i]![1] = value;
    }
  }
  const body = entries.map(([name, value]) => `${JSON.stringify(name)}: ${value}`).join(',\n');
  return new Function('p', 'r', `"use strict";\nreturn {\n${body}\n};`) as FailBuilder;
}
