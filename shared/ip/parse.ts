/**
 * The one address parser. Every path that takes an address from outside (a
 * log line through the filter, a message on the bus, a CLI argument, an
 * `ignoreip` in the config, a kernel listing read back) goes through here,
 * so every spelling of one address gets one verdict and one canonical text.
 *
 * What is taken, and why:
 * - IPv4: four decimal parts 0-255. A part with a leading zero (`010`) is
 *   refused: inet_aton reads it as octal (8), inet_pton refuses it, so its
 *   meaning is ambiguous. Hex, short (`127.1`) and single-number forms are
 *   refused for the same reason.
 * - IPv6: one to four hex digits per group (leading zeros are fine, as in
 *   inet_pton), either case, at most one `::`, an optional dotted IPv4 tail
 *   under the IPv4 rules above. Printed per RFC 5952.
 * - IPv4-mapped IPv6 (`::ffff:0:0/96`, in any spelling: dotted, hex,
 *   expanded, upper case) is the IPv4 address: the kernel sees such a peer as
 *   IPv4, so that is where it must be banned and allowlisted. The deprecated
 *   IPv4-compatible form (`::a.b.c.d`) is an IPv6 address like any other.
 * - A zone (`fe80::1%eth0`) is refused: it names an interface of one host,
 *   and a ban or an allowlist entry is fleet-wide.
 * - No surrounding white space, no brackets: callers split their input.
 */

export type ParsedFamily = 4 | 6;

/** An address read by {@link scanAddress}. */
export interface ScannedAddress {
  family: ParsedFamily;
  /** The address as a number (32 or 128 bits). */
  bits: bigint;
  /** Written in IPv6 form but IPv4-mapped, so folded to IPv4. */
  mapped: boolean;
}

/** Why a text is not an address; the message says what rule it broke. */
export type ScanResult = ScannedAddress | { error: string };

/** The upper 96 bits of an IPv4-mapped address (`::ffff:0:0/96`). */
const MAPPED_PREFIX = 0xffffn;

/** Reads one address (no prefix). Never throws. */
export function scanAddress(text: string): ScanResult {
  if (text.length === 0) return { error: 'empty' };
  if (text.length > 45) return { error: 'too long for an IP address' };
  if (text.includes('%')) return { error: 'a zone index (%...) is not allowed: a ban applies on every host' };
  if (!text.includes(':')) {
    const v4 = scanIpv4(text);
    return typeof v4 === 'string' ? { error: v4 } : { family: 4, bits: BigInt(v4), mapped: false };
  }
  const words = scanIpv6(text);
  if (typeof words === 'string') return { error: words };
  let bits = 0n;
  for (const w of words) bits = (bits << 16n) | BigInt(w);
  if (bits >> 32n === MAPPED_PREFIX) return { family: 4, bits: bits & 0xffffffffn, mapped: true };
  return { family: 6, bits, mapped: false };
}

/** The IPv4 address as a 32-bit number, or why not. */
function scanIpv4(text: string): number | string {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  let leadingZero = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0) return 'an IPv4 address is four decimal numbers 0-255 separated by dots';
      if (leadingZero && digits > 1) return 'a leading zero in an IPv4 part is ambiguous (octal?) and refused, as inet_pton does';
      if (part > 255 || ++parts > 4) return 'an IPv4 address is four decimal numbers 0-255 separated by dots';
      value = value * 256 + part;
      part = 0;
      digits = 0;
      leadingZero = false;
    } else if (c >= 48 && c <= 57) {
      if (digits === 0) leadingZero = c === 48;
      if (++digits > 3) return 'an IPv4 part has at most three digits';
      part = part * 10 + (c - 48);
    } else {
      return 'an IPv4 address is four decimal numbers 0-255 separated by dots';
    }
  }
  return parts === 4 ? value : 'an IPv4 address is four decimal numbers 0-255 separated by dots';
}

/** The eight 16-bit groups of an IPv6 address, or why not. */
function scanIpv6(text: string): number[] | string {
  const bad = 'not an IPv6 address';
  const head: number[] = [];
  const tail: number[] = [];
  let groups = head;
  let gap = false;
  let i = 0;
  const n = text.length;
  if (text.startsWith('::')) {
    gap = true;
    groups = tail;
    i = 2;
    if (n === 2) return new Array<number>(8).fill(0);
  } else if (text.charCodeAt(0) === 58) {
    return bad;
  }
  while (i < n) {
    let j = i;
    let value = 0;
    while (j < n && j - i < 5) {
      const d = hexDigit(text.charCodeAt(j));
      if (d < 0) break;
      value = value * 16 + d;
      j++;
    }
    if (j < n && text.charCodeAt(j) === 46) {
      // A dotted IPv4 tail: the last 32 bits.
      const v4 = scanIpv4(text.slice(i));
      if (typeof v4 === 'string') return v4;
      groups.push(Math.floor(v4 / 0x10000), v4 % 0x10000);
      i = n;
      break;
    }
    if (j === i) return bad;
    if (j - i > 4) return 'an IPv6 group has at most four hex digits';
    groups.push(value);
    if (j === n) {
      i = n;
      break;
    }
    if (text.charCodeAt(j) !== 58) return bad;
    if (j + 1 < n && text.charCodeAt(j + 1) === 58) {
      if (gap) return 'an IPv6 address has at most one "::"';
      gap = true;
      groups = tail;
      i = j + 2;
      if (i === n) break;
    } else {
      i = j + 1;
      if (i === n) return bad;
    }
  }
  const count = head.length + tail.length;
  if (!gap) return count === 8 ? head : 'an IPv6 address has eight groups, or fewer with "::"';
  if (count > 7) return 'an IPv6 address has eight groups, or fewer with "::"';
  return [...head, ...new Array<number>(8 - count).fill(0), ...tail];
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Dotted-quad text of a 32-bit address. */
export function formatIpv4(bits: bigint): string {
  const n = Number(bits);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952 text of a 128-bit address: lower case, no leading zeros, the longest run of two or more zero groups (the first of equals) as `::`. */
export function formatIpv6(bits: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((bits >> BigInt(i * 16)) & 0xffffn));
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

export function formatAddress(family: ParsedFamily, bits: bigint): string {
  return family === 4 ? formatIpv4(bits) : formatIpv6(bits);
}

/**
 * A prefix length as written after `/`: decimal, no sign, no leading zero
 * (`/0` itself is fine), so `/08` is not read one way here and another way
 * elsewhere.
 */
export function scanPrefix(text: string): number | undefined {
  return /^(?:0|[1-9]\d{0,2})$/.test(text) ? Number(text) : undefined;
}
