import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { closeRedis, connectRedis, hashTag, LuaScript } from '../../shared/redis/index.ts';
import { freePort, quietLogger, RedisServer, startTracked, stopProcess, tempDir, testConfig, waitForOutput, type Started } from '../harness/index.ts';

const log = quietLogger();

describe('connecting to Redis', () => {
  test('connects to a server without auth and runs a command', async () => {
    const redis = await RedisServer.start();
    try {
      const client = await connectRedis(testConfig({ redis: { nodes: [redis.node] } }).redis, { name: 't', log, mode: 'command' });
      assert.equal(await client.ping(), 'PONG');
      await closeRedis(client);
    } finally {
      await redis.dispose();
    }
  });

  test('connects with a password and with an ACL user; a wrong password is refused clearly', async () => {
    const redis = await RedisServer.start({ password: 'adminpw', extraConfig: ['user scorer on >scorerpw ~fleetban:* +@all'] });
    try {
      const admin = await connectRedis(testConfig({ redis: { nodes: [redis.node], password: 'adminpw' } }).redis, { name: 't', log, mode: 'command' });
      await closeRedis(admin);
      const scorer = await connectRedis(testConfig({ redis: { nodes: [redis.node], user: 'scorer', password: 'scorerpw' } }).redis, { name: 't', log, mode: 'command' });
      await scorer.set('fleetban:x', '1');
      await assert.rejects(scorer.set('other:x', '1'), /NOPERM/);
      await closeRedis(scorer);
      await assert.rejects(
        connectRedis(testConfig({ redis: { nodes: [redis.node], password: 'wrong' } }).redis, { name: 't', log, mode: 'command' }),
        /cannot connect to Redis \(standalone\) at 127\.0\.0\.1:\d+: .*(WRONGPASS|invalid)/,
      );
    } finally {
      await redis.dispose();
    }
  });

  test('finds the master through a sentinel, with the master password, and names the group it cannot find', async () => {
    const master = await RedisServer.start({ password: 'masterpw' });
    const dir = tempDir('fleetban-sentinel');
    let sentinel: Started | undefined;
    try {
      const port = await freePort();
      const file = join(dir.path, 'sentinel.conf');
      // Sentinel rewrites its own file, so it gets a writable copy in a temp dir.
      writeFileSync(
        file,
        [`bind 127.0.0.1`, `port ${port}`, `dir ${dir.path}`, `sentinel monitor fleet 127.0.0.1 ${master.port} 1`, 'sentinel auth-pass fleet masterpw', ''].join('\n'),
      );
      sentinel = startTracked('redis-server', [file, '--sentinel']);
      await waitForOutput(sentinel, /\+monitor master fleet/, 15_000, 'redis-sentinel');
      const config = testConfig({ redis: { mode: 'sentinel', nodes: [`127.0.0.1:${port}`], sentinelName: 'fleet', password: 'masterpw' } }).redis;
      const client = await connectRedis(config, { name: 't', log, mode: 'command' });
      await client.set('fleetban:via-sentinel', '1');
      await closeRedis(client);
      const direct = await connectRedis(testConfig({ redis: { nodes: [master.node], password: 'masterpw' } }).redis, { name: 't', log, mode: 'command' });
      assert.equal(await direct.get('fleetban:via-sentinel'), '1', 'the write went to the master the sentinel named');
      await closeRedis(direct);
      const unknown = testConfig({ redis: { mode: 'sentinel', nodes: [`127.0.0.1:${port}`], sentinelName: 'other', password: 'masterpw' } }).redis;
      await assert.rejects(connectRedis(unknown, { name: 't', log, mode: 'command', timeoutMs: 1000 }), /cannot connect to Redis \(sentinel\) at 127\.0\.0\.1:\d+/);
    } finally {
      if (sentinel) await stopProcess(sentinel.child, 'SIGTERM');
      dir.remove();
      await master.dispose();
    }
  });

  test('an unreachable server is reported with its address', async () => {
    const redis = await RedisServer.start();
    const node = redis.node;
    await redis.dispose();
    await assert.rejects(connectRedis(testConfig({ redis: { nodes: [node] } }).redis, { name: 't', log, mode: 'command', timeoutMs: 500 }), /cannot connect to Redis/);
  });
});

describe('Lua scripts', () => {
  test('run by SHA and reload themselves after the server forgets them', async () => {
    const redis = await RedisServer.start();
    try {
      const client = await connectRedis(testConfig({ redis: { nodes: [redis.node] } }).redis, { name: 't', log, mode: 'command' });
      const incr = new LuaScript('incr-by', "return redis.call('INCRBY', KEYS[1], ARGV[1])", 1);
      const key = `fleetban:${hashTag('sshd|192.0.2.1')}:n`;
      assert.equal(await incr.run(client, [key], [2]), 2);
      await client.script('FLUSH');
      assert.equal(await incr.run(client, [key], [3]), 5);
      await incr.load(client);
      assert.deepEqual(await client.script('EXISTS', incr.sha), [1]);
      await assert.rejects(incr.run(client, [], [1]), /takes 1 keys/);
      await closeRedis(client);
    } finally {
      await redis.dispose();
    }
  });
});
