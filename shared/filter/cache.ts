/**
 * fail2ban's Utils.Cache: at most `maxCount` entries, each valid `maxTime`
 * after it was set, the oldest dropped first when full (setting an existing
 * key keeps its place, as in Python's OrderedDict). Time is the caller's.
 *
 * The insertion order lives in an array of the entries rather than in the
 * Map: deleting from the front of a V8 Map leaves holes that every later
 * walk from the front has to step over. An entry in the array that has
 * left the Map (removed, or expired) is marked and skipped.
 */
class Entry<V> {
  gone = false;

  constructor(
    readonly key: string,
    public value: V,
    public expires: number,
  ) {}
}

export class ExpiringCache<V> {
  private readonly items = new Map<string, Entry<V>>();
  private order: Array<Entry<V> | undefined> = [];
  private head = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxTimeMs: number,
  ) {}

  get(key: string, now: number): V | undefined {
    const entry = this.items.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires > now) return entry.value;
    entry.gone = true;
    this.items.delete(key);
    return undefined;
  }

  set(key: string, value: V, now: number): void {
    if (this.items.size >= this.maxCount) this.evict(now);
    const existing = this.items.get(key);
    if (existing !== undefined) {
      existing.value = value;
      existing.expires = now + this.maxTimeMs;
      return;
    }
    const entry = new Entry(key, value, now + this.maxTimeMs);
    this.items.set(key, entry);
    this.order.push(entry);
  }

  /** set() for a key that get() just found absent: the same, without looking the key up again. */
  add(key: string, value: V, now: number): void {
    if (this.items.size >= this.maxCount) this.evict(now);
    const entry = new Entry(key, value, now + this.maxTimeMs);
    this.items.set(key, entry);
    this.order.push(entry);
  }

  unset(key: string): void {
    const entry = this.items.get(key);
    if (entry === undefined) return;
    entry.gone = true;
    this.items.delete(key);
  }

  /** Drops the oldest entries: expired ones, then one more that is still valid (Utils.Cache.set). */
  private evict(now: number): void {
    const order = this.order;
    while (this.head < order.length) {
      const entry = order[this.head]!;
      order[this.head++] = undefined;
      if (entry.gone) continue;
      entry.gone = true;
      this.items.delete(entry.key);
      if (entry.expires > now && this.items.size < this.maxCount) break;
    }
    if (this.head > 1024 && this.head * 2 > order.length) {
      this.order = order.slice(this.head);
      this.head = 0;
    }
  }
}
