import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BanDecision } from '../../shared/schema/index.ts';
import { eventually, failure, ScorerStack } from '../fixtures/scorer/stack.ts';

const MINUTE = 60_000;
const YEAR = 365 * 24 * 60 * MINUTE;
const BANTIME = 10 * MINUTE;

describe('a scorer given failures dated ahead of its clock', () => {
  let stack: ScorerStack;
  let scorer: ReturnType<ScorerStack['runInProcess']>;
  before(async () => {
    stack = await ScorerStack.start({ jails: { sshd: { maxretry: 5, findtime: '10m', bantime: '10m' } } });
    scorer = stack.runInProcess();
    await stack.streamsReady();
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
  const bansOf = async (target: string) => (await stack.decisions()).filter((d): d is BanDecision => d.action === 'ban' && d.target === target);
  const statusOf = async (target: string) => (await stack.status({ jail: 'sshd' })).jails[0]!.banned.find((b) => b.target === target);

  test('one line from a host 30 minutes ahead does not hide the 5 real failures that follow: the address is banned', async () => {
    const ip = '203.0.113.30';
    await stack.publish([failure({ ip, host: 'ahead', time: Date.now() + 30 * MINUTE })]);
    await settled();
    const before = Date.now();
    await stack.publish(Array.from({ length: 5 }, (_, i) => failure({ ip, time: before + i })), { concurrency: 1 });
    const [ban] = await eventually('the ban', async () => {
      const found = await bansOf(ip);
      return found.length > 0 ? found : undefined;
    });
    await settled();
    assert.equal((await bansOf(ip)).length, 1);
    assert.equal(ban!.duration, BANTIME);
    assert.ok(ban!.time <= Date.now(), 'the ban starts no later than it was decided');
    const shown = await eventually('the ban in status', () => statusOf(ip));
    assert.ok(shown.remaining <= BANTIME, `remaining ${shown.remaining} ms is within the jail's bantime`);
  });

  test('failures dated 30 years ahead ban for the jail bantime from now, not until 30 years from now', async () => {
    const ip = '203.0.113.31';
    const ahead = Date.now() + 30 * YEAR;
    await stack.publish(Array.from({ length: 5 }, (_, i) => failure({ ip, host: 'broken-clock', time: ahead + i })), { concurrency: 1 });
    const [ban] = await eventually('the ban', async () => {
      const found = await bansOf(ip);
      return found.length > 0 ? found : undefined;
    });
    assert.equal(ban!.duration, BANTIME);
    assert.ok(ban!.time <= Date.now(), `the ban starts at its receipt, not at the log's ${new Date(ahead).toISOString()}`);
    const shown = await eventually('the ban in status', () => statusOf(ip));
    assert.ok(shown.remaining <= BANTIME, `remaining ${shown.remaining} ms is within the jail's bantime`);
    const redis = await stack.redisClient();
    const ttl = await redis.pttl(`fleetban:{${ip}}:b:sshd`);
    assert.ok(ttl > 0 && ttl <= BANTIME, `the ban's key lives no longer than the ban (${ttl} ms)`);
  });
});
