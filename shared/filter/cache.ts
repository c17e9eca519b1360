/** fail2ban's Utils.Cache: FIFO with a maximum size and an expiry, here on the caller's clock. */
export class ExpiringCache<V> {
  private readonly items = new Map<string, { value: V; expires: number }>();
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
    if (this.items.size >= this.maxCount) {
      for (const [k, v] of this.items) {
        this.items.delete(k);
        if (v.expires > now && this.items.size < this.maxCount) break;
      }
    }
    this.items.delete(key);
    this.items.set(key, { value, expires: now + this.maxTimeMs });
  }

  unset(key: string): void {
    this.items.delete(key);
  }
}
