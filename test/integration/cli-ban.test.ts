import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { stringify } from 'yaml';
import { connectNats, drainNats, ensureStreams } from '../../shared/nats/index.ts';
import { decisionCodec, subjectsFor, type Decision } from '../../shared/schema/index.ts';
import { PERMANENT } from '../../shared/time/index.ts';
import { binFleetban, cli, freePort, NatsServer, quietLogger, readStream, tempDir, testConfig } from '../harness/index.ts';

const HOUR = 3_600_000;

/**
 * Manual decisions against a real nats-server: no scorer and no Redis
 * anywhere, the decisions stream created as a part creates it at start.
 */
describe('fleetban ban, unban and banned on NATS alone', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  const dir = tempDir('fleetban-cli-ban');
  let n = 0;

  before(async () => {
    nats = await NatsServer.start();
    nc = await connectNats(testConfig({ nats: { servers: [nats.url] } }).nats, { name: 'cli-test', log: quietLogger(), mode: 'command' });
  });
  after(async () => {
    await drainNats(nc);
    await nats.dispose();
    dir.remove();
  });

  /** A fresh prefix (so fresh streams) and its config file; `streams: false` leaves the streams uncreated. */
  async function fleet(settings: Record<string, unknown> = {}, options: { streams?: boolean } = {}) {
    const prefix = `cli${++n}`;
    const full = { prefix, host: 'ops-1', nats: { servers: [nats.url], ...(settings.nats as object) }, ...settings };
    delete (full as { nats?: unknown }).nats;
    const config = testConfig({ ...full, nats: { servers: [nats.url], ...(settings.nats as object) } });
    const file = join(dir.path, `${prefix}.yaml`);
    writeFileSync(file, stringify({ ...full, nats: { servers: [nats.url], ...(settings.nats as object) } }));
    if (options.streams !== false) await ensureStreams(nc, config, quietLogger());
    const subjects = subjectsFor(prefix);
    return {
      file,
      subjects,
      run: (...args: string[]) => cli(...args, '--config', file),
      stored: async () => (await readStream(nc, subjects.decisionsStream)).map((m) => ({ subject: m.subject, msgId: m.msgId, decision: m.json<Decision>() })),
      publish: (d: Decision) => jetstream(nc).publish(subjects.decision(d.action, d.jail), decisionCodec.encode(d), { msgID: d.id }),
    };
  }

  test('ban stores a manual decision in the decisions stream, acknowledged, with its id as Nats-Msg-Id', async () => {
    const f = await fleet({ jails: { sshd: { bantime: '2h' } } });
    const before = Date.now();
    const r = await f.run('ban', '2001:DB8::7', '--jail', 'sshd', '--reason', 'password spraying');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^banned 2001:db8::7 in jail sshd for 2h, until \d{4}-\d\d-\d\dT.*Z \(cli\d+_decisions #1\)\n$/);
    const [stored, ...rest] = await f.stored();
    assert.equal(rest.length, 0);
    assert.equal(stored!.subject, f.subjects.decision('ban', 'sshd'));
    assert.equal(stored!.msgId, stored!.decision.id);
    const d = stored!.decision;
    assert.equal(d.action, 'ban');
    assert.equal(d.origin, 'manual');
    assert.equal(d.target, '2001:db8::7');
    assert.equal(d.action === 'ban' && d.duration, 2 * HOUR, "the jail's bantime");
    assert.equal(d.reason, 'password spraying');
    assert.match(d.by ?? '', /@ops-1$/);
    assert.ok(d.time >= before && d.time <= Date.now());
  });

  test('ban --json prints the stored decision with its stream and sequence; the default jail is "manual" and the default length one day', async () => {
    const f = await fleet();
    const r = await f.run('ban', '198.51.100.0/24', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { published: Array<{ decision: Decision; stream: string; seq: number; duplicate: boolean }> };
    assert.equal(out.published.length, 1);
    const [p] = out.published;
    assert.equal(p!.stream, f.subjects.decisionsStream);
    assert.equal(p!.seq, 1);
    assert.equal(p!.duplicate, false);
    assert.equal(p!.decision.jail, 'manual');
    assert.equal(p!.decision.action === 'ban' && p!.decision.duration, 24 * HOUR);
    assert.deepEqual((await f.stored())[0]!.decision, p!.decision);
  });

  test('refused and malformed requests publish nothing: exit 65 for loopback, allowlisted or too long, exit 2 for bad input', async () => {
    const f = await fleet({ enforcer: { ignoreip: ['192.0.2.0/28'] }, nats: { streams: { decisions: { maxAge: '2h' } } } });
    const cases: Array<[string[], number, RegExp]> = [
      [['ban', '127.0.0.2'], 65, /covers 127\.0\.0\.0\/8, which is loopback/],
      [['ban', '::/0'], 65, /which is loopback/],
      [['ban', '192.0.2.3'], 65, /allowlisted/],
      [['ban', '192.0.2.200', '--for', '3h'], 65, /keeps decisions for 2h/],
      [['ban', '192.0.2.200', '--for', 'permanent'], 65, /refusing a permanent ban/],
      [['ban', '192.0.2.256'], 2, /not an IP address or CIDR/],
      [['ban', '192.0.2.200', '--for', '10q'], 2, /--for: unknown unit "q"/],
      [['ban', '192.0.2.200', '--jail', 'no/slash'], 2, /invalid jail name/],
      [['unban', '192.0.2.200', '--jail', 'sshd', '--all'], 2, /cannot be used with/],
    ];
    for (const [args, code, message] of cases) {
      const r = await f.run(...args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stdout, '');
    }
    assert.equal((await f.stored()).length, 0);
    assert.equal((await f.run('ban', '192.0.2.200', '--for', '2h')).code, 0, 'a ban as long as the stream keeps decisions is fine');
  });

  test('ban refuses loopback in its hex IPv4-mapped spelling and addresses in defaults.ignoreip, publishing nothing', async () => {
    const f = await fleet({ defaults: { ignoreip: '203.0.113.0/28' } });
    const cases: Array<[string[], RegExp]> = [
      [['ban', '::ffff:7f00:1'], /refusing to ban 127\.0\.0\.1: it covers 127\.0\.0\.0\/8, which is loopback/],
      [['ban', '203.0.113.5'], /it covers 203\.0\.113\.0\/28, which is allowlisted \(defaults\.ignoreip\)/],
      [['ban', '::ffff:cb00:7105', '--jail', 'sshd'], /refusing to ban 203\.0\.113\.5: .*defaults\.ignoreip/],
    ];
    for (const [args, message] of cases) {
      const r = await f.run(...args);
      assert.equal(r.code, 65, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.equal((await f.stored()).length, 0);
    const hex = await f.run('ban', '::ffff:cb00:7120', '--json');
    assert.equal(hex.code, 0, hex.stderr);
    assert.equal((await f.stored())[0]!.decision.target, '203.0.113.32', 'the IPv4 address, not an IPv6 one');
  });

  test('banned lists apart, as refused, stored bans that every enforcer refuses, and never as in force', async () => {
    const f = await fleet({ enforcer: { ignoreip: ['198.51.100.0/28'] }, jails: { sshd: { ignoreip: '192.0.2.128/25' } } });
    const now = Date.now();
    const raw = (id: string, jail: string, target: string) =>
      jetstream(nc).publish(f.subjects.decision('ban', jail), JSON.stringify({ v: 1, id, action: 'ban', jail, target, time: now, duration: HOUR, origin: 'manual', by: 'old-cli' }));
    await raw('all4', 'manual', '0.0.0.0/0');
    await raw('all6', 'manual', '::/0');
    await raw('lo', 'manual', '::ffff:7f00:1');
    await raw('allow', 'manual', '198.51.100.3');
    await raw('jail-allow', 'sshd', '192.0.2.200');
    await raw('fine', 'sshd', '192.0.2.7');
    const json = JSON.parse((await f.run('banned', '--json')).stdout) as { bans: Array<{ target: string }>; refused: Array<{ jail: string; target: string; refused: string }> };
    assert.deepEqual(json.bans.map((b) => b.target), ['192.0.2.7']);
    assert.deepEqual(json.refused.map((b) => [b.jail, b.target, b.refused]).sort(), [
      ['manual', '0.0.0.0/0', 'covers 127.0.0.0/8 (loopback)'],
      ['manual', '127.0.0.1', 'covers 127.0.0.0/8 (loopback)'],
      ['manual', '198.51.100.3', 'covers 198.51.100.0/28 (allowlisted (enforcer.ignoreip))'],
      ['manual', '::/0', 'covers ::1 (loopback)'],
      ['sshd', '192.0.2.200', 'covers 192.0.2.128/25 (allowlisted (ignoreip of jail sshd))'],
    ]);
    const text = await f.run('banned');
    assert.equal(text.code, 0, text.stderr);
    const [inForce, refused] = text.stdout.split('\nstored but refused by every enforcer, so not in force:\n');
    assert.match(inForce!, /^JAIL +TARGET +REMAINING +ORIGIN +BY +REASON\nsshd +192\.0\.2\.7 /);
    assert.doesNotMatch(inForce!, /127\.0\.0\.1|0\.0\.0\.0\/0/);
    assert.match(refused!, /manual +127\.0\.0\.1 +covers 127\.0\.0\.0\/8 \(loopback\) +manual +old-cli/);
    const one = await f.run('banned', '127.0.0.1');
    assert.equal(one.code, 1, 'a refused ban is not a ban in force');
    assert.match(one.stdout, /^127\.0\.0\.1 is not banned\n/);
  });

  test('a stream that keeps decisions for ever takes a permanent ban', async () => {
    const f = await fleet({ nats: { streams: { decisions: { maxAge: 0 } } } });
    const r = await f.run('ban', '203.0.113.5', '--for', '-1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /in jail manual permanently/);
    const d = (await f.stored())[0]!.decision;
    assert.equal(d.action === 'ban' && d.duration, PERMANENT);
  });

  test('without the decisions stream, or without NATS, ban exits 69 and says why', async () => {
    const f = await fleet({}, { streams: false });
    const noStream = await f.run('ban', '203.0.113.5');
    assert.equal(noStream.code, 69);
    assert.match(noStream.stderr, /the decisions stream cli\d+_decisions does not exist on this NATS/);
    const file = join(dir.path, 'down.yaml');
    writeFileSync(file, stringify({ nats: { servers: [`nats://127.0.0.1:${await freePort()}`] } }));
    const started = Date.now();
    const down = await cli('ban', '203.0.113.5', '--config', file);
    assert.equal(down.code, 69);
    assert.match(down.stderr, /cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+/);
    assert.ok(Date.now() - started < 30_000, 'it gives up instead of waiting like a service');
  });

  test('unban without --jail lifts the ban in every jail where the target is banned, and only there', async () => {
    const f = await fleet();
    assert.equal((await f.run('ban', '192.0.2.7', '--jail', 'sshd')).code, 0);
    assert.equal((await f.run('ban', '192.0.2.7')).code, 0);
    assert.equal((await f.run('ban', '192.0.2.8', '--jail', 'sshd')).code, 0);
    const r = await f.run('unban', '192.0.2.7', '--reason', 'customer called');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').filter(Boolean).map((l) => l.replace(/ \(.*\)$/, '')).sort(), ['unbanned 192.0.2.7 in jail manual', 'unbanned 192.0.2.7 in jail sshd']);
    const unbans = (await f.stored()).filter((s) => s.decision.action === 'unban');
    assert.deepEqual(unbans.map((s) => [s.subject, s.decision.target, s.decision.origin, s.decision.reason]).sort(), [
      [f.subjects.decision('unban', 'manual'), '192.0.2.7', 'manual', 'customer called'],
      [f.subjects.decision('unban', 'sshd'), '192.0.2.7', 'manual', 'customer called'],
    ]);
    const left = await f.run('banned', '--json');
    assert.deepEqual((JSON.parse(left.stdout) as { bans: Array<{ target: string }> }).bans.map((b) => b.target), ['192.0.2.8']);
  });

  test('unban of a target banned nowhere publishes nothing, names the bans that overlap it, and exits 1', async () => {
    const f = await fleet();
    assert.equal((await f.run('ban', '198.51.100.0/24', '--jail', 'web')).code, 0);
    const r = await f.run('unban', '198.51.100.7');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /198\.51\.100\.7 is not banned in any jail\n  it overlaps 198\.51\.100\.0\/24, banned in jail web: fleetban unban 198\.51\.100\.0\/24 --jail web/);
    assert.equal((await f.stored()).length, 1);
    const json = await f.run('unban', '198.51.100.7', '--all', '--json');
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout), { published: [], overlapping: [{ jail: 'web', target: '198.51.100.0/24' }] });
  });

  test('unban --jail publishes in that jail without reading the stream, banned or not', async () => {
    const f = await fleet();
    const r = await f.run('unban', '198.51.100.4', '--jail', 'sshd');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await f.stored()).map((s) => [s.subject, s.decision.action, s.decision.target]), [[f.subjects.decision('unban', 'sshd'), 'unban', '198.51.100.4']]);
  });

  test('banned folds the stream as an enforcer does: expired, unbanned and invalid entries are gone, the rest show jail, time left, origin and reason', async () => {
    const f = await fleet();
    const now = Date.now();
    const ban = (id: string, jail: string, target: string, time: number, duration: number, extra: Partial<Decision> = {}): Decision =>
      ({ v: 1, id, action: 'ban', jail, target, time, duration, origin: 'scorer', ...extra }) as Decision;
    await f.publish(ban('s1', 'sshd', '192.0.2.7', now - 60_000, 10 * 60_000, { reason: '3 failures within 10m', failures: 3, banCount: 1, by: 'core-1' }));
    await f.publish(ban('s2', 'sshd', '192.0.2.8', now - 2 * HOUR, HOUR));
    await f.publish(ban('s3', 'web', '192.0.2.9', now, HOUR));
    await f.publish({ v: 1, id: 'u3', action: 'unban', jail: 'web', target: '192.0.2.9', time: now, origin: 'manual' });
    await jetstream(nc).publish(f.subjects.decision('ban', 'sshd'), new TextEncoder().encode('{"v":1,"not":"a decision"}'));
    assert.equal((await f.run('ban', '2001:db8::/64', '--for', '1h', '--reason', 'abuse')).code, 0);

    const text = await f.run('banned');
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n').filter(Boolean);
    assert.match(lines[0]!, /^JAIL +TARGET +REMAINING +ORIGIN +BY +REASON$/);
    assert.match(lines[1]!, /^manual +2001:db8::\/64 +(59m\d+s|1h) +manual +\S+@ops-1 +abuse$/);
    assert.match(lines[2]!, /^sshd +192\.0\.2\.7 +(8m\d+s|9m(\d+s)?) +scorer +core-1 +3 failures within 10m$/);
    assert.equal(lines.length, 3);
    assert.match(text.stderr, /skipped 1 invalid message in cli\d+_decisions/);

    const json = JSON.parse((await f.run('banned', '--json')).stdout) as { time: number; decisionsRead: number; invalid: number; bans: Array<Record<string, unknown>> };
    assert.equal(json.decisionsRead, 6);
    assert.equal(json.invalid, 1);
    const sshd = json.bans.find((b) => b.jail === 'sshd')!;
    assert.deepEqual(
      { ...sshd, remaining: undefined },
      { jail: 'sshd', target: '192.0.2.7', start: now - 60_000, duration: 600_000, until: now + 540_000, remaining: undefined, origin: 'scorer', reason: '3 failures within 10m', by: 'core-1', failures: 3, banCount: 1, id: 's1' },
    );
    assert.equal(sshd.remaining, now + 540_000 - json.time);

    const one = await f.run('banned', '192.0.2.7');
    assert.equal(one.code, 0);
    assert.match(one.stdout, /sshd +192\.0\.2\.7/);
    const inNet = await f.run('banned', '2001:db8::1234');
    assert.equal(inNet.code, 0, 'an address inside a banned network is banned');
    assert.match(inNet.stdout, /2001:db8::\/64/);
    const none = await f.run('banned', '192.0.2.9');
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '192.0.2.9 is not banned\n');
  });

  test('banned on an empty stream says so and exits 0', async () => {
    const f = await fleet();
    const r = await f.run('banned');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no bans in force\n');
  });

  test('the real executable prints all of a long --json answer through a pipe before it exits', async () => {
    const f = await fleet();
    const now = Date.now();
    const targets = Array.from({ length: 2500 }, (_, i) => `2001:db8:${((i >> 8) + 1).toString(16)}::${((i & 255) + 1).toString(16)}`);
    for (let i = 0; i < targets.length; i += 500) {
      await Promise.all(targets.slice(i, i + 500).map((target, j) => f.publish({ v: 1, id: `p${i + j}`, action: 'ban', jail: 'sshd', target, time: now, duration: HOUR, origin: 'scorer', reason: '5 failures within 10m' })));
    }
    const r = await binFleetban(['banned', '--json', '--config', f.file]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > 500_000, `a long answer (${r.stdout.length} bytes)`);
    assert.equal((JSON.parse(r.stdout) as { bans: unknown[] }).bans.length, targets.length);
  });
});
