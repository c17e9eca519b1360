import { addressBits, bitsOf, type Target } from '../../../shared/ip/index.ts';

export interface WantedNetwork {
  key: string;
  target: Target;
  /** When the ban ends (Infinity: permanent). */
  until: number;
}

export interface DisjointNetworks {
  /** Networks to hold in the kernel: no two overlap. */
  kept: Set<string>;
  /** Networks inside a kept one that ends first: look at them again then. */
  recheck: Array<{ key: string; at: number }>;
}

/**
 * nftables interval sets refuse overlapping networks, so one set holds only
 * the widest of nested networks. A network inside a wider one that ends no
 * later is covered by it; one that ends later waits, and goes in when the
 * wider one ends. Networks either nest or are disjoint, so the kept ones are
 * pairwise disjoint.
 */
export function disjointNetworks(wanted: readonly WantedNetwork[]): DisjointNetworks {
  const kept = new Set<string>();
  const recheck: Array<{ key: string; at: number }> = [];
  // By prefix length: network bits (shifted to the prefix) → end of the kept network.
  const byLength = new Map<string, Map<bigint, number>>();
  // Prefix lengths that hold a kept network, per family, ascending (the sort below sees them in that order).
  const lengths: Record<4 | 6, number[]> = { 4: [], 6: [] };
  const sorted = [...wanted].sort((a, b) => a.target.prefix - b.target.prefix || b.until - a.until);
  for (const want of sorted) {
    const width = bitsOf(want.target.family);
    const bits = addressBits(want.target);
    let container: number | undefined;
    for (const p of lengths[want.target.family]) {
      if (p >= want.target.prefix || container !== undefined) break;
      container = byLength.get(`${want.target.family}/${p}`)?.get(bits >> BigInt(width - p));
    }
    if (container === undefined) {
      const lengthKey = `${want.target.family}/${want.target.prefix}`;
      let level = byLength.get(lengthKey);
      if (!level) {
        byLength.set(lengthKey, (level = new Map()));
        lengths[want.target.family].push(want.target.prefix);
      }
      level.set(bits >> BigInt(width - want.target.prefix), want.until);
      kept.add(want.key);
    } else if (container < want.until) {
      recheck.push({ key: want.key, at: container });
    }
  }
  return { kept, recheck };
}
