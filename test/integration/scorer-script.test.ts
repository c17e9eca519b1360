import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decide, emptyTargetState, mirror, targetOf, type TargetState } from '../../services/scorer/core/window.ts';
import { KeyLayout } from '../../services/scorer/redis/keys.ts';
import { AGGREGATE_SCRIPT } from '../../services/scorer/redis/scripts.ts';
import { ScoreStore } from '../../services/scorer/redis/store.ts';
import { closeRedis, connectRedis, type RedisClient } from '../../shared/redis/index.ts';
import { goldenCases, summarize } from '../fixtures/scorer/golden.ts';
import { quietLogger, RedisServer, testConfig } from '../harness/index.ts';

describe('the Redis scripts against the pure core', () => {
  let redis: RedisServer;
  let client: RedisClient;
  before(async () => {
    redis = await RedisServer.start();
    client = await connectRedis(testConfig({ redis: { nodes: [redis.node] } }).redis, { name: 'golden', log: quietLogger(), mode: 'command' });
  });
  after(async () => {
    await closeRedis(client);
    await redis.dispose();
  });

  goldenCases().forEach((golden, n) => {
    test(`give the same outcomes and leave the same state: ${golden.name}`, async () => {
      const store = new ScoreStore(client, new KeyLayout(`golden${n}:`));
      const world = new Map<string, TargetState>();
      for (const [i, step] of golden.steps.entries()) {
        const where = `${golden.file} step ${i + 1}`;
        if (step.kind === 'manual') {
          const core = mirror(world.get(step.target) ?? emptyTargetState(), step.decision);
          world.set(step.target, core.state);
          const ttl = step.decision.action === 'ban' && step.decision.duration !== -1 ? step.decision.duration : -1;
          const viaRedis = (await store.mirror(step.target, step.decision, ttl)).outcome;
          assert.deepEqual(summarize(viaRedis), summarize(core.outcome), where);
          assert.deepEqual(summarize(viaRedis), step.expect, where);
          continue;
        }
        const rules = golden.rules.get(step.failure.jail)!;
        const t = targetOf(step.failure, rules);
        if ('ignored' in t) continue;
        const core = decide(world.get(t.target) ?? emptyTargetState(), step.failure, t.target, rules);
        world.set(t.target, core.state);
        const viaRedis = await store.score(step.failure, t.target, rules);
        assert.deepEqual(viaRedis.outcome, core.outcome, where);
        assert.deepEqual(summarize(viaRedis.outcome), step.expect, where);
      }
      const jails = [...golden.rules.keys()];
      for (const [target, state] of world) {
        assert.deepEqual(await store.readTarget(target, jails), state, `${golden.file}: state of ${target}`);
      }
    });
  });

  test('the figures script adds each target\'s counters once, however often and in whatever order they are reported', async () => {
    const keys = new KeyLayout('figures:');
    const now = Date.now();
    const forget = now + 60_000;
    type R = [target: string, epoch: string, failed: number, banned: number, forget?: number];
    const batch = (reports: R[], banned: string[] = []) =>
      AGGREGATE_SCRIPT.run(client, [...keys.jailFigures('sshd'), ...keys.jailReports('sshd')], [
        now,
        reports.length,
        ...reports.flatMap(([t, e, f, b, fg]) => [t, e, f, b, fg ?? forget]),
        0,
        0,
        banned.length,
        ...banned.flatMap((t) => [t, now + 60_000]),
        0,
      ]);
    const totals = async () => [Number(await client.get('figures:{jail:sshd}:failed')), Number(await client.get('figures:{jail:sshd}:bans'))];
    assert.deepEqual(await batch([['192.0.2.1', 'e1', 3, 1]], ['192.0.2.1']), [3, 1]);
    assert.deepEqual(await batch([['192.0.2.1', 'e1', 3, 1]]), [0, 0], 'the same report again');
    assert.deepEqual(await batch([['192.0.2.1', 'e1', 2, 0]]), [0, 0], 'an older report of the same counters');
    assert.deepEqual(await batch([['192.0.2.1', 'e1', 5, 1], ['192.0.2.2', 'x', 1, 0]]), [3, 0]);
    assert.deepEqual(await totals(), [6, 1]);
    // The counters of 192.0.2.1 expired and started again under a new epoch.
    assert.deepEqual(await batch([['192.0.2.1', 'e2', 1, 0, forget + 10]]), [1, 0]);
    assert.deepEqual(await batch([['192.0.2.1', 'e1', 6, 1]]), [0, 0], 'a late report of the old epoch adds nothing');
    assert.deepEqual(await totals(), [7, 1]);
    assert.deepEqual(await client.zrange('figures:{jail:sshd}:banned', 0, -1), ['192.0.2.1']);
    // A report past its time is forgotten.
    assert.deepEqual(await batch([['192.0.2.3', 'z', 1, 0, now - 1]]), [1, 0]);
    assert.equal(await client.hexists('figures:{jail:sshd}:reports', '192.0.2.3'), 0);
    assert.equal(await client.hexists('figures:{jail:sshd}:reports', '192.0.2.1'), 1);
  });
});
