import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CliError, EXIT } from '../../services/cli/command.ts';
import {
  banLength,
  bansFor,
  checkAllowed,
  checkRetention,
  DEFAULT_MANUAL_BANTIME,
  fleetRefusals,
  MANUAL_JAIL,
  manualBan,
  manualJail,
  manualReason,
  manualTarget,
  manualUnban,
} from '../../services/cli/manual.ts';
import { BanSet } from '../../shared/decisions/index.ts';
import { decisionCodec, type Decision } from '../../shared/schema/index.ts';
import { PERMANENT } from '../../shared/time/index.ts';
import { testConfig } from '../harness/index.ts';

const HOUR = 3_600_000;
const ctx = { now: 1_763_776_000_000, by: 'alice@ops-1', nonce: 'a1b2c3d4' };
const config = testConfig({
  enforcer: { ignoreip: ['198.51.100.0/28'] },
  jails: {
    sshd: { bantime: '1h', ignoreip: ['192.0.2.128/25'] },
    web: { ipv6prefix: 64, ignoreself: false },
  },
});
const HOST = ['203.0.113.250', '2001:db8:ffff::1'];

/** The exit code a call ends with, or undefined when it returns normally. */
function exitOf(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof CliError, `a CliError, not ${String(err)}`);
    return err.exitCode;
  }
}

describe('manual ban and unban: what is checked and what is published', () => {
  test('targets are parsed to their canonical form, and anything else is a usage error', () => {
    assert.equal(manualTarget('2001:DB8:0:0::7').text, '2001:db8::7');
    assert.equal(manualTarget('::ffff:192.0.2.7').text, '192.0.2.7');
    assert.equal(manualTarget('192.0.2.77/24').text, '192.0.2.0/24');
    for (const bad of ['192.0.2', '192.0.2.300', 'host.example', '192.0.2.1/33', '010.0.0.1']) assert.equal(exitOf(() => manualTarget(bad)), EXIT.usage, bad);
  });

  test('every spelling of an IPv4-mapped address is the IPv4 address, and a bad one says why', () => {
    assert.equal(manualTarget('::ffff:cb00:7108').text, '203.0.113.8');
    assert.equal(manualTarget('::FFFF:CB00:7108').text, '203.0.113.8');
    assert.equal(manualTarget('::ffff:cb00:7100/120').text, '203.0.113.0/24');
    assert.throws(() => manualTarget('fe80::1%eth0'), /not an IP address or CIDR: "fe80::1%eth0" \(a zone index/);
    assert.throws(() => manualTarget('010.0.0.1'), /leading zero in an IPv4 part is ambiguous/);
  });

  test('the loopback guard refuses loopback in every spelling, the hex IPv4-mapped one included', () => {
    for (const spelling of ['127.0.0.1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:7F00:0001', '0:0:0:0:0:ffff:7f00:1', '::ffff:7f00:0/104', '::1', '0:0:0:0:0:0:0:1']) {
      assert.equal(exitOf(() => checkAllowed(manualTarget(spelling), MANUAL_JAIL, config, HOST)), EXIT.refused, spelling);
    }
    assert.throws(() => checkAllowed(manualTarget('::ffff:7f00:1'), MANUAL_JAIL, config, HOST), /refusing to ban 127\.0\.0\.1: it covers 127\.0\.0\.0\/8, which is loopback/);
  });

  test('defaults.ignoreip guards manual bans in every jail, the manual one included, with no override', () => {
    const withDefaults = testConfig({ defaults: { ignoreip: '192.0.2.64/26 ::ffff:cb00:7108' }, jails: { sshd: {}, web: { ignoreip: ['198.51.100.1'] } } });
    const refused = (target: string, jail = MANUAL_JAIL) => exitOf(() => checkAllowed(manualTarget(target), jail, withDefaults, HOST));
    assert.equal(refused('192.0.2.70'), EXIT.refused, 'the manual jail is in no config, so only defaults.ignoreip can guard it');
    assert.equal(refused('203.0.113.8'), EXIT.refused);
    assert.equal(refused('::ffff:cb00:7108'), EXIT.refused);
    assert.equal(refused('192.0.2.0/24'), EXIT.refused, 'a network around a defaults.ignoreip entry');
    assert.equal(refused('192.0.2.70', 'sshd'), EXIT.refused, 'a jail that inherits it');
    assert.equal(refused('192.0.2.70', 'web'), EXIT.refused, 'a jail with its own ignoreip');
    assert.equal(refused('192.0.2.7'), undefined);
    assert.throws(() => checkAllowed(manualTarget('192.0.2.70'), MANUAL_JAIL, withDefaults, HOST), /refusing to ban 192\.0\.2\.70: it covers 192\.0\.2\.64\/26, which is allowlisted \(defaults\.ignoreip\)/);
  });

  test('the bans every enforcer refuses are named: loopback, whole families, enforcer.ignoreip, the jail ignoreip', () => {
    const refusal = fleetRefusals(config);
    const why = (target: string, jail = MANUAL_JAIL) => {
      const r = refusal(manualTarget(target), jail);
      return r && `${r.entry} ${r.what}`;
    };
    assert.equal(why('0.0.0.0/0'), '127.0.0.0/8 loopback');
    assert.equal(why('::/0'), '::1 loopback');
    assert.equal(why('::ffff:7f00:1'), '127.0.0.0/8 loopback');
    assert.equal(why('198.51.100.3'), '198.51.100.0/28 allowlisted (enforcer.ignoreip)');
    assert.equal(why('192.0.2.200', 'sshd'), '192.0.2.128/25 allowlisted (ignoreip of jail sshd)');
    assert.equal(why('192.0.2.200'), undefined, 'the manual jail has no ignoreip of its own on the enforcers');
    assert.equal(why('203.0.113.250'), undefined, "a host's own address is refused only by that host");
  });

  test('without --jail the ban goes to the "manual" jail; a jail name must be one the subjects allow', () => {
    assert.equal(manualJail(undefined), MANUAL_JAIL);
    assert.equal(manualJail('sshd'), 'sshd');
    assert.equal(exitOf(() => manualJail('ssh d')), EXIT.usage);
    assert.equal(exitOf(() => manualJail('a.b')), EXIT.usage);
  });

  test("the length is --for in fail2ban's units, else the jail's bantime, else one day", () => {
    assert.equal(banLength('90m', config.jails.sshd), 90 * 60_000);
    assert.equal(banLength('3600', undefined), HOUR);
    assert.equal(banLength(undefined, config.jails.sshd), HOUR);
    assert.equal(banLength(undefined, undefined), DEFAULT_MANUAL_BANTIME);
    assert.equal(DEFAULT_MANUAL_BANTIME, 24 * HOUR);
    assert.equal(banLength('permanent', undefined), PERMANENT);
    assert.equal(banLength('-1', undefined), PERMANENT);
    assert.equal(exitOf(() => banLength('0', undefined)), EXIT.usage);
    assert.equal(exitOf(() => banLength('soon', undefined)), EXIT.usage);
  });

  test('a reason longer than the wire allows is refused before anything is sent', () => {
    assert.equal(manualReason(''), undefined);
    assert.equal(manualReason('brute force'), 'brute force');
    assert.equal(exitOf(() => manualReason('x'.repeat(513))), EXIT.usage);
  });

  test('loopback, this host, the jail ignoreip and enforcer.ignoreip are refused with exit 65, networks included when they overlap', () => {
    const refused = (target: string, jail = MANUAL_JAIL) => exitOf(() => checkAllowed(manualTarget(target), jail, config, HOST));
    assert.equal(refused('127.0.0.1'), EXIT.refused);
    assert.equal(refused('::1'), EXIT.refused);
    assert.equal(refused('0.0.0.0/0'), EXIT.refused, 'a network around loopback');
    assert.equal(refused('203.0.113.250'), EXIT.refused, "this host's own address");
    assert.equal(refused('203.0.113.0/24'), EXIT.refused, "a network around this host's address");
    assert.equal(refused('198.51.100.3'), EXIT.refused, 'enforcer.ignoreip applies to every jail');
    assert.equal(refused('192.0.2.200', 'sshd'), EXIT.refused, "the jail's own ignoreip");
    assert.equal(refused('192.0.2.200'), undefined, "another jail's ignoreip does not apply");
    assert.equal(refused('192.0.2.7', 'sshd'), undefined);
    assert.equal(refused('203.0.113.250', 'web'), undefined, 'ignoreself: false lets a jail ban this host');
  });

  test("an IPv6 address is checked as the enforcer will ban it: widened to the jail's ipv6prefix", () => {
    assert.equal(exitOf(() => checkAllowed(manualTarget('2001:db8:ffff::99'), MANUAL_JAIL, config, ['2001:db8:ffff::1'])), undefined, 'the manual jail bans the single address');
    const webConfig = testConfig({ jails: { web: { ipv6prefix: 64 } } });
    assert.equal(exitOf(() => checkAllowed(manualTarget('2001:db8:ffff::99'), 'web', webConfig, ['2001:db8:ffff::1'])), EXIT.refused, 'its /64 holds this host');
    const err = (() => {
      try {
        checkAllowed(manualTarget('2001:db8:ffff::99'), 'web', webConfig, ['2001:db8:ffff::1']);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    assert.match(err!.message, /refusing to ban 2001:db8:ffff::\/64: it covers 2001:db8:ffff::1, which is this host's own address/);
  });

  test('a ban longer than the decisions stream keeps messages is refused, and a stream kept for ever takes any ban', () => {
    const stream = { name: 'fleetban_decisions', maxAgeMs: 24 * HOUR };
    assert.equal(exitOf(() => checkRetention(24 * HOUR, stream)), undefined);
    assert.equal(exitOf(() => checkRetention(24 * HOUR + 1000, stream)), EXIT.refused);
    assert.equal(exitOf(() => checkRetention(PERMANENT, stream)), EXIT.refused);
    assert.equal(exitOf(() => checkRetention(PERMANENT, { ...stream, maxAgeMs: 0 })), undefined);
    assert.throws(() => checkRetention(30 * 24 * HOUR, stream), /keeps decisions for 1d.*Ban for at most 1d, or raise nats\.streams\.decisions\.maxAge/);
  });

  test('the published ban and unban are valid v1 decisions with origin manual, the operator, and a unique id', () => {
    const ban = manualBan(manualTarget('192.0.2.0/24'), 'sshd', HOUR, 'scanner', ctx);
    assert.deepEqual(ban, {
      v: 1,
      id: 'manual-ban:sshd:192.0.2.0/24@1763776000000:a1b2c3d4',
      action: 'ban',
      jail: 'sshd',
      target: '192.0.2.0/24',
      time: ctx.now,
      duration: HOUR,
      origin: 'manual',
      reason: 'scanner',
      by: 'alice@ops-1',
    });
    const unban = manualUnban('2001:db8::7', MANUAL_JAIL, undefined, ctx);
    assert.equal(unban.id, 'manual-unban:manual:2001:db8::7@1763776000000:a1b2c3d4');
    assert.equal('reason' in unban, false);
    for (const d of [ban, unban, manualBan(manualTarget('2001:db8::7'), 'a'.repeat(64), PERMANENT, 'r'.repeat(512), { ...ctx, by: 'b'.repeat(255) })]) {
      assert.ok(decisionCodec.decode(decisionCodec.encode(d)).ok, d.id);
    }
  });

  test('bansFor tells bans of exactly a target from bans that only overlap it', () => {
    const set = new BanSet();
    const ban = (jail: string, target: string): Decision => ({ v: 1, id: `${jail}-${target}`, action: 'ban', jail, target, time: ctx.now, duration: HOUR, origin: 'scorer' });
    for (const d of [ban('sshd', '192.0.2.7'), ban('web', '192.0.2.7'), ban('web', '192.0.2.0/24'), ban('sshd', '198.51.100.7'), ban('web6', '2001:db8::/64')]) set.apply(d);
    const active = [...set.active(ctx.now)];
    const one = bansFor(active, manualTarget('192.0.2.7'));
    assert.deepEqual(one.exact.map((b) => b.jail).sort(), ['sshd', 'web']);
    assert.deepEqual(one.overlapping.map((b) => b.target), ['192.0.2.0/24']);
    const net = bansFor(active, manualTarget('192.0.2.0/25'));
    assert.deepEqual(net.exact, []);
    assert.deepEqual(net.overlapping.map((b) => b.target).sort(), ['192.0.2.0/24', '192.0.2.7', '192.0.2.7']);
    assert.deepEqual(bansFor(active, manualTarget('2001:db8::5')).overlapping.map((b) => b.target), ['2001:db8::/64']);
    assert.deepEqual(bansFor(active, manualTarget('203.0.113.1')), { exact: [], overlapping: [] });
  });
});
