/**
 * The n-th address from the documentation ranges, in canonical form: the 768
 * IPv4 ones (192.0.2/24, 198.51.100/24, 203.0.113/24), then 2001:db8::/32.
 */
export function docAddress(n: number): string {
  if (n < 768) return `${['192.0.2', '198.51.100', '203.0.113'][Math.floor(n / 256)]}.${n % 256}`;
  const k = n - 768;
  return `2001:db8:${((k >> 16) + 1).toString(16)}:1::${(k & 0xffff).toString(16)}`.replace(/::0$/, '::');
}
