import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gate, jailAllowlist, type GateContext } from '../../services/shipper/gate.ts';
import { failureCodec } from '../../shared/schema/index.ts';

const NOW = Date.parse('2025-01-01T12:00:00Z');
const MINUTE = 60_000;

function context(jail: { ignoreip?: string[]; ignoreself?: boolean } = {}, own: string[] = ['198.51.100.7']): GateContext {
  return { jail: 'sshd', findtime: 10 * MINUTE, host: 'web-1', allowlist: jailAllowlist({ ignoreip: jail.ignoreip ?? [], ignoreself: jail.ignoreself ?? true }, own) };
}
const where = { id: 'sshd@web-1:f1-2.a.0', source: '/var/log/auth.log', now: NOW };
const match = (ip: string | undefined, time = NOW - MINUTE, extra: { user?: string; lines?: string[] } = {}) => ({ ...(ip !== undefined && { ip }), time, lines: extra.lines ?? ['line'], ...(extra.user !== undefined && { user: extra.user }) });

describe('what the shipper publishes of a failure', () => {
  test('a failure from an outside address within findtime becomes a valid v1 event', () => {
    const r = gate(context(), match('2001:DB8::10', NOW - MINUTE, { user: 'root', lines: ['Failed password for root from 2001:db8::10'] }), where);
    assert.ok(r.publish);
    assert.deepEqual(r.event, { v: 1, id: where.id, jail: 'sshd', ip: '2001:db8::10', time: NOW - MINUTE, host: 'web-1', source: '/var/log/auth.log', user: 'root', line: 'Failed password for root from 2001:db8::10' });
    assert.ok(failureCodec.check(r.event).ok);
  });

  test('ignoreip addresses and networks, loopback and the host own addresses are not published', () => {
    const ctx = context({ ignoreip: ['192.0.2.0/28', '2001:db8:1::/48'] });
    for (const ip of ['192.0.2.5', '2001:db8:1::77', '127.0.0.1', '127.8.9.10', '::1', '198.51.100.7', '::ffff:192.0.2.1']) {
      const r = gate(ctx, match(ip), where);
      assert.equal(r.publish, false, ip);
      assert.equal(!r.publish && r.reason, 'allowlisted', ip);
    }
    assert.ok(gate(ctx, match('192.0.2.16'), where).publish);
  });

  test('with ignoreself off the host own addresses are published, loopback still not', () => {
    const ctx = context({ ignoreself: false });
    assert.ok(gate(ctx, match('198.51.100.7'), where).publish);
    assert.equal(gate(ctx, match('127.0.0.1'), where).publish, false);
  });

  test('a line older than findtime when read is not published; one just inside is', () => {
    const ctx = context();
    const old = gate(ctx, match('192.0.2.10', NOW - 10 * MINUTE - 1), where);
    assert.equal(!old.publish && old.reason, 'too_old');
    assert.ok(gate(ctx, match('192.0.2.10', NOW - 10 * MINUTE), where).publish);
  });

  test('a failure whose time could not be read counts as read now', () => {
    const r = gate(context(), match('192.0.2.10', Number.NaN), where);
    assert.ok(r.publish);
    assert.equal(r.event.time, NOW);
  });

  test('a failure without an address (an unresolved host name) is not published', () => {
    const r = gate(context(), match(undefined), where);
    assert.equal(!r.publish && r.reason, 'no_address');
    assert.equal(gate(context(), match('bad.example'), where).publish, false);
  });

  test('long user names and multi-line matches are cut to the wire limits', () => {
    const r = gate(context(), match('192.0.2.10', NOW, { user: 'u'.repeat(1000), lines: ['a'.repeat(1500), 'b'.repeat(1500)] }), where);
    assert.ok(r.publish);
    assert.equal(r.event.user!.length, 256);
    assert.equal(r.event.line!.length, 2048);
    assert.ok(failureCodec.check(r.event).ok);
  });
});
