import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JailFigures } from '../../services/scorer/redis/figures.ts';
import { KeyLayout } from '../../services/scorer/redis/keys.ts';
import { closeRedis, connectRedis, type RedisClient } from '../../shared/redis/index.ts';
import { quietLogger, RedisServer, testConfig } from '../harness/index.ts';

// Two scorer replicas write their status figures apart, each every
// statusFlush; the fault soak found that the order they land in could list a
// banned address as "currently failed" for a whole findtime.
describe('status figures written by two replicas', () => {
  let redis: RedisServer;
  let client: RedisClient;

  before(async () => {
    redis = await RedisServer.start();
    const config = testConfig({ redis: { nodes: [`127.0.0.1:${redis.port}`] } }).redis;
    client = await connectRedis(config, { name: 'figures-test', log: quietLogger(), mode: 'command' });
  });
  after(async () => {
    await closeRedis(client);
    await redis.stop();
  });

  test('a failing report that lands after another replica recorded the ban does not list the address as failing', async () => {
    const layout = new KeyLayout('replicas:');
    const replicaA = new JailFigures(client, layout);
    const replicaB = new JailFigures(client, layout);
    const now = Date.now();
    // Replica B records the ban of 192.0.2.30 (and so removes it from failing) first...
    replicaB.report('sshd', '192.0.2.30', { epoch: 'e', failed: 3, banned: 1 }, now);
    replicaB.banHolds('sshd', '192.0.2.30', now, 600_000);
    await replicaB.flush(now);
    // ...then replica A's batch, which holds an earlier failure of the same address, lands.
    replicaA.report('sshd', '192.0.2.30', { epoch: 'e', failed: 1, banned: 0 }, now);
    replicaA.failing('sshd', '192.0.2.30', now + 600_000);
    // A different address that really is failing is still listed.
    replicaA.report('sshd', '192.0.2.31', { epoch: 'f', failed: 1, banned: 0 }, now);
    replicaA.failing('sshd', '192.0.2.31', now + 600_000);
    await replicaA.flush(now + 1);

    const read = await replicaA.read('sshd', now + 2, 10);
    assert.equal(read.currentlyFailed, 1, 'only 192.0.2.31 is failing');
    assert.equal(read.currentlyBanned, 1);
    assert.equal(read.totalFailed, 4);
    assert.equal(read.totalBanned, 1);
  });

  test('once the ban has ended, a new failure of the same address is listed as failing again', async () => {
    const layout = new KeyLayout('ended:');
    const figures = new JailFigures(client, layout);
    const now = Date.now();
    figures.report('sshd', '192.0.2.40', { epoch: 'g', failed: 3, banned: 1 }, now - 10_000);
    figures.banHolds('sshd', '192.0.2.40', now - 10_000, 5_000);
    await figures.flush(now - 10_000);
    figures.report('sshd', '192.0.2.40', { epoch: 'h', failed: 1, banned: 0 }, now);
    figures.failing('sshd', '192.0.2.40', now + 600_000);
    await figures.flush(now);
    const read = await figures.read('sshd', now + 1, 10);
    assert.equal(read.currentlyFailed, 1);
    assert.equal(read.currentlyBanned, 0);
  });
});
