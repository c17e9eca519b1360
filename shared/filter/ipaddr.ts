import { tryCanonicalIp } from '../ip/index.ts';

/**
 * fail2ban's IPAddr as text: which strings it takes for an address
 * (glibc's inet_pton) and how it prints them (inet_ntop, an IPv4-mapped
 * IPv6 address as IPv4, `/plen` for a network, the input itself when it is
 * not an address). `fleetban regex -o ip` prints addresses this way so that
 * its output is byte for byte fail2ban-regex's.
 */

/** fail2ban's cidr codes: a prefix length, or one of these. */
export const CIDR_RAW = -2;
export const CIDR_UNSPEC = -1;
export const FAM_IPV4 = -4;
export const FAM_IPV6 = -12;

export function parseIpv4(text: string): number[] | undefined {
  const out: number[] = [];
  let n = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || n > 255 || out.length === 4) return undefined;
      out.push(n);
      n = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && n === 0) return undefined; // leading zero
      if (++digits > 3) return undefined;
      n = n * 10 + (c - 48);
    } else {
      return undefined;
    }
  }
  return out.length === 4 ? out : undefined;
}

/** Eight 16-bit words, or undefined (inet_pton AF_INET6). */
export function parseIpv6(text: string): number[] | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const double = text.indexOf('::');
  if (double >= 0 && text.indexOf('::', double + 1) >= 0) return undefined;
  const toWords = (s: string, allowV4: boolean): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const groups = s.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && allowV4 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  if (double < 0) {
    const words = toWords(text, true);
    return words && words.length === 8 ? words : undefined;
  }
  const head = toWords(text.slice(0, double), false);
  const tail = toWords(text.slice(double + 2), true);
  if (!head || !tail || head.length + tail.length > 7) return undefined;
  return [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** glibc inet_ntop for IPv6, including its `::a.b.c.d` form. */
export function formatIpv6(words: readonly number[]): string {
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] === 0) {
      let j = i;
      while (j < 8 && words[j] === 0) j++;
      if (j - i > bestLen) {
        bestBase = i;
        bestLen = j - i;
      }
      i = j;
    } else {
      i++;
    }
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += `${words[6]! >> 8}.${words[6]! & 255}.${words[7]! >> 8}.${words[7]! & 255}`;
      break;
    }
    out += words[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

/**
 * str(IPAddr(text, cidr)): the address as fail2ban prints it. `cidr` is a
 * prefix length or one of the codes above; RAW keeps the text as it is.
 */
export function fail2banIpText(input: string, cidr: number = CIDR_UNSPEC): string {
  if (cidr === CIDR_RAW) return input;
  let text = input;
  let plen = cidr;
  if (cidr === CIDR_UNSPEC) {
    if (text.length > 2 && text[0] === '[' && text[text.length - 1] === ']') text = text.slice(1, -1);
    const slash = text.indexOf('/');
    if (slash >= 0) {
      const mask = text.slice(slash + 1);
      text = text.slice(0, slash);
      plen = /^\d+$/.test(mask) ? Number(mask) : maskLength(mask);
      if (Number.isNaN(plen)) return input;
    }
  }
  const tryV4 = cidr !== FAM_IPV6;
  const tryV6 = cidr !== FAM_IPV4;
  const v4 = tryV4 ? parseIpv4(text) : undefined;
  if (v4) {
    if (plen >= 0) {
      const masked = maskV4(v4, plen).join('.');
      return plen > 0 && plen < 32 ? `${masked}/${plen}` : masked;
    }
    return v4.join('.');
  }
  const v6 = tryV6 ? parseIpv6(text) : undefined;
  if (!v6) return text;
  if (plen >= 0) {
    const masked = maskV6(v6, plen);
    return plen > 0 && plen < 128 ? `${formatIpv6(masked)}/${plen}` : formatIpv6(masked);
  }
  if (v6.slice(0, 5).every((w) => w === 0) && v6[5] === 0xffff) {
    return `${v6[6]! >> 8}.${v6[6]! & 255}.${v6[7]! >> 8}.${v6[7]! & 255}`;
  }
  return formatIpv6(v6);
}

function maskV4(bytes: number[], plen: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, plen - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
}

function maskV6(words: number[], plen: number): number[] {
  return words.map((w, i) => {
    const bits = Math.max(0, Math.min(16, plen - i * 16));
    return w & ((0xffff << (16 - bits)) & 0xffff);
  });
}

function maskLength(mask: string): number {
  const v4 = parseIpv4(mask);
  if (!v4) return NaN;
  const n = ((v4[0]! << 24) | (v4[1]! << 16) | (v4[2]! << 8) | v4[3]!) >>> 0;
  const inv = ~n >>> 0;
  if ((inv & (inv + 1)) !== 0) return NaN;
  return 32 - Math.log2(inv + 1);
}

/**
 * The canonical text of an address taken from a log line (`<HOST>`,
 * `<ADDR>`), or undefined when it is not one. It is shared/ip's one parser,
 * so a failure is counted under the same address that the bus, the CLI and
 * the allowlists give it (`::ffff:cb00:7108` is 203.0.113.8 everywhere).
 */
export function canonicalAddress(text: string): string | undefined {
  return tryCanonicalIp(text);
}

/**
 * glibc's inet_aton, as getaddrinfo applies it to a host name before any
 * DNS query: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x), the
 * last part filling the remaining bytes (`5555` is 0.0.21.179). fail2ban
 * "resolves" a numeric host text this way; `fleetban regex` does the same
 * to print what fail2ban-regex prints. The shipper never converts a name.
 */
export function inetAton(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const values: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) v = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = parseInt(p, 8);
    else if (/^[1-9]\d*$/.test(p)) v = Number(p);
    else return undefined;
    if (!Number.isSafeInteger(v)) return undefined;
    values.push(v);
  }
  const last = values.pop()!;
  for (const v of values) if (v > 255) return undefined;
  const lastBytes = 4 - values.length;
  if (last >= 2 ** (8 * lastBytes)) return undefined;
  const bytes = [...values];
  for (let i = lastBytes - 1; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return bytes.join('.');
}
