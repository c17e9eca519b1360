import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import ipaddr from 'ipaddr.js';
import { Allowlist, parseTarget, readCanonical } from '../../shared/ip/index.ts';
import { RangeMatcher, readTarget } from '../../services/enforcer/core/targets.ts';

/** Random IPv6 addresses with runs of zero groups, so every `::` placement is exercised. */
function randomV6(seed: number): string {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) % 2 ** 31), x);
  const groups = Array.from({ length: 8 }, () => (next() % 3 === 0 ? 0 : next() % 0x10000).toString(16));
  return ipaddr.IPv6.parse(groups.join(':')).toRFC5952String();
}

/** What ipaddr.js itself reads: the reference the fast path must agree with. */
function reference(text: string): { text: string; family: number; bits: bigint } {
  const addr = ipaddr.parse(text);
  let bits = 0n;
  for (const b of addr.toByteArray()) bits = (bits << 8n) | BigInt(b);
  return { text: addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString(), family: addr.kind() === 'ipv4' ? 4 : 6, bits };
}

describe('reading targets on the fast path', () => {
  test('canonical addresses are read as ipaddr.js reads them, bits included, and parseTarget gives the same', () => {
    const samples = ['192.0.2.1', '0.0.0.0', '255.255.255.255', '10.0.0.255', '::', '::1', '1::', '2001:db8::1', '2001:db8:0:1::', 'fe80::1:0:0:1', '1:0:0:2::3', ...Array.from({ length: 2000 }, (_, i) => randomV6(i + 1))];
    for (const text of samples) {
      const ref = reference(text);
      const fast = readCanonical(text);
      assert.ok(fast, `${text} takes the fast path`);
      assert.deepEqual(fast.target, { family: ref.family, address: ref.text, prefix: ref.family === 4 ? 32 : 128, text: ref.text }, text);
      assert.equal(fast.bits, ref.bits, text);
      assert.deepEqual(parseTarget(text), fast.target);
    }
    for (const text of ['2001:DB8::1', '2001:db8:0:0:0:0:0:1', '2001:db8::0001', '1:0:0:2:0:0:0:3', '::ffff:192.0.2.7', ' 192.0.2.1', '01.2.3.4']) {
      assert.equal(readCanonical(text), undefined, `${text} is not canonical, so the strict parser reads it`);
    }
  });

  test('anything not canonical falls back to the strict parser, which folds, widens or refuses it', () => {
    assert.equal(readTarget('::ffff:192.0.2.7').target.text, '192.0.2.7');
    assert.equal(readTarget('2001:DB8::1').target.text, '2001:db8::1');
    assert.equal(readTarget('2001:db8:0:0:0:0:0:1').target.text, '2001:db8::1');
    assert.equal(readTarget('2001:db8::0001').target.text, '2001:db8::1');
    assert.equal(readTarget('192.0.2.0/24').target.prefix, 24);
    for (const bad of ['1:::2', ':1::2', '1::2:', '1:2:3:4:5:6:7:8:9', '12345::', '192.0.2.256', '01.2.3.4', '']) {
      assert.throws(() => readTarget(bad), /not an IP address|bad prefix|too long/, bad);
    }
  });

  test('the compiled allowlist agrees with shared/ip\'s Allowlist', () => {
    const entries = ['192.0.2.0/28', '2001:db8:ffff::/48', '127.0.0.0/8', '::1', '198.51.100.7'];
    const reference = new Allowlist(entries);
    const matcher = new RangeMatcher(entries);
    for (const text of ['192.0.2.9', '192.0.2.16', '192.0.2.0/24', '2001:db8:ffff:1::9', '2001:db8::/32', '::1', '::2', '198.51.100.7', '198.51.100.8', '0.0.0.0/0']) {
      assert.equal(matcher.match(readTarget(text)), reference.match(text), text);
    }
  });
});
