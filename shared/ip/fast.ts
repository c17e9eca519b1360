import type { ReadTarget } from './address.ts';
import { formatAddress, scanAddress } from './parse.ts';

/**
 * An address already in canonical form (what every wire message carries),
 * read with its bits; undefined for anything else, a CIDR included. It is
 * the one parser (parse.ts) with an equality check, not a second reader, so
 * it cannot disagree with it: an earlier separate reader took the hex
 * IPv4-mapped form (`::ffff:cb00:7108`) for canonical IPv6 and so banned an
 * IPv4 peer in the IPv6 set.
 */
export function readCanonical(text: string): ReadTarget | undefined {
  const a = scanAddress(text);
  if ('error' in a) return undefined;
  const address = formatAddress(a.family, a.bits);
  if (address !== text) return undefined;
  return { target: { family: a.family, address, prefix: a.family === 4 ? 32 : 128, text: address }, bits: a.bits };
}
