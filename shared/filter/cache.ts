/**
 * fail2ban's Utils.Cache: at most `maxCount` entries, each valid `maxTime`
 * after it was set, the oldest dropped first when full (setting an existing
 * key keeps its place, as in Python's OrderedDict). Time is the caller's.
 *
 * The insertion order lives in an array of (key, sequence) rather than in
 * the Map: deleting from the front of a V8 Map leaves holes that every
 * later walk from the front has to step over.
 */
export class ExpiringCache<V> {
  private readonly items = new Map<string, { value: V; expires: number; seq: number }>();
  private order: Array<[string, number]> = [];
  private head = 0;
  private seq = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxTimeMs: number,
  ) {}

  get(key: string, now: number): V | undefined {
    const entry = this.items.get(key);
    if (!entry) return undefined;
    if (entry.expires > now) return entry.value;
    this.items.delete(key);
    return undefined;
  }

  set(key: string, value: V, now: number): void {
    if (this.items.size >= this.maxCount) this.evict(now);
    const existing = this.items.get(key);
    if (existing) {
      existing.value = value;
      existing.expires = now + this.maxTimeMs;
      return;
    }
    const seq = ++this.seq;
    this.items.set(key, { value, expires: now + this.maxTimeMs, seq });
    this.order.push([key, seq]);
  }

  unset(key: string): void {
    this.items.delete(key);
  }

  /** Drops the oldest entries: expired ones, then one more that is still valid (Utils.Cache.set). */
  private evict(now: number): void {
    while (this.head < this.order.length) {
      const [key, seq] = this.order[this.head++]!;
      const entry = this.items.get(key);
      if (!entry || entry.seq !== seq) continue;
      this.items.delete(key);
      if (entry.expires > now && this.items.size < this.maxCount) break;
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
