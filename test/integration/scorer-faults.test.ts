import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BanDecision } from '../../shared/schema/index.ts';
import { ensureDurable } from '../../services/scorer/consume/consumer.ts';
import { jailRules } from '../../services/scorer/core/rules.ts';
import { KeyLayout } from '../../services/scorer/redis/keys.ts';
import { ScoreStore } from '../../services/scorer/redis/store.ts';
import { freePort, stopProcess, testConfig } from '../harness/index.ts';
import { eventually, failure, scrape, ScorerStack } from '../fixtures/scorer/stack.ts';

describe('a scorer when Redis goes away', () => {
  // Redis is stopped (SIGTERM) and started again on its own data directory
  // with its append-only file, as a restart of the service would. The scorer
  // holds no state, so what Redis had acknowledged (windows, bans, ban
  // counts) must still be there, and only then can the counts come out
  // exact. A Redis that comes back empty is a loss of data, not a restart.
  test('Redis restarted mid-stream: the scorer stops acknowledging, keeps running, resumes on its own, and every address is banned exactly once', async (t) => {
    const metricsPort = await freePort();
    const stack = await ScorerStack.start({ scorer: { ackWait: '3s' }, metrics: { listen: `127.0.0.1:${metricsPort}` }, jails: { sshd: { maxretry: 3, findtime: '1h', bantime: '1h' } } }, { persistRedis: true });
    try {
      const scorer = await stack.spawn();
      t.after(() => stopProcess(scorer.child, 'SIGKILL'));
      const now = Date.now();
      // 3000 addresses, 3 failures each, in three rounds: every address is banned in the third round, exactly once.
      const ips = Array.from({ length: 3000 }, (_, i) => `2001:db8:${(i + 1).toString(16)}::1`);
      const events = [0, 1, 2].flatMap((k) => ips.map((ip, i) => failure({ ip, time: now - 60_000 + k * 1000 + (i % 1000) })));
      const publishing = stack.publish(events, { concurrency: 64 });

      // Redis goes away while the third round is processed, as bans are decided:
      // some acknowledged, others in flight or still to come.
      await eventually('the third round begun', async () => (await stack.jsm.consumers.info(stack.subjects.failuresStream, 'scorer')).ack_floor.stream_seq >= 2 * ips.length + 300, 120_000);
      await stack.redis.stop();
      const atStop = await stack.jsm.consumers.info(stack.subjects.failuresStream, 'scorer');
      const storedAtStop = (await stack.jsm.streams.info(stack.subjects.failuresStream)).state.messages;
      assert.ok(atStop.ack_floor.stream_seq < events.length, `stopped mid-stream (${atStop.ack_floor.stream_seq} of ${events.length} acknowledged, ${storedAtStop} published)`);
      t.diagnostic(`Redis stopped with ${atStop.ack_floor.stream_seq} failures acknowledged, ${atStop.num_ack_pending} delivered and unacknowledged, ${storedAtStop} of ${events.length} published`);

      await eventually('the scorer to notice', () => /Redis unavailable: not acknowledging failures/.test(scorer.output()), 30_000);
      await publishing;
      const backlog = await stack.failuresBacklog();
      assert.ok(backlog.pending + backlog.ackPending > 0, 'failures wait in the stream while Redis is down');
      assert.equal(scorer.child.exitCode, null, 'still running');
      assert.equal((await scrape(metricsPort)).value('fleetban_scorer_redis_up'), 0, 'the outage shows in the metrics');

      await stack.redis.start();
      await eventually('nothing left to process', async () => {
        const left = await stack.failuresBacklog();
        return left.pending === 0 && left.ackPending === 0;
      }, 180_000);
      const bans = await eventually('every address banned', async () => {
        const found = (await stack.decisions()).filter((d): d is BanDecision => d.action === 'ban');
        return found.length >= ips.length ? found : undefined;
      });
      assert.equal(bans.length, ips.length, 'one ban per address, none twice');
      assert.equal(new Set(bans.map((b) => b.id)).size, ips.length);
      assert.deepEqual(new Set(bans.map((b) => b.target)), new Set(ips));
      assert.ok(bans.every((b) => b.failures === 3 && b.banCount === 1), 'each ban counted the three failures of its address, once');
      assert.match(scorer.output(), /Redis answers again; consuming/);
      assert.equal(scorer.child.exitCode, null, 'still running after the outage');

      const status = await eventually('the status figures written', async () => {
        const s = (await stack.status({ jail: 'sshd', limit: 0 })).jails[0]!;
        return s.currentlyBanned === ips.length && s.currentlyFailed === 0 ? s : undefined;
      });
      // A ban whose script ran as Redis stopped lost its reply: its redelivery
      // finds it recorded (a replay), is the first to publish it, and counts
      // it; a figures batch whose reply was lost is applied once.
      assert.deepEqual(
        { totalFailed: status.totalFailed, currentlyFailed: status.currentlyFailed, totalBanned: status.totalBanned, currentlyBanned: status.currentlyBanned },
        { totalFailed: events.length, currentlyFailed: 0, totalBanned: ips.length, currentlyBanned: ips.length },
      );
      const redis = await stack.redisClient();
      const keys = async (pattern: string) => (await redis.keys(pattern)).length;
      assert.equal(await keys('fleetban:{*}:w:sshd'), 0, 'no window left: every failure went into a ban');
      assert.equal(await keys('fleetban:{*}:b:sshd'), ips.length);

      const metrics = await scrape(metricsPort);
      assert.equal(metrics.value('fleetban_scorer_redis_up'), 1);
      assert.equal(metrics.value('fleetban_scorer_bans_total', 'jail="sshd"'), ips.length);
      const outcomes = Object.fromEntries(['counted', 'duplicate', 'ban', 'replay', 'banned'].map((o) => [o, metrics.value('fleetban_scorer_failures_total', `jail="sshd",outcome="${o}"`) ?? 0]));
      // Each ban is recorded once; one whose reply was lost is found again by its redelivery (a replay).
      assert.ok(outcomes.ban! <= ips.length && outcomes.ban! + outcomes.replay! >= ips.length, JSON.stringify(outcomes));
      assert.ok(outcomes.counted! + outcomes.ban! + outcomes.duplicate! + outcomes.replay! + outcomes.banned! >= events.length, 'every failure was scored');
      assert.ok(metrics.value('fleetban_scorer_redis_errors_total', 'kind="unavailable"')! >= 1);
      const redelivered = metrics.value('fleetban_scorer_redeliveries_total', 'stream="failures"') ?? 0;
      assert.ok(redelivered > 0, 'what the scorer held when Redis went away came back');
      t.diagnostic(`${redelivered} failures delivered again after the outage; outcomes ${JSON.stringify(outcomes)}; total failed ${status.totalFailed}`);
      const stats = await stack.stats();
      assert.equal(stats[0]!.redis, 'up');
      await stopProcess(scorer.child);
      assert.equal(scorer.child.exitCode, 0, 'a clean stop after the outage');
    } finally {
      await stack.dispose();
    }
  });
});

describe('a failure whose script ran on a replica that died before publishing', () => {
  test('is handed to another replica, which publishes the recorded ban once; status counts the ban and the failure once', async () => {
    const jails = { sshd: { maxretry: 3, findtime: '1h', bantime: '1h' } };
    const stack = await ScorerStack.start({ jails });
    const scorer = stack.runInProcess();
    try {
      await stack.streamsReady();
      const ip = '192.0.2.44';
      const now = Date.now();
      const events = [0, 1, 2].map((i) => failure({ ip, time: now - 3000 + i * 1000 }));
      await stack.publish(events.slice(0, 2));
      await eventually('two failures counted', async () => (await stack.status({ jail: 'sshd' })).jails[0]!.totalFailed === 2);

      // The replica that took the third failure ran the script, so the ban is
      // in Redis, and died before it published the decision or acknowledged.
      const redis = await stack.redisClient();
      const rules = jailRules(testConfig({ jails }).jails.sshd!);
      const died = await new ScoreStore(redis, new KeyLayout('fleetban:')).score(events[2]!, ip, rules);
      assert.equal(died.outcome.kind, 'ban');
      await stack.publish([events[2]!]);

      const [decision] = await eventually('the decision', async () => {
        const found = await stack.decisions();
        return found.length === 1 ? found : undefined;
      });
      assert.equal(decision!.id, `ban:sshd:${ip}@${events[2]!.time}`);
      const status = await eventually('the ban in status', async () => {
        const s = (await stack.status({ jail: 'sshd' })).jails[0]!;
        return s.currentlyBanned === 1 ? s : undefined;
      });
      assert.deepEqual(
        { totalFailed: status.totalFailed, currentlyFailed: status.currentlyFailed, totalBanned: status.totalBanned },
        { totalFailed: 3, currentlyFailed: 0, totalBanned: 1 },
      );
    } finally {
      await scorer.stop();
      await stack.dispose();
    }
  });
});

describe('a scorer started while Redis is down', () => {
  test('runs, reports Redis unavailable, and counts once Redis is there, a failure another consumer gave back included', async (t) => {
    const metricsPort = await freePort();
    const stack = await ScorerStack.start({ scorer: { ackWait: '3s' }, metrics: { listen: `127.0.0.1:${metricsPort}` }, jails: { sshd: { maxretry: 2, findtime: '1h', bantime: '1h' } } });
    try {
      await stack.redis.stop();
      const scorer = await stack.spawn();
      t.after(() => stopProcess(scorer.child, 'SIGKILL'));
      await stack.publish([failure({ ip: '198.51.100.77' }), failure({ ip: '198.51.100.77' })]);
      await eventually('the scorer to report Redis', () => /Redis unavailable: not acknowledging failures/.test(scorer.output()), 30_000);
      assert.equal(scorer.child.exitCode, null, 'still running');
      assert.equal((await stack.decisions()).length, 0);

      // While the scorer waits for Redis it pulls nothing; another member of
      // the durable consumer takes one failure and gives it back unprocessed,
      // so that failure reaches the scorer as a redelivery.
      const durable = await ensureDurable(stack.nc, { stream: stack.subjects.failuresStream, name: 'scorer', ackWaitMs: 3000, maxAckPending: 20_000 });
      const taken = await durable.next({ expires: 5000 });
      assert.ok(taken, 'a failure to give back');
      assert.equal(taken.info.redelivered, false);
      taken.nak();

      await stack.redis.start();
      await eventually('the ban once Redis is up', async () => (await stack.decisions()).length === 1, 60_000);
      await eventually('both failures acknowledged', async () => (await stack.failuresBacklog()).ackPending === 0 && (await stack.failuresBacklog()).pending === 0);
      const metrics = await scrape(metricsPort);
      assert.equal(metrics.value('fleetban_scorer_redeliveries_total', 'stream="failures"'), 1, 'the given-back failure');
      assert.equal(metrics.value('fleetban_scorer_failures_total', 'jail="sshd",outcome="counted"'), 1);
      assert.equal(metrics.value('fleetban_scorer_failures_total', 'jail="sshd",outcome="ban"'), 1);
      assert.equal(metrics.value('fleetban_scorer_bans_total', 'jail="sshd"'), 1);
      assert.equal(metrics.value('fleetban_scorer_script_seconds_count'), 2);
      assert.equal(metrics.value('fleetban_scorer_redis_up'), 1);
      await stopProcess(scorer.child);
      assert.equal(scorer.child.exitCode, 0);
    } finally {
      await stack.dispose();
    }
  });
});
