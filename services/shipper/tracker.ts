interface Held<P> {
  seq: number;
  at: P;
  open: number;
}

/**
 * Where reading may safely resume, given publishes that are acknowledged out
 * of order. Every line read gets a sequence number; a line with publishes in
 * flight holds the position back until all of them are acknowledged, and so
 * does every line still in the filter's multi-line buffer (the last
 * `maxlines - 1` lines), because after a crash the filter needs them again.
 * Pure: positions are opaque values of the source.
 */
export class AckTracker<P> {
  private seq = 0;
  private end: P;
  private readonly held: Held<P>[] = [];
  private head = 0;
  private readonly bySeq = new Map<number, Held<P>>();
  /** Ring of the starts of the last `maxlines - 1` lines. */
  private readonly recent: Array<{ seq: number; at: P }>;
  private recentNext = 0;

  constructor(start: P, maxlines = 1) {
    this.end = start;
    this.recent = new Array(Math.max(0, maxlines - 1));
  }

  /** A line was read starting at `at`; returns its sequence number. */
  read(at: P): number {
    const seq = ++this.seq;
    if (this.recent.length > 0) {
      this.recent[this.recentNext] = { seq, at };
      this.recentNext = (this.recentNext + 1) % this.recent.length;
    }
    return seq;
  }

  /** Every line up to `end` has been read and handed on. */
  readTo(end: P): void {
    this.end = end;
  }

  /** A publish for line `seq` is in flight. */
  hold(seq: number, at: P): void {
    const current = this.bySeq.get(seq);
    if (current) {
      current.open++;
      return;
    }
    const entry = { seq, at, open: 1 };
    this.held.push(entry);
    this.bySeq.set(seq, entry);
  }

  /** A publish for line `seq` was acknowledged. */
  release(seq: number): void {
    const entry = this.bySeq.get(seq);
    if (!entry) return;
    entry.open--;
    if (entry.open > 0) return;
    this.bySeq.delete(seq);
    while (this.head < this.held.length && this.held[this.head]!.open === 0) this.head++;
    // Compact now and then rather than shifting on every acknowledgement.
    if (this.head > 1024 && this.head * 2 > this.held.length) {
      this.held.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Publishes not yet acknowledged. */
  get pending(): number {
    let n = 0;
    for (const entry of this.bySeq.values()) n += entry.open;
    return n;
  }

  /** Whether any line still waits for an acknowledgement. */
  get waiting(): boolean {
    return this.bySeq.size > 0;
  }

  /** The position from which reading must resume after a crash so that nothing is lost. */
  safe(): P {
    let best: { seq: number; at: P } | undefined = this.head < this.held.length ? this.held[this.head] : undefined;
    for (const r of this.recent) if (r && (!best || r.seq < best.seq)) best = r;
    return best ? best.at : this.end;
  }
}
