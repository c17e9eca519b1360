import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MessageValidationError } from '../../shared/errors.ts';
import { decisionCodec, failureCodec, subjectsFor, type Decision, type FailureEvent } from '../../shared/schema/index.ts';

const failure: FailureEvent = {
  v: 1,
  id: 'web-1:inode-42:1200',
  jail: 'sshd',
  ip: '203.0.113.9',
  time: 1_763_776_000_000,
  host: 'web-1',
  source: '/var/log/auth.log',
  user: 'root',
  line: 'Failed password for root from 203.0.113.9 port 22 ssh2',
};

const ban: Decision = {
  v: 1,
  id: 'sshd:203.0.113.9:1763776000000',
  action: 'ban',
  jail: 'sshd',
  target: '203.0.113.9',
  time: 1_763_776_000_000,
  duration: 600_000,
  origin: 'scorer',
  failures: 5,
  banCount: 1,
  by: 'scorer-1',
};

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('failure events on the wire', () => {
  test('a valid event survives encode and decode unchanged', () => {
    assert.deepEqual(failureCodec.decode(failureCodec.encode(failure)), { ok: true, value: failure });
  });

  test('optional fields may be left out', () => {
    const { user: _u, line: _l, ...minimal } = failure;
    assert.equal(failureCodec.decode(bytes(minimal)).ok, true);
  });

  test('a bad IP is rejected with the reason', () => {
    const r = failureCodec.decode(bytes({ ...failure, ip: '203.0.113.999' }));
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /ip: not an IP address/);
  });

  test('an IP in another spelling is read by the one parser and carried on in canonical form', () => {
    for (const spelling of ['::ffff:203.0.113.9', '::ffff:cb00:7109', '0:0:0:0:0:FFFF:CB00:7109']) {
      const r = failureCodec.decode(bytes({ ...failure, ip: spelling }));
      assert.deepEqual(r, { ok: true, value: failure }, spelling);
    }
    assert.equal(JSON.parse(new TextDecoder().decode(failureCodec.encode({ ...failure, ip: '::ffff:cb00:7109' }))).ip, '203.0.113.9');
    const v6 = failureCodec.decode(bytes({ ...failure, ip: '2001:0DB8::0001' }));
    assert.equal(v6.ok && v6.value.ip, '2001:db8::1');
  });

  test('what the parser refuses the failure schema refuses: zones, leading zeros, CIDRs', () => {
    for (const bad of ['fe80::1%eth0', '010.0.0.1', '::ffff:010.0.0.1', '203.0.113.0/24']) {
      const r = failureCodec.decode(bytes({ ...failure, ip: bad }));
      assert.match(!r.ok ? r.reason : '', /ip: not an IP address/, bad);
    }
  });

  test('an unknown field is rejected', () => {
    const r = failureCodec.decode(bytes({ ...failure, admin: true }));
    assert.match(!r.ok ? r.reason : '', /unknown field "admin"/);
  });

  test('another wire version is rejected', () => {
    const r = failureCodec.decode(bytes({ ...failure, v: 2 }));
    assert.match(!r.ok ? r.reason : '', /unsupported version 2/);
  });

  test('wrong types are rejected', () => {
    const r = failureCodec.decode(bytes({ ...failure, time: '2025-01-01' }));
    assert.match(!r.ok ? r.reason : '', /time: .*expected number/);
  });

  test('an oversized line is rejected on receive and refused on publish', () => {
    const big = { ...failure, line: 'x'.repeat(2049) };
    assert.match((failureCodec.decode(bytes(big)) as { reason: string }).reason, /line: Too big/);
    assert.throws(() => failureCodec.encode(big), MessageValidationError);
  });

  test('a message larger than the size limit is rejected before parsing', () => {
    const r = failureCodec.decode(new Uint8Array(100_000));
    assert.match(!r.ok ? r.reason : '', /exceeds/);
  });

  test('bytes that are not JSON are rejected', () => {
    assert.match((failureCodec.decode(new TextEncoder().encode('{nope')) as { reason: string }).reason, /not JSON/);
  });

  test('a jail name outside the allowed characters is rejected', () => {
    assert.equal(failureCodec.decode(bytes({ ...failure, jail: 'ssh d' })).ok, false);
    assert.equal(failureCodec.decode(bytes({ ...failure, jail: 'x'.repeat(65) })).ok, false);
  });
});

describe('decisions on the wire', () => {
  test('a ban and an unban round-trip', () => {
    assert.deepEqual(decisionCodec.decode(decisionCodec.encode(ban)), { ok: true, value: ban });
    const unban: Decision = { v: 1, id: 'manual:1', action: 'unban', jail: 'sshd', target: '198.51.100.0/24', time: 1, origin: 'manual', by: 'alice' };
    assert.deepEqual(decisionCodec.decode(decisionCodec.encode(unban)), { ok: true, value: unban });
  });

  test('a permanent ban carries duration -1', () => {
    assert.equal(decisionCodec.decode(bytes({ ...ban, duration: -1 })).ok, true);
    assert.equal(decisionCodec.decode(bytes({ ...ban, duration: -2 })).ok, false);
    assert.equal(decisionCodec.decode(bytes({ ...ban, duration: 0 })).ok, false);
  });

  test('a ban needs a duration and an unban must not have one', () => {
    const { duration: _d, ...noDuration } = ban;
    assert.equal(decisionCodec.decode(bytes(noDuration)).ok, false);
    assert.equal(decisionCodec.decode(bytes({ ...ban, action: 'unban' })).ok, false);
  });

  test('a target in any spelling is received in canonical form: the hex IPv4-mapped form is the IPv4 address', () => {
    const target = (t: string) => {
      const r = decisionCodec.decode(bytes({ ...ban, target: t }));
      return r.ok ? r.value.target : `refused: ${r.reason}`;
    };
    assert.equal(target('203.0.113.0/24'), '203.0.113.0/24');
    assert.equal(target('203.0.113.7/24'), '203.0.113.0/24');
    assert.equal(target('::ffff:cb00:7108'), '203.0.113.8');
    assert.equal(target('::ffff:7f00:1'), '127.0.0.1');
    assert.equal(target('::ffff:cb00:7100/120'), '203.0.113.0/24');
    assert.equal(target('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.match(target('fe80::1%eth0'), /refused: target: not an IP address or CIDR/);
    assert.match(target('010.0.0.1'), /refused: target: not an IP address or CIDR/);
  });

  test('an unknown action or origin is rejected', () => {
    assert.equal(decisionCodec.decode(bytes({ ...ban, action: 'maybe' })).ok, false);
    assert.equal(decisionCodec.decode(bytes({ ...ban, origin: 'shipper' })).ok, false);
  });
});

describe('subjects', () => {
  test('subjects and stream names derive from the prefix', () => {
    const s = subjectsFor('acme.fleetban');
    assert.equal(s.fail('sshd'), 'acme.fleetban.fail.sshd');
    assert.equal(s.decision('unban', 'nginx-http-auth'), 'acme.fleetban.unban.nginx-http-auth');
    assert.equal(s.allFailures, 'acme.fleetban.fail.>');
    assert.equal(s.failuresStream, 'acme_fleetban_failures');
    assert.equal(s.serviceName('scorer'), 'acme_fleetban-scorer');
    assert.equal(s.jailOf('acme.fleetban.ban.sshd'), 'sshd');
    assert.equal(s.jailOf('other.ban.sshd'), undefined);
  });

  test('a jail name with a wildcard or a dot cannot make a subject', () => {
    const s = subjectsFor();
    assert.throws(() => s.fail('*'), /invalid jail name/);
    assert.throws(() => s.fail('a.b'), /invalid jail name/);
    assert.throws(() => subjectsFor('a..b'), /invalid subject prefix/);
  });
});
