import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RedisClient } from '../../shared/redis/index.ts';
import type { Decision } from '../../shared/schema/index.ts';
import { eventually, failure, ScorerStack } from '../fixtures/scorer/stack.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * A key's PTTL, with what it must be: the scorer set `ttl` at some moment
 * between `since` and the reading, so the reading is at most `ttl` and at
 * least `ttl` less the time that has passed since `since`.
 */
async function assertTtl(redis: RedisClient, key: string, ttl: number, since: number, what: string): Promise<void> {
  const left = await redis.pttl(key);
  const elapsed = Date.now() - since;
  assert.ok(left <= ttl && left >= ttl - elapsed - 1, `${what}: PTTL of ${key} is ${left} ms, expected ${ttl - elapsed}..${ttl}`);
}

describe('the keys a running scorer keeps in Redis expire as the jail says', () => {
  let stack: ScorerStack;
  let scorer: ReturnType<ScorerStack['runInProcess']>;
  let redis: RedisClient;
  before(async () => {
    stack = await ScorerStack.start({
      jails: {
        sshd: { maxretry: 3, findtime: '10m', bantime: '1h', dbpurgeage: '2d' },
        forever: { maxretry: 2, findtime: '10m', bantime: -1 },
      },
    });
    scorer = stack.runInProcess();
    await stack.streamsReady();
    redis = await stack.redisClient();
  });
  after(async () => {
    assert.equal(await scorer.stop(), 0);
    await stack.dispose();
  });

  const settled = () =>
    eventually('every failure acknowledged', async () => {
      const backlog = await stack.failuresBacklog();
      return backlog.pending === 0 && backlog.ackPending === 0;
    });

  test('a window lives for findtime, a ban for its length, and the ban count for dbpurgeage', async () => {
    const ip = '192.0.2.20';
    const window = `fleetban:{${ip}}:w:sshd`;
    const ban = `fleetban:{${ip}}:b:sshd`;
    const counts = `fleetban:{${ip}}:c`;
    const now = Date.now();

    const first = Date.now();
    await stack.publish([failure({ ip, time: now - 2000 }), failure({ ip, time: now - 1000 })]);
    await settled();
    assert.equal(await redis.zcard(window), 2);
    await assertTtl(redis, window, 10 * MINUTE, first, 'the window');
    assert.equal(await redis.pttl(ban), -2, 'no ban yet');
    assert.equal(await redis.pttl(counts), -2, 'no ban count yet');

    const third = Date.now();
    await stack.publish([failure({ ip, time: now })]);
    await eventually('the ban', async () => (await stack.decisions()).some((d) => d.action === 'ban' && d.target === ip));
    assert.equal(await redis.pttl(window), -2, 'the ban cleared the window');
    await assertTtl(redis, ban, HOUR, third, 'the ban');
    await assertTtl(redis, counts, 2 * DAY, third, 'the ban count');
    assert.deepEqual(await redis.hgetall(counts), { 'n:sshd': '1', 't:sshd': String(now), 'n:*': '1', 't:*': String(now) });
  });

  test('a permanent ban has no TTL; its ban count still expires after dbpurgeage (1d by default)', async () => {
    const ip = '2001:db8::30';
    const since = Date.now();
    await stack.publish([failure({ ip, jail: 'forever' }), failure({ ip, jail: 'forever' })]);
    await eventually('the permanent ban', async () => (await stack.decisions()).some((d) => d.action === 'ban' && d.target === ip));
    assert.equal(await redis.hget(`fleetban:{${ip}}:b:forever`, 'dur'), '-1');
    assert.equal(await redis.pttl(`fleetban:{${ip}}:b:forever`), -1, 'no expiry');
    await assertTtl(redis, `fleetban:{${ip}}:c`, DAY, since, 'the ban count');
  });

  test('a manual ban\'s key lives for what is left of the ban, a permanent one has no TTL, and an unban removes the key', async () => {
    const ip = '203.0.113.40';
    const key = `fleetban:{${ip}}:b:sshd`;
    // Decided ten minutes ago for an hour: fifty minutes are left.
    const decided = Date.now() - 10 * MINUTE;
    const since = Date.now();
    const ban: Decision = { v: 1, id: 'manual-ttl-1', action: 'ban', jail: 'sshd', target: ip, time: decided, duration: HOUR, origin: 'manual', by: 'alice' };
    await stack.publishDecision(ban);
    await eventually('the manual ban mirrored', async () => (await redis.hget(key, 'id')) === 'manual-ttl-1');
    const left = await redis.pttl(key);
    const end = decided + HOUR;
    assert.ok(left <= end - since && left >= end - Date.now() - 1, `PTTL ${left} ms, expected what is left of the ban (${end - Date.now()}..${end - since})`);

    await stack.publishDecision({ ...ban, id: 'manual-ttl-2', time: Date.now(), duration: -1 });
    await eventually('the permanent manual ban mirrored', async () => (await redis.hget(key, 'id')) === 'manual-ttl-2');
    assert.equal(await redis.pttl(key), -1, 'no expiry');

    await stack.publishDecision({ v: 1, id: 'manual-ttl-3', action: 'unban', jail: 'sshd', target: ip, time: Date.now(), origin: 'manual', by: 'alice' });
    await eventually('the unban mirrored', async () => (await redis.exists(key)) === 0);
  });
});
