import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventually, failure, ScorerStack } from '../fixtures/scorer/stack.ts';

describe('the scorer\'s durable consumers', () => {
  test('are created once, shared, and take a changed ackWait or maxAckPending on the next start', async () => {
    const stack = await ScorerStack.start({ scorer: { ackWait: '30s' }, jails: { sshd: {} } });
    try {
      const first = stack.runInProcess();
      await stack.streamsReady();
      const info = async (name: string, stream: string) => stack.jsm.consumers.info(stream, name).catch(() => undefined);
      const created = await (async () => {
        for (let i = 0; i < 100; i++) {
          const c = await info('scorer', stack.subjects.failuresStream);
          if (c && (await info('scorer-decisions', stack.subjects.decisionsStream))) return c;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('consumers not created');
      })();
      assert.equal(created.config.ack_wait, 30_000_000_000);
      assert.equal(created.config.ack_policy, 'explicit');
      assert.equal(created.config.deliver_policy, 'all');
      assert.equal(created.config.filter_subject ?? '', '', 'no filter: the stream holds exactly the failures');
      assert.equal(await first.stop(), 0);

      stack.configure({ scorer: { ackWait: '5s', maxAckPending: 1234 }, jails: { sshd: {} } });
      const second = stack.runInProcess();
      const updated = await (async () => {
        for (let i = 0; i < 100; i++) {
          const c = await info('scorer', stack.subjects.failuresStream);
          if (c?.config.ack_wait === 5_000_000_000) return c;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('ackWait not updated');
      })();
      assert.equal(updated.config.max_ack_pending, 1234);
      assert.equal((await stack.jsm.consumers.list(stack.subjects.failuresStream).next()).length, 1, 'still one shared consumer');
      assert.equal(await second.stop(), 0);
    } finally {
      await stack.dispose();
    }
  });

  test('hand at most scorer.maxInFlight failures to Redis at once: with Redis holding every script, the scorer holds exactly that many', async () => {
    const maxInFlight = 4;
    const stack = await ScorerStack.start({ scorer: { maxInFlight }, jails: { sshd: { maxretry: 2, findtime: '1h', bantime: '1h' } } });
    const scorer = stack.runInProcess();
    const redis = await stack.redisClient();
    let paused = false;
    try {
      await stack.streamsReady();
      // Redis keeps answering reads but holds every script (they write) until unpaused.
      await redis.call('CLIENT', 'PAUSE', '120000', 'WRITE');
      paused = true;
      const now = Date.now();
      const ips = Array.from({ length: 20 }, (_, i) => `198.51.100.${i + 1}`);
      await stack.publish([0, 1].flatMap((k) => ips.map((ip, i) => failure({ ip, time: now - 5000 + k * 1000 + i }))));

      // The one replica's `stats` endpoint: what its pull loop holds now.
      const inFlight = async () => (await stack.nc.request('fleetban.svc.scorer.stats', '', { timeout: 5000 })).json<{ inFlight: number }>().inFlight;
      await eventually(`${maxInFlight} failures in flight`, async () => (await inFlight()) === maxInFlight);
      const seen: number[] = [];
      for (let i = 0; i < 20; i++) {
        seen.push(await inFlight());
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(seen, Array(20).fill(maxInFlight), 'no more taken while those wait');
      const backlog = await stack.failuresBacklog();
      assert.equal(backlog.pending + backlog.ackPending, 40, 'nothing acknowledged while Redis holds the scripts');
      assert.equal(await redis.dbsize(), 0, 'no script has run');

      await redis.call('CLIENT', 'UNPAUSE');
      paused = false;
      await eventually('every failure acknowledged', async () => {
        const left = await stack.failuresBacklog();
        return left.pending === 0 && left.ackPending === 0;
      });
      const bans = await eventually('20 bans', async () => {
        const found = (await stack.decisions()).filter((d) => d.action === 'ban');
        return found.length >= ips.length ? found : undefined;
      });
      assert.deepEqual(bans.map((b) => b.target).sort(), [...ips].sort());
      assert.equal(await inFlight(), 0);
    } finally {
      if (paused) await redis.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      assert.equal(await scorer.stop(), 0);
      await stack.dispose();
    }
  });
});
