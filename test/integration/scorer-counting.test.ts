import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BanDecision } from '../../shared/schema/index.ts';
import { freePort } from '../harness/index.ts';
import { eventually, failure, scrape, ScorerStack } from '../fixtures/scorer/stack.ts';

const MINUTE = 60_000;

describe('a scorer counting failures from the fleet', () => {
  let stack: ScorerStack;
  let scorer: ReturnType<ScorerStack['runInProcess']>;
  let metricsPort: number;
  before(async () => {
    metricsPort = await freePort();
    stack = await ScorerStack.start({
      metrics: { listen: `127.0.0.1:${metricsPort}` },
      jails: {
        sshd: { maxretry: 5, findtime: '10m', bantime: '10m' },
        increment: { maxretry: 2, findtime: '10m', bantime: '10m', 'bantime.increment': true, 'bantime.maxtime': '1h' },
        forever: { maxretry: 2, findtime: '10m', bantime: -1 },
        allow: { maxretry: 2, findtime: '10m', bantime: '10m', ignoreip: '192.0.2.99 198.51.100.0/24 2001:db8:99::/48' },
      },
    });
    scorer = stack.runInProcess();
    await stack.streamsReady();
  });
  after(async () => {
    assert.equal(await scorer.stop(), 0);
    await stack.dispose();
  });

  const bansOf = async (target: string, jail: string) =>
    (await stack.decisions()).filter((d): d is BanDecision => d.action === 'ban' && d.target === target && d.jail === jail);

  test('failures for one address from three hosts, each below maxretry, produce one ban', async () => {
    const now = Date.now();
    const events = ['web1', 'web2', 'mail'].flatMap((host, h) => [0, 1].map((i) => failure({ ip: '192.0.2.10', host, time: now - 3000 + h * 1000 + i * 100 })));
    await stack.publish(events, { concurrency: 1 });
    const bans = await eventually('one ban', async () => {
      const found = await bansOf('192.0.2.10', 'sshd');
      const status = await stack.status({ jail: 'sshd' });
      return found.length === 1 && status.jails[0]!.totalFailed === 5 ? found : undefined;
    });
    await eventually('every failure acknowledged', async () => (await stack.failuresBacklog()).ackPending === 0 && (await stack.failuresBacklog()).pending === 0);
    assert.equal((await bansOf('192.0.2.10', 'sshd')).length, 1, 'the sixth failure does not ban again');
    const ban = bans[0]!;
    assert.equal(ban.id, `ban:sshd:192.0.2.10@${events[4]!.time}`);
    assert.deepEqual(
      { origin: ban.origin, duration: ban.duration, failures: ban.failures, banCount: ban.banCount, time: ban.time, by: ban.by },
      { origin: 'scorer', duration: 10 * MINUTE, failures: 5, banCount: 1, time: events[4]!.time, by: 'core-1' },
    );
    const status = (await stack.status({ jail: 'sshd' })).jails[0]!;
    assert.equal(status.currentlyBanned, 1);
    assert.equal(status.totalBanned, 1);
    assert.equal(status.currentlyFailed, 0, 'the banned address no longer counts as failing');
    assert.equal(status.banned[0]!.target, '192.0.2.10');
    assert.equal(status.banned[0]!.reason, '5 failures within 10m');
    assert.ok(status.banned[0]!.remaining > 9 * MINUTE && status.banned[0]!.remaining <= 10 * MINUTE, JSON.stringify(status));

    // The first failures this scorer saw: four counted, the fifth banned, the sixth found the ban.
    const metrics = await scrape(metricsPort);
    assert.equal(metrics.value('fleetban_scorer_failures_total', 'jail="sshd",outcome="counted"'), 4);
    assert.equal(metrics.value('fleetban_scorer_failures_total', 'jail="sshd",outcome="ban"'), 1);
    assert.equal(metrics.value('fleetban_scorer_failures_total', 'jail="sshd",outcome="banned"'), 1);
    assert.equal(metrics.value('fleetban_scorer_bans_total', 'jail="sshd"'), 1);
    assert.equal(metrics.value('fleetban_scorer_script_seconds_count'), 6, 'one script call per failure');
    assert.ok(metrics.value('fleetban_scorer_script_seconds_sum')! > 0);
    assert.equal(metrics.value('fleetban_scorer_redeliveries_total', 'stream="failures"') ?? 0, 0, 'nothing was delivered twice');
  });

  test('bantime.increment gives fail2ban\'s lengths across repeated bans, capped by bantime.maxtime', async () => {
    // Log times far enough apart that each ban has ended before the next pair
    // of failures; in the past, since a log time ahead of the receipt is not
    // believed. Bans that ended before they were decided are recorded, not
    // published, so each one is read from Redis.
    const t0 = Date.now() - 141 * MINUTE;
    const starts = [0, 11, 32, 73, 140].map((m) => t0 + m * MINUTE);
    const redis = await stack.redisClient();
    const bans: number[][] = [];
    for (const start of starts) {
      await stack.publish([failure({ ip: '198.51.100.20', jail: 'increment', time: start }), failure({ ip: '198.51.100.20', jail: 'increment', time: start + 1000 })]);
      const count = starts.indexOf(start) + 1;
      const ban = await eventually(`ban ${count}`, async () => {
        const h = await redis.hgetall('fleetban:{198.51.100.20}:b:increment');
        return Number(h.n) === count ? h : undefined;
      });
      bans.push([Number(ban.dur) / MINUTE, Number(ban.n), Number(ban.start) - start]);
    }
    assert.deepEqual(bans, [
      [10, 1, 1000],
      [20, 2, 1000],
      [40, 3, 1000],
      [60, 4, 1000],
      [60, 5, 1000],
    ]);
    const published = await bansOf('198.51.100.20', 'increment');
    assert.deepEqual(published.map((b) => [b.duration / MINUTE, b.banCount]), [[60, 5]], 'only the ban still in force is published');
  });

  test('a failure delivered twice counts once', async () => {
    const now = Date.now();
    const a = failure({ ip: '203.0.113.30', time: now });
    const b = failure({ ip: '203.0.113.30', time: now + 1 });
    // Without Nats-Msg-Id the stream keeps both copies, as after a shipper retry outside the dedup window.
    await stack.publish([a, a, a, b, b], { msgId: false });
    await eventually('all acknowledged', async () => {
      const backlog = await stack.failuresBacklog();
      return backlog.pending === 0 && backlog.ackPending === 0;
    });
    assert.equal((await bansOf('203.0.113.30', 'sshd')).length, 0, 'two distinct failures are below maxretry 5');
    await stack.publish([3, 4].map((i) => failure({ ip: '203.0.113.30', time: now + i })));
    await eventually('all acknowledged', async () => (await stack.failuresBacklog()).ackPending === 0 && (await stack.failuresBacklog()).pending === 0);
    assert.equal((await bansOf('203.0.113.30', 'sshd')).length, 0, 'four distinct failures are still below maxretry 5');
    await stack.publish([failure({ ip: '203.0.113.30', time: now + 5 })]);
    const bans = await eventually('the ban', async () => {
      const found = await bansOf('203.0.113.30', 'sshd');
      return found.length > 0 ? found : undefined;
    });
    assert.equal(bans.length, 1);
    assert.equal(bans[0]!.failures, 5);
  });

  test('a permanent ban is published with duration -1 and shown as permanent', async () => {
    await stack.publish([failure({ ip: '2001:db8::10', jail: 'forever' }), failure({ ip: '2001:db8::10', jail: 'forever' })]);
    const [ban] = await eventually('the permanent ban', async () => {
      const found = await bansOf('2001:db8::10', 'forever');
      return found.length === 1 ? found : undefined;
    });
    assert.equal(ban!.duration, -1);
    const status = await eventually('status', async () => {
      const s = (await stack.status({ jail: 'forever' })).jails[0]!;
      return s.currentlyBanned === 1 ? s : undefined;
    });
    assert.deepEqual({ remaining: status.banned[0]!.remaining, duration: status.banned[0]!.duration }, { remaining: -1, duration: -1 });
  });

  test('failures from an ignoreip address or network never count and never ban, while the same jail counts others', async () => {
    const redis = await stack.redisClient();
    const now = Date.now();
    const allowlisted = ['192.0.2.99', '198.51.100.7', '198.51.100.200', '2001:db8:99:1::5'];
    const events = allowlisted.flatMap((ip) => [0, 1, 2].map((i) => failure({ ip, jail: 'allow', time: now - 3000 + i * 100 })));
    await stack.publish([...events, failure({ ip: '192.0.2.98', jail: 'allow', time: now })]);
    await eventually('all acknowledged', async () => (await stack.failuresBacklog()).ackPending === 0 && (await stack.failuresBacklog()).pending === 0);
    const status = await eventually('the one counted failure in status', async () => {
      const s = (await stack.status({ jail: 'allow' })).jails[0]!;
      return s.totalFailed === 1 ? s : undefined;
    });
    assert.deepEqual({ failed: status.currentlyFailed, banned: status.currentlyBanned, totalBanned: status.totalBanned }, { failed: 1, banned: 0, totalBanned: 0 });
    assert.deepEqual((await stack.decisions()).filter((d) => d.jail === 'allow'), []);
    for (const ip of allowlisted) assert.equal(await redis.exists(`fleetban:{${ip}}:w:allow`, `fleetban:{${ip}}:b:allow`), 0, `nothing kept for ${ip}`);
    assert.equal(await redis.zcard('fleetban:{192.0.2.98}:w:allow'), 1);
    const metrics = await scrape(metricsPort);
    assert.equal(metrics.value('fleetban_scorer_failures_total', 'jail="allow",outcome="ignored"'), 12);
    assert.equal(metrics.value('fleetban_scorer_failures_total', 'jail="allow",outcome="counted"'), 1);
    assert.equal(metrics.value('fleetban_scorer_bans_total', 'jail="allow"'), undefined);
  });

  test('status covers every jail, validates its request and refuses an unknown jail', async () => {
    const all = await stack.status();
    assert.deepEqual(all.jails.map((j) => j.jail), ['allow', 'forever', 'increment', 'sshd']);
    assert.equal(all.host, 'core-1');
    const limited = (await stack.status({ jail: 'sshd', limit: 0 })).jails[0]!;
    assert.equal(limited.banned.length, 0);
    assert.equal(limited.truncated, limited.currentlyBanned > 0);
    await assert.rejects(stack.status({ jail: 'nope' }), /no jail "nope"/);
    await assert.rejects(stack.status({ limit: 'lots' }), /bad status request: limit/);
  });
});
