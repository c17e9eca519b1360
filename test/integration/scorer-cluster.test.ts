import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { decide, emptyTargetState, mirror, targetOf, type TargetState } from '../../services/scorer/core/window.ts';
import { JailFigures } from '../../services/scorer/redis/figures.ts';
import { KeyLayout } from '../../services/scorer/redis/keys.ts';
import { ScoreStore } from '../../services/scorer/redis/store.ts';
import { closeRedis, connectRedis, type RedisClient } from '../../shared/redis/index.ts';
import { goldenCases, summarize } from '../fixtures/scorer/golden.ts';
import { freePort, quietLogger, RedisServer, testConfig } from '../harness/index.ts';

const run = promisify(execFile);

describe('the scorer on a Redis Cluster', () => {
  const nodes: RedisServer[] = [];
  let client: RedisClient;
  before(async () => {
    for (let i = 0; i < 3; i++) {
      // The cluster bus would otherwise take port + 10000, which may be taken or out of range.
      const bus = await freePort();
      nodes.push(await RedisServer.start({ extraConfig: ['cluster-enabled yes', 'cluster-config-file nodes.conf', 'cluster-node-timeout 5000', `cluster-port ${bus}`] }));
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => n.node), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 60_000 });
    // Slots are assigned at once but announced by gossip; wait until every node agrees.
    for (const node of nodes) {
      for (let i = 0; ; i++) {
        const info = await run('redis-cli', ['-p', String(node.port), 'cluster', 'info'], { timeout: 10_000 });
        if (/cluster_state:ok/.test(info.stdout)) break;
        if (i > 300) throw new Error(`cluster not ready: ${info.stdout}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const config = testConfig({ redis: { mode: 'cluster', nodes: nodes.map((n) => n.node) } }).redis;
    client = await connectRedis(config, { name: 'cluster-test', log: quietLogger(), mode: 'command', autoPipelining: true });
  }, { timeout: 120_000 });
  after(async () => {
    await closeRedis(client);
    await Promise.all(nodes.map((n) => n.dispose()));
  });

  test('every golden case gives the same outcomes as the core: each script touches one slot', async () => {
    const cases = goldenCases();
    for (const [n, golden] of cases.entries()) {
      const store = new ScoreStore(client, new KeyLayout(`cluster${n}:`));
      const world = new Map<string, TargetState>();
      for (const [i, step] of golden.steps.entries()) {
        const where = `${golden.file} step ${i + 1}`;
        if (step.kind === 'manual') {
          const core = mirror(world.get(step.target) ?? emptyTargetState(), step.decision);
          world.set(step.target, core.state);
          const ttl = step.decision.action === 'ban' && step.decision.duration !== -1 ? step.decision.duration : -1;
          assert.deepEqual(summarize((await store.mirror(step.target, step.decision, ttl)).outcome), summarize(core.outcome), where);
          continue;
        }
        const rules = golden.rules.get(step.failure.jail)!;
        const t = targetOf(step.failure, rules);
        if ('ignored' in t) continue;
        const core = decide(world.get(t.target) ?? emptyTargetState(), step.failure, t.target, rules);
        world.set(t.target, core.state);
        assert.deepEqual((await store.score(step.failure, t.target, rules)).outcome, core.outcome, where);
      }
    }
  });

  test('the status figures of a jail are written and read in its own slot', async () => {
    const figures = new JailFigures(client, new KeyLayout('clusterfig:'));
    const now = Date.now();
    figures.report('sshd', '192.0.2.10', { epoch: 'a', failed: 1, banned: 0 }, now);
    figures.failing('sshd', '192.0.2.10', now + 60_000);
    figures.report('sshd', '2001:db8::/64', { epoch: 'b', failed: 1, banned: 0 }, now);
    figures.failing('sshd', '2001:db8::/64', now + 60_000);
    figures.report('sshd', '198.51.100.1', { epoch: 'c', failed: 0, banned: 1 }, now);
    figures.banHolds('sshd', '198.51.100.1', now, -1);
    await figures.flush(now);
    const read = await figures.read('sshd', now, 10);
    assert.deepEqual(read, { totalFailed: 2, totalBanned: 1, currentlyFailed: 2, currentlyBanned: 1, banned: [{ target: '198.51.100.1', end: Infinity }] });
  });
});
