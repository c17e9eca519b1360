import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BanDecision } from '../../shared/schema/index.ts';
import { freePort, stopProcess } from '../harness/index.ts';
import { eventually, failure, ScorerStack } from '../fixtures/scorer/stack.ts';

describe('a scorer when Redis goes away', () => {
  test('Redis restarted mid-stream: the scorer stops acknowledging, keeps running, and resumes on its own', async () => {
    const metricsPort = await freePort();
    const stack = await ScorerStack.start({ scorer: { ackWait: '3s' }, metrics: { listen: `127.0.0.1:${metricsPort}` }, jails: { sshd: { maxretry: 3, findtime: '1h', bantime: '1h' } } }, { persistRedis: true });
    const redisUp = async () => /^fleetban_scorer_redis_up (\d)/m.exec(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())?.[1];
    try {
      const scorer = await stack.spawn();
      const now = Date.now();
      // 200 addresses, 3 failures each: every address must be banned exactly once.
      // Documentation ranges that are not this host's own addresses (ignoreself would protect those).
      const ips = Array.from({ length: 200 }, (_, i) => (i < 100 ? `203.0.113.${i + 1}` : `198.51.100.${i - 99}`));
      const events = [0, 1, 2].flatMap((k) => ips.map((ip, i) => failure({ ip, time: now - 60_000 + k * 1000 + i })));
      const firstHalf = events.slice(0, 300);
      const secondHalf = events.slice(300);

      await stack.publish(firstHalf);
      await eventually('the first half processed', async () => (await stack.failuresBacklog()).pending === 0 && (await stack.failuresBacklog()).ackPending === 0);

      await stack.redis.stop();
      await stack.publish(secondHalf);
      await eventually('the scorer to notice', () => /Redis unavailable: not acknowledging failures/.test(scorer.output()), 30_000);
      const backlog = await stack.failuresBacklog();
      assert.ok(backlog.pending + backlog.ackPending > 0, 'failures wait in the stream while Redis is down');
      assert.equal(scorer.child.exitCode, null, 'still running');
      assert.equal(await redisUp(), '0', 'the outage shows in the metrics');

      await stack.redis.start();
      const bans = await eventually('every address banned', async () => {
        const found = (await stack.decisions()).filter((d): d is BanDecision => d.action === 'ban');
        return found.length >= ips.length ? found : undefined;
      }, 120_000);
      await eventually('nothing left to process', async () => (await stack.failuresBacklog()).pending === 0 && (await stack.failuresBacklog()).ackPending === 0);
      const final = (await stack.decisions()).filter((d) => d.action === 'ban');
      assert.equal(final.length, ips.length, 'one ban per address, none twice');
      assert.equal(new Set(bans.map((b) => b.target)).size, ips.length);
      assert.match(scorer.output(), /Redis answers again; consuming/);
      assert.equal(scorer.child.exitCode, null, 'still running after the outage');
      const stats = await stack.stats();
      assert.equal(stats[0]!.redis, 'up');
      assert.equal(await redisUp(), '1');
      await stopProcess(scorer.child);
      assert.equal(scorer.child.exitCode, 0, 'a clean stop after the outage');
    } finally {
      await stack.dispose();
    }
  });
});

describe('a scorer started while Redis is down', () => {
  test('runs, reports Redis unavailable, and counts once Redis is there', async () => {
    const stack = await ScorerStack.start({ scorer: { ackWait: '3s' }, jails: { sshd: { maxretry: 2, findtime: '1h', bantime: '1h' } } });
    try {
      await stack.redis.stop();
      const scorer = await stack.spawn();
      await stack.publish([failure({ ip: '198.51.100.77' }), failure({ ip: '198.51.100.77' })]);
      await eventually('the scorer to report Redis', () => /Redis unavailable: not acknowledging failures/.test(scorer.output()), 30_000);
      assert.equal(scorer.child.exitCode, null, 'still running');
      assert.equal((await stack.decisions()).length, 0);
      await stack.redis.start();
      await eventually('the ban once Redis is up', async () => (await stack.decisions()).length === 1, 60_000);
      await stopProcess(scorer.child);
      assert.equal(scorer.child.exitCode, 0);
    } finally {
      await stack.dispose();
    }
  });
});
