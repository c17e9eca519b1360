/**
 * What the first characters of a match must be, position by position, as
 * a cheap test run before the regex: most regexes tried on a line cannot
 * match it, and running one costs a call into the regex engine and often a
 * result to build, while this test usually decides on the first character
 * or two. It is a necessary condition only (each set may hold more than the
 * regex accepts there), so a text that passes still goes to the regex.
 *
 * Positions are UTF-16 code units. A position may consume a surrogate pair
 * (an astral character under the `u` flag), which would shift the positions
 * after it, so the test gives up (answers "may match") when it meets a
 * surrogate. Each set is exact for Latin-1 units; a set only says whether it
 * holds any unit above U+00FF (log lines are almost always ASCII).
 */
export class PrefixSets {
  /** 256 bits per position: which Latin-1 units it holds. */
  private readonly low: Uint32Array;
  /** Per position: whether it holds any unit above U+00FF. */
  private readonly high: Uint8Array;
  readonly length: number;

  /** @param sets per position, the units it holds (undefined: any unit) */
  constructor(sets: ReadonlyArray<ReadonlySet<number> | undefined>) {
    this.length = sets.length;
    this.low = new Uint32Array(sets.length * 8);
    this.high = new Uint8Array(sets.length);
    sets.forEach((set, i) => {
      if (set === undefined) {
        this.low.fill(0xffffffff, i * 8, i * 8 + 8);
        this.high[i] = 1;
        return;
      }
      for (const u of set) {
        if (u > 0xff) this.high[i] = 1;
        else this.low[i * 8 + (u >>> 5)]! |= 1 << (u & 31);
      }
    });
  }

  /** False when no match can start with the unit `u` (the first position alone). */
  mayStartWith(u: number): boolean {
    if (u <= 0xff) return (this.low[u >>> 5]! & (1 << (u & 31))) !== 0;
    return (u >= 0xd800 && u <= 0xdfff) || this.high[0] !== 0;
  }

  /** False when no match can start at `at` in `text`. */
  mayMatchAt(text: string, at: number): boolean {
    const low = this.low;
    for (let i = 0; i < this.length; i++) {
      const u = text.charCodeAt(at + i);
      if (u !== u) return false;
      if (u <= 0xff) {
        if ((low[(i << 3) + (u >>> 5)]! & (1 << (u & 31))) === 0) return false;
      } else if (u >= 0xd800 && u <= 0xdfff) {
        return true;
      } else if (this.high[i] === 0) {
        return false;
      }
    }
    return true;
  }
}
