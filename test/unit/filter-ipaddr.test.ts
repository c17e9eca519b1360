import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tryCanonicalIp } from '../../shared/ip/index.ts';
import { canonicalAddress, CIDR_RAW, FAM_IPV4, FAM_IPV6, fail2banIpText, inetAton } from '../../shared/filter/ipaddr.ts';
import { rng } from '../../bench/regex/generate.ts';

describe('addresses as fail2ban prints them', () => {
  test('IPv6 is printed as glibc prints it, IPv4-mapped as IPv4', () => {
    assert.equal(fail2banIpText('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(fail2banIpText('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(fail2banIpText('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(fail2banIpText('::1:2'), '::0.1.0.2', 'glibc writes ::a.b.c.d when six leading words are zero');
    assert.equal(fail2banIpText('1:0:0:0:0:0:0:0'), '1::');
  });

  test('what is not an address is printed as written', () => {
    assert.equal(fail2banIpText('198.51.100.015', FAM_IPV4), '198.51.100.015');
    assert.equal(fail2banIpText('203.0.113.256', FAM_IPV4), '203.0.113.256');
    assert.equal(fail2banIpText('host.example.invalid', CIDR_RAW), 'host.example.invalid');
  });

  test('a family code restricts the parse, and a prefix length makes a network', () => {
    assert.equal(fail2banIpText('2001:db8::1', FAM_IPV4), '2001:db8::1');
    assert.equal(fail2banIpText('2001:db8::1', FAM_IPV6), '2001:db8::1');
    assert.equal(fail2banIpText('192.0.2.77', 24), '192.0.2.0/24');
    assert.equal(fail2banIpText('[2001:db8::1]'), '2001:db8::1');
    assert.equal(fail2banIpText('192.0.2.77/255.255.255.0'), '192.0.2.0/24');
  });

  test('a numeric host text is read as inet_aton reads it', () => {
    assert.equal(inetAton('5555'), '0.0.21.179');
    assert.equal(inetAton('192.168.1'), '192.168.0.1');
    assert.equal(inetAton('0x7f.1'), '127.0.0.1');
    assert.equal(inetAton('017.0.0.1'), '15.0.0.1');
    assert.equal(inetAton('08.0.0.1'), undefined);
    assert.equal(inetAton('host'), undefined);
    assert.equal(inetAton('4294967296'), undefined);
  });
});

describe('canonical addresses for the shipper', () => {
  test('agree with shared/ip on every kind of address and non-address', () => {
    const cases = ['192.0.2.1', '010.0.0.1', '1.2.3.256', '::', '::1', '1::', '::ffff:1.2.3.4', '::1.2.3.4', '2001:DB8::1', 'fe80::1%eth0', '1::2::3', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', 'x'];
    for (const c of cases) assert.equal(canonicalAddress(c), tryCanonicalIp(c), c);
    const r = rng(7);
    for (let i = 0; i < 5000; i++) {
      const words = Array.from({ length: 8 }, () => (r() < 0.5 ? 0 : Math.floor(r() * 65536)).toString(16));
      const text = words.join(':');
      assert.equal(canonicalAddress(text), tryCanonicalIp(text), text);
    }
  });
});
