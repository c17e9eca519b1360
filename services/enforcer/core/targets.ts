import { addressBits, parseTarget, readCanonical, type IpFamily, type Target } from '../../../shared/ip/index.ts';

/** A target with its address as a number, for allowlist arithmetic. */
export interface ReadTarget {
  target: Target;
  bits: bigint;
}

/**
 * Reads a target once, with its bits: decisions carry canonical text, read
 * on shared/ip's fast path; anything else (a CIDR, `::ffff:a.b.c.d`) goes
 * through the strict parser.
 */
export function readTarget(text: string): ReadTarget {
  const fast = readCanonical(text);
  if (fast) return fast;
  const target = parseTarget(text);
  return { target, bits: addressBits(target) };
}

/** Allowlist entries as numbers, matched with the same rule as shared/ip's Allowlist (any overlap). */
export class RangeMatcher {
  private readonly ranges: Array<{ family: IpFamily; prefix: number; network: bigint; text: string }>;

  constructor(entries: readonly string[]) {
    this.ranges = entries.map((e) => {
      const t = parseTarget(e);
      return { family: t.family, prefix: t.prefix, network: addressBits(t), text: t.text };
    });
  }

  match(read: ReadTarget): string | undefined {
    const { target, bits } = read;
    const width = target.family === 4 ? 32 : 128;
    for (const r of this.ranges) {
      if (r.family !== target.family) continue;
      const shift = BigInt(width - Math.min(r.prefix, target.prefix));
      if (r.network >> shift === bits >> shift) return r.text;
    }
    return undefined;
  }
}
