import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decide, emptyTargetState, mirror, targetOf, type TargetState } from '../../services/scorer/core/window.ts';
import { KeyLayout } from '../../services/scorer/redis/keys.ts';
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
          const viaRedis = await store.mirror(step.target, step.decision, ttl);
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
});
