/**
 * Case variants for re.IGNORECASE. Python compares characters by their
 * lower-case form (and a table of extra cases such as K/k/U+212A); two code
 * points are treated alike here when lower(upper(x)) agrees, which gives the
 * same classes. Built once, on first use, over the Basic Multilingual Plane.
 */
let table: Map<number, number[]> | undefined;

function key(cp: number): number {
  const s = String.fromCodePoint(cp);
  const up = s.toUpperCase();
  if ([...up].length !== 1) return cp;
  const low = up.toLowerCase();
  if ([...low].length !== 1) return cp;
  return low.codePointAt(0)!;
}

function build(): Map<number, number[]> {
  const byKey = new Map<number, number[]>();
  for (let cp = 0; cp < 0x10000; cp++) {
    // Blocks without cased letters: CJK and Yi, Hangul, surrogates and private use.
    if (cp === 0x3400) cp = 0xa500;
    if (cp === 0xac00) cp = 0xf900;
    const k = key(cp);
    const list = byKey.get(k);
    if (list) list.push(cp);
    else byKey.set(k, [cp]);
  }
  const result = new Map<number, number[]>();
  for (const list of byKey.values()) {
    if (list.length < 2) continue;
    for (const cp of list) result.set(cp, list);
  }
  return result;
}

/** Every code point that matches `cp` when case is ignored (including cp). */
export function caseVariants(cp: number): readonly number[] {
  table ??= build();
  return table.get(cp) ?? [cp];
}

/** Ranges widened by their case variants; huge ranges are taken as already closed. */
export function foldRanges(ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = ranges.map(([a, b]) => [a, b]);
  for (const [from, to] of ranges) {
    if (to - from > 0x3000) continue;
    for (let cp = from; cp <= to; cp++) {
      for (const v of caseVariants(cp)) if (v < from || v > to) out.push([v, v]);
    }
  }
  return mergeRanges(out);
}

export function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  ranges.sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}
