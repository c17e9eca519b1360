import { addressBits, parseTarget, type Target } from '../../../shared/ip/index.ts';
import type { BackendTraits } from '../backends/contract.ts';
import type { EnforcedSet } from '../sets.ts';
import { RangeMatcher, readTarget, type ReadTarget } from './targets.ts';

export type GuardRefusal = 'invalid_target' | 'allowlisted' | 'unsupported_target';

export type GuardResult = { ok: true; target: Target } | { ok: false; reason: GuardRefusal; detail: string };

/**
 * The last check before a target may reach a firewall: it must parse (an
 * IPv4-mapped `::ffff:a.b.c.d` becomes the IPv4 address), IPv6 is widened to
 * the set's `ipv6prefix`, the result must not overlap the allowlist (a
 * network that would cover an allowlisted address is refused whole), and the
 * backend must be able to hold it.
 */
export function guardTarget(text: string, set: EnforcedSet, traits: BackendTraits): GuardResult {
  let read: ReadTarget;
  try {
    read = readTarget(text);
  } catch (err) {
    return { ok: false, reason: 'invalid_target', detail: (err as Error).message };
  }
  if (read.target.family === 6 && read.target.prefix > set.ipv6prefix) {
    const wide = parseTarget(`${read.target.address}/${set.ipv6prefix}`);
    read = { target: wide, bits: addressBits(wide) };
  }
  const target = read.target;
  const allowed = matcherOf(set).match(read);
  if (allowed !== undefined) return { ok: false, reason: 'allowlisted', detail: `${target.text} overlaps allowlisted ${allowed}` };
  const single = target.prefix === (target.family === 4 ? 32 : 128);
  if (traits.networks === 'jail-prefix' && !single && !(target.family === 6 && target.prefix === set.ipv6prefix)) {
    return { ok: false, reason: 'unsupported_target', detail: `${target.text}: this backend holds single addresses (and IPv6 networks of the jail's ipv6prefix) only` };
  }
  return { ok: true, target };
}

const matchers = new WeakMap<EnforcedSet, RangeMatcher>();

/** The set's allowlist, compiled once. */
function matcherOf(set: EnforcedSet): RangeMatcher {
  let m = matchers.get(set);
  if (!m) matchers.set(set, (m = new RangeMatcher(set.allowlist.entries())));
  return m;
}
