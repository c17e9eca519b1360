import { InvalidAddressError } from '../errors.ts';
import { formatAddress, scanAddress, scanPrefix, type ScannedAddress } from './parse.ts';

export type IpFamily = 4 | 6;

/** A single address or a network, in canonical form, ready for a firewall. */
export interface Target {
  family: IpFamily;
  /** Canonical network address (host bits cleared). */
  address: string;
  /** Prefix length: 32 or 128 for a single address. */
  prefix: number;
  /** Canonical text: `192.0.2.7`, `2001:db8::1`, or `192.0.2.0/24`. */
  text: string;
}

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

/** Parses one address with the one parser (see parse.ts for its rules); throws {@link InvalidAddressError}. */
function parseAddress(text: string): ScannedAddress {
  const read = scanAddress(text);
  if ('error' in read) throw new InvalidAddressError(`not an IP address: "${text.slice(0, 64)}" (${read.error})`);
  return read;
}

/** The canonical text of an address (RFC 5952 for IPv6, IPv4-mapped folded). Throws {@link InvalidAddressError}. */
export function canonicalIp(text: string): string {
  const a = parseAddress(text);
  return formatAddress(a.family, a.bits);
}

/** Like {@link canonicalIp} but returns undefined for anything that is not an address. */
export function tryCanonicalIp(text: string): string | undefined {
  const a = scanAddress(text);
  return 'error' in a ? undefined : formatAddress(a.family, a.bits);
}

export function ipFamily(text: string): IpFamily {
  return parseAddress(text).family;
}

/** A target with its address as a number, for range arithmetic. */
export interface ReadTarget {
  target: Target;
  bits: bigint;
}

/**
 * Parses an address or a CIDR, with the bits of its (network) address.
 * Host bits of a CIDR are cleared (`192.0.2.7/24` is `192.0.2.0/24`, as
 * fail2ban reads it); a full-length prefix is a plain address; `/0` is the
 * whole family (whether that may be banned is the caller's policy). An
 * IPv4-mapped network (`::ffff:192.0.2.0/120`, any spelling) is the IPv4
 * network of the prefix less 96; with a prefix under 96 it would reach
 * beyond the mapped range, so it is refused.
 */
export function readTarget(text: string): ReadTarget {
  const slash = text.indexOf('/');
  const a = parseAddress(slash < 0 ? text : text.slice(0, slash));
  let prefix = BITS[a.family];
  if (slash >= 0) {
    const written = scanPrefix(text.slice(slash + 1));
    if (written === undefined) throw new InvalidAddressError(`bad prefix length in "${text.slice(0, 64)}" (0-128, no leading zero)`);
    prefix = written;
    if (a.mapped) {
      if (prefix < 96) throw new InvalidAddressError(`IPv4-mapped network "${text}" needs a prefix of at least 96`);
      prefix -= 96;
    }
    if (prefix > BITS[a.family]) throw new InvalidAddressError(`prefix /${written} is too long for IPv${a.family} in "${text}"`);
  }
  const host = BigInt(BITS[a.family] - prefix);
  const bits = (a.bits >> host) << host;
  const address = formatAddress(a.family, bits);
  const full = prefix === BITS[a.family];
  return { target: { family: a.family, address, prefix, text: full ? address : `${address}/${prefix}` }, bits };
}

/** {@link readTarget} without the bits. Throws {@link InvalidAddressError}. */
export function parseTarget(text: string): Target {
  return readTarget(text).target;
}

export function tryParseTarget(text: string): Target | undefined {
  try {
    return parseTarget(text);
  } catch {
    return undefined;
  }
}

/**
 * What to ban for an offending address: the address itself, or for IPv6 with a
 * jail's `ipv6prefix` below 128, the network around it (`2001:db8:1:2::/64`),
 * because one IPv6 host usually owns a whole /64.
 */
export function banTargetFor(ip: string, ipv6Prefix = 128): Target {
  const single = parseTarget(ip);
  if (single.family === 6 && ipv6Prefix < 128) return parseTarget(`${single.address}/${ipv6Prefix}`);
  return single;
}

/** The address as a number, for range arithmetic. */
export function addressBits(target: Pick<Target, 'address'>): bigint {
  return parseAddress(target.address).bits;
}

export function bitsOf(family: IpFamily): number {
  return BITS[family];
}
