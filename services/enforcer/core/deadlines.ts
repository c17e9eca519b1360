/**
 * A min-heap of (time, key): when an entry must be looked at again (its ban
 * ends, its kernel timeout needs a refresh, a retry is due). Stale items are
 * harmless: a key that comes due is only re-planned, never acted on blindly.
 */
export class Deadlines {
  private readonly at: number[] = [];
  private readonly keys: string[] = [];

  get size(): number {
    return this.at.length;
  }

  push(time: number, key: string): void {
    this.at.push(time);
    this.keys.push(key);
    let i = this.at.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.at[parent]! <= this.at[i]!) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** The earliest time, if any. */
  peek(): number | undefined {
    return this.at[0];
  }

  /** Removes and returns every key due at or before `now`. */
  popDue(now: number): string[] {
    const due: string[] = [];
    while (this.at.length > 0 && this.at[0]! <= now) due.push(this.pop());
    return due;
  }

  private pop(): string {
    const key = this.keys[0]!;
    const lastAt = this.at.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.at.length > 0) {
      this.at[0] = lastAt;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.at.length && this.at[l]! < this.at[m]!) m = l;
        if (r < this.at.length && this.at[r]! < this.at[m]!) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return key;
  }

  private swap(a: number, b: number): void {
    [this.at[a], this.at[b]] = [this.at[b]!, this.at[a]!];
    [this.keys[a], this.keys[b]] = [this.keys[b]!, this.keys[a]!];
  }
}
