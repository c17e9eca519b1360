import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Allowlist, banTargetFor, canonicalIp, LOOPBACK_NETWORKS, parseTarget, tryCanonicalIp } from '../../shared/ip/index.ts';

describe('IP canonicalisation', () => {
  test('IPv4 stays as written when it is canonical', () => {
    assert.equal(canonicalIp('192.0.2.7'), '192.0.2.7');
    assert.equal(canonicalIp(' 198.51.100.1 '), '198.51.100.1');
  });

  test('IPv6 is compressed and lower-cased (RFC 5952)', () => {
    assert.equal(canonicalIp('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(canonicalIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  });

  test('IPv4-mapped IPv6 folds to IPv4', () => {
    assert.equal(canonicalIp('::ffff:1.2.3.4'), '1.2.3.4');
    assert.equal(canonicalIp('::ffff:c000:0207'), '192.0.2.7');
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
