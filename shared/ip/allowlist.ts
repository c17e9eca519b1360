import { addressBits, bitsOf, parseTarget, type IpFamily, type Target } from './address.ts';

/** Loopback networks: never banned, whatever the configuration says. */
export const LOOPBACK_NETWORKS: readonly string[] = ['127.0.0.0/8', '::1/128'];

interface Range {
  family: IpFamily;
  prefix: number;
  network: bigint;
  text: string;
}

/**
 * A set of addresses and networks that must never be banned (ignoreip, the
 * host's own addresses, loopback). Checked by the shipper, the scorer and the
 * enforcer; entries are parsed once, lookups are arithmetic.
 */
export class Allowlist {
  private readonly ranges: Range[] = [];

  constructor(entries: Iterable<string> = []) {
    for (const entry of entries) this.add(entry);
  }

  /** Adds an address or CIDR; throws InvalidAddressError for anything else. */
  add(entry: string): this {
    const t = parseTarget(entry);
    this.ranges.push({ family: t.family, prefix: t.prefix, network: addressBits(t), text: t.text });
    return this;
  }

  get size(): number {
    return this.ranges.length;
  }

  entries(): string[] {
    return this.ranges.map((r) => r.text);
  }

  /**
   * The allowlisted entry that overlaps the target, if any. For a single
   * address that is the entry containing it; for a network it is any entry
   * inside or around it, because banning the network would block that entry.
   */
  match(target: string | Target): string | undefined {
    const t = typeof target === 'string' ? parseTarget(target) : target;
    const bits = addressBits(t);
    const width = bitsOf(t.family);
    for (const r of this.ranges) {
      if (r.family !== t.family) continue;
      const shift = BigInt(width - Math.min(r.prefix, t.prefix));
      if (r.network >> shift === bits >> shift) return r.text;
    }
    return undefined;
  }

  has(target: string | Target): boolean {
    return this.match(target) !== undefined;
  }
}
