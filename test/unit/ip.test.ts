import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Allowlist, banTargetFor, canonicalIp, LOOPBACK_NETWORKS, parseTarget, tryCanonicalIp } from '../../shared/ip/index.ts';

describe('IP canonicalisation', () => {
  test('IPv4 stays as written when it is canonical; white space around it is not part of an address', () => {
    assert.equal(canonicalIp('192.0.2.7'), '192.0.2.7');
    assert.equal(tryCanonicalIp(' 198.51.100.1 '), undefined);
  });

  test('IPv6 is compressed and lower-cased (RFC 5952)', () => {
    assert.equal(canonicalIp('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(canonicalIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  });

  test('IPv4-mapped IPv6 folds to IPv4 in every spelling, and parseTarget agrees with canonicalIp', () => {
    for (const mapped of ['::ffff:1.2.3.4', '::ffff:102:304', '::FFFF:0102:0304', '0:0:0:0:0:ffff:1.2.3.4', '0000:0000:0000:0000:0000:ffff:0102:0304', '::0:ffff:1.2.3.4']) {
      assert.equal(canonicalIp(mapped), '1.2.3.4', mapped);
      assert.deepEqual(parseTarget(mapped), { family: 4, address: '1.2.3.4', prefix: 32, text: '1.2.3.4' }, mapped);
    }
    assert.equal(canonicalIp('::ffff:c000:0207'), '192.0.2.7');
    assert.equal(parseTarget('::ffff:cb00:7108').text, '203.0.113.8', 'the hex form of finding 4 is IPv4, not an IPv6 address');
    assert.equal(parseTarget('::ffff:7f00:1').text, '127.0.0.1');
  });

  test('the deprecated IPv4-compatible form and NAT64 addresses stay IPv6', () => {
    assert.equal(canonicalIp('::1.2.3.4'), '::102:304');
    assert.equal(canonicalIp('64:ff9b::192.0.2.1'), '64:ff9b::c000:201');
    assert.equal(canonicalIp('::ffff:0:1.2.3.4'), '::ffff:0:102:304');
  });

  test('leading zeros in IPv4 parts are refused wherever they appear, and zones everywhere', () => {
    for (const bad of ['010.0.0.1', '10.0.0.01', '::ffff:010.0.0.1', '::ffff:10.0.0.01', '1:2:3:4:5:6:010.1.1.1', '::ffff:0x7f.0.0.1']) {
      assert.throws(() => parseTarget(bad), /not an IP address/, bad);
    }
    assert.throws(() => canonicalIp('::ffff:010.0.0.1'), /leading zero .* ambiguous/);
    for (const zoned of ['fe80::1%eth0', 'fe80::1%1', '::ffff:1.2.3.4%eth0', 'fe80::1%eth0/64']) {
      assert.throws(() => parseTarget(zoned), /zone index/, zoned);
    }
  });

  test('loose IPv4 forms and zones are not addresses', () => {
    for (const bad of ['127.1', '0x7f.0.0.1', '010.0.0.1', '1.2.3.256', 'fe80::1%eth0', 'example.com', '', '1.2.3.4.5']) {
      assert.equal(tryCanonicalIp(bad), undefined, bad);
    }
    assert.throws(() => canonicalIp('nope'), /not an IP address/);
  });

  test('CIDRs clear host bits and a full prefix is a plain address', () => {
    assert.equal(parseTarget('192.0.2.77/24').text, '192.0.2.0/24');
    assert.equal(parseTarget('192.0.2.77/32').text, '192.0.2.77');
    assert.equal(parseTarget('2001:db8:1:2:3::4/64').text, '2001:db8:1:2::/64');
    assert.equal(parseTarget('::ffff:192.0.2.9/120').text, '192.0.2.0/24');
    assert.deepEqual(
      { family: parseTarget('2001:db8::/32').family, prefix: parseTarget('2001:db8::/32').prefix },
      { family: 6, prefix: 32 },
    );
  });

  test('bad CIDRs are refused', () => {
    assert.throws(() => parseTarget('192.0.2.0/33'), /too long/);
    assert.throws(() => parseTarget('192.0.2.0/x'), /bad prefix/);
    assert.throws(() => parseTarget('::ffff:1.2.3.4/64'), /at least 96/);
    assert.throws(() => parseTarget('::ffff:cb00:7108/95'), /at least 96/);
    for (const bad of ['192.0.2.0/08', '192.0.2.0/', '192.0.2.0/+8', '2001:db8::/0064', '2001:db8::/129']) assert.throws(() => parseTarget(bad), /prefix/, bad);
  });

  test('CIDR edges: /0 is the whole family, a full prefix the address, and a mapped network its IPv4 network', () => {
    assert.equal(parseTarget('192.0.2.7/0').text, '0.0.0.0/0');
    assert.equal(parseTarget('2001:db8::1/0').text, '::/0');
    assert.equal(parseTarget('2001:db8::1/128').text, '2001:db8::1');
    assert.equal(parseTarget('::ffff:cb00:7108/128').text, '203.0.113.8');
    assert.equal(parseTarget('::ffff:cb00:7108/120').text, '203.0.113.0/24');
    assert.equal(parseTarget('::FFFF:0:0/96').text, '0.0.0.0/0');
  });

  test('a jail with ipv6prefix 64 bans the /64 around an IPv6 address and the address itself for IPv4', () => {
    assert.equal(banTargetFor('2001:db8:1:2:aaaa::1', 64).text, '2001:db8:1:2::/64');
    assert.equal(banTargetFor('2001:db8:1:2:aaaa::1').text, '2001:db8:1:2:aaaa::1');
    assert.equal(banTargetFor('192.0.2.1', 64).text, '192.0.2.1');
  });
});

describe('allowlists', () => {
  const allow = new Allowlist(['198.51.100.0/24', '192.0.2.5', '2001:db8:ffff::/48', ...LOOPBACK_NETWORKS]);

  test('an address inside an allowed network or equal to an allowed address matches', () => {
    assert.equal(allow.match('198.51.100.200'), '198.51.100.0/24');
    assert.equal(allow.match('192.0.2.5'), '192.0.2.5');
    assert.equal(allow.match('2001:db8:ffff:1::9'), '2001:db8:ffff::/48');
    assert.ok(allow.has('127.0.0.53'));
    assert.ok(allow.has('::1'));
    assert.ok(allow.has('::ffff:127.0.0.1'));
    assert.ok(allow.has('::ffff:7f00:1'), 'the hex spelling of ::ffff:127.0.0.1 is loopback too');
    assert.ok(allow.has('::ffff:c000:205'));
  });

  test('an allowlist entry in a mapped spelling is its IPv4 address or network', () => {
    const mapped = new Allowlist(['::ffff:c633:6400/120', '::ffff:cb00:7108']);
    assert.deepEqual(mapped.entries(), ['198.51.100.0/24', '203.0.113.8']);
    assert.ok(mapped.has('198.51.100.9'));
    assert.ok(mapped.has('203.0.113.8'));
  });

  test('addresses outside every entry do not match', () => {
    assert.equal(allow.has('192.0.2.6'), false);
    assert.equal(allow.has('203.0.113.1'), false);
    assert.equal(allow.has('2001:db8:fffe::1'), false);
  });

  test('a network that would cover an allowed address conflicts with it', () => {
    assert.equal(allow.match('192.0.2.0/24'), '192.0.2.5');
    assert.equal(allow.match('0.0.0.0/0'), '198.51.100.0/24');
    assert.equal(allow.match('203.0.113.0/24'), undefined);
  });

  test('an entry that is not an address is an error, not a silent miss', () => {
    assert.throws(() => new Allowlist(['localhost']), /not an IP address/);
  });
});
