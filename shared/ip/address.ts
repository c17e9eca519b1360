import ipaddr from 'ipaddr.js';
import { InvalidAddressError } from '../errors.ts';
import { readCanonical } from './fast.ts';

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

/**
 * Parses one address strictly: IPv4 only in four-part decimal without leading
 * zeros (so `127.1` or `0x7f.0.0.1` from a log line are not taken for an
 * address), IPv6 without a zone. `::ffff:a.b.c.d` folds to IPv4.
 */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const s = text.trim();
  if (s.includes(':')) {
    if (!ipaddr.IPv6.isValid(s) || s.includes('%')) throw new InvalidAddressError(`not an IP address: "${text}"`);
    const v6 = ipaddr.IPv6.parse(s);
    return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(s) || /(^|\.)0\d/.test(s)) {
    throw new InvalidAddressError(`not an IP address: "${text}"`);
  }
  return ipaddr.IPv4.parse(s);
}

function familyOf(addr: ipaddr.IPv4 | ipaddr.IPv6): IpFamily {
  return addr.kind() === 'ipv4' ? 4 : 6;
}

/** The canonical text of an address (RFC 5952 for IPv6, IPv4-mapped folded). Throws {@link InvalidAddressError}. */
export function canonicalIp(text: string): string {
  return parseAddress(text).toString();
}

/** Like {@link canonicalIp} but returns undefined for anything that is not an address. */
export function tryCanonicalIp(text: string): string | undefined {
  try {
    return canonicalIp(text);
  } catch {
    return undefined;
  }
}

export function ipFamily(text: string): IpFamily {
  return familyOf(parseAddress(text));
}

/**
 * Parses an address or a CIDR into a {@link Target}. Host bits of a CIDR are
 * cleared (`192.0.2.7/24` → `192.0.2.0/24`); a full-length prefix is a plain address.
 * An IPv4-mapped IPv6 CIDR (`::ffff:192.0.2.0/120`) becomes the IPv4 CIDR.
 */
export function parseTarget(text: string): Target {
  const fast = readCanonical(text);
  if (fast) return fast.target;
  const s = text.trim();
  const slash = s.indexOf('/');
  if (slash < 0) {
    const addr = parseAddress(s);
    const family = familyOf(addr);
    const address = addr.toString();
    return { family, address, prefix: BITS[family], text: address };
  }
  const prefixText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) throw new InvalidAddressError(`bad prefix length in "${text}"`);
  let prefix = Number(prefixText);
  const raw = s.slice(0, slash);
  let addr = parseAddress(raw);
  let family = familyOf(addr);
  if (family === 4 && raw.includes(':')) {
    // An IPv4-mapped IPv6 network: its prefix counts the 96 mapping bits.
    if (prefix < 96) throw new InvalidAddressError(`IPv4-mapped network "${text}" needs a prefix of at least 96`);
    prefix -= 96;
  }
  if (prefix > BITS[family]) throw new InvalidAddressError(`prefix /${prefix} is too long for IPv${family} in "${text}"`);
  const network = family === 4
    ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${prefix}`)
    : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${prefix}`);
  addr = network;
  family = familyOf(addr);
  const address = addr.toString();
  const full = prefix === BITS[family];
  return { family, address, prefix, text: full ? address : `${address}/${prefix}` };
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
  const bytes = parseAddress(target.address).toByteArray();
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

export function bitsOf(family: IpFamily): number {
  return BITS[family];
}
