import type { Target } from './address.ts';

/**
 * A fast reader for addresses already in canonical form (what every wire
 * message carries): four-part decimal IPv4, RFC 5952 IPv6. It returns
 * undefined for anything else, which then goes through the strict parser, so
 * the result for any input is the same; only the time differs (a hundred
 * thousand decisions are read on an enforcer's start).
 */
export function readCanonical(text: string): { target: Target; bits: bigint } | undefined {
  const v4 = IPV4.exec(text);
  if (v4) {
    const n = ((Number(v4[1]) << 24) >>> 0) + (Number(v4[2]) << 16) + (Number(v4[3]) << 8) + Number(v4[4]);
    return { target: { family: 4, address: text, prefix: 32, text }, bits: BigInt(n) };
  }
  if (!IPV6_CHARS.test(text)) return undefined;
  const groups = ipv6Groups(text);
  if (!groups || rfc5952(groups) !== text) return undefined;
  let bits = 0n;
  for (let i = 0; i < 8; i += 2) bits = (bits << 32n) | BigInt(groups[i]! * 0x10000 + groups[i + 1]!);
  return { target: { family: 6, address: text, prefix: 128, text }, bits };
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6_CHARS = /^[0-9a-f:]{2,39}$/;

/**
 * The eight 16-bit groups of an IPv6 address made of hex groups and at most
 * one `::` (the caller has checked the characters), or undefined. A scanner
 * rather than splits: it runs for every ban read on start.
 */
function ipv6Groups(text: string): number[] | undefined {
  const groups: number[] = [];
  let gap = -1;
  let value = 0;
  let digits = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 58) {
      value = value * 16 + (c <= 57 ? c - 48 : c - 87);
      if (++digits > 4) return undefined;
      continue;
    }
    if (digits > 0) groups.push(value);
    else if (i !== 0 || text.charCodeAt(1) !== 58) return undefined;
    value = 0;
    digits = 0;
    if (i + 1 < length && text.charCodeAt(i + 1) === 58) {
      if (gap >= 0) return undefined;
      gap = groups.length;
      i++;
    } else if (i + 1 === length) {
      return undefined;
    }
  }
  if (digits > 0) groups.push(value);
  if (gap < 0) return groups.length === 8 ? groups : undefined;
  if (groups.length > 7) return undefined;
  const zeros = new Array<number>(8 - groups.length).fill(0);
  return [...groups.slice(0, gap), ...zeros, ...groups.slice(gap)];
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups (the first of equals) as `::`. */
function rfc5952(groups: readonly number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
