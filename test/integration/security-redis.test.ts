import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { Redis, type RedisOptions } from 'ioredis';
import { SCORER_COMMANDS } from '../../infra/redis/acl.ts';
import { loadConfig, type RedisConfig } from '../../shared/config/index.ts';
import { drainNats } from '../../shared/nats/index.ts';
import { closeRedis, connectRedis } from '../../shared/redis/index.ts';
import { decisionCodec, failureCodec, type Decision } from '../../shared/schema/index.ts';
import { BIN, quietLogger, readStream, SecureFleet, startTracked, stopProcess, waitForOutput } from '../harness/index.ts';

/** Connection commands Redis lets every user run: they authenticate or reset the caller's own connection. */
const ALWAYS_ALLOWED = ['auth', 'hello', 'reset'];

describe('Redis with the generated TLS settings and ACL file', () => {
  let fleet: SecureFleet;
  let admin: Redis;
  let scorer: Redis;
  const clients: Redis[] = [];

  const connect = (options: RedisOptions): Redis => {
    const client = new Redis({ host: '127.0.0.1', port: fleet.redisPort, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, ...options });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  const tlsOf = (bundle: string) => {
    const id = fleet.identity(bundle);
    return { ca: readFileSync(id.ca), cert: readFileSync(id.cert), key: readFileSync(id.key) };
  };

  before(async () => {
    fleet = await SecureFleet.create();
    await fleet.startRedis();
    await fleet.startNats();
    admin = connect({ username: 'fleetban-admin', password: fleet.files.redis.admin.password, tls: tlsOf('cli') });
    await admin.connect();
    const password = /password: (\S+)/.exec(readFileSync(fleet.identity('scorer').config, 'utf8'))![1]!;
    scorer = connect({ username: 'fleetban-scorer', password, tls: tlsOf('scorer') });
    await scorer.connect();
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await fleet?.dispose();
  });

  test('the real scorer runs with its ACL user: bans, manual mirror, status, scripts reloaded; Redis refuses it nothing', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    const settings = { host: 'core-1', log: { level: 'info' }, jails: { web: { maxretry: 3, filter: 'sshd' } }, scorer: { statusFlush: '0.1s' } };
    const part = startTracked(BIN, ['scorer', '--config', fleet.writeConfig('scorer', settings)]);
    let shipper: NatsConnection | undefined;
    let cli: NatsConnection | undefined;
    try {
      await waitForOutput(part, /fleetban scorer running/, 60_000, 'scorer');
      shipper = await fleet.connect('shipper');
      cli = await fleet.connect('cli');
      const fail = async (ip: string, n: number) => {
        for (let i = 0; i < n; i++) {
          const id = `${ip}-${i}`;
          await jetstream(shipper!).publish('fleetban.fail.web', failureCodec.encode({ v: 1, id, jail: 'web', ip, time: Date.now() - 1000 + i, host: 'web-1', source: '/var/log/auth.log' }), { msgID: id });
        }
      };
      const banned = async (target: string) => {
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
          if ((await readStream(cli!, 'fleetban_decisions')).some((m) => m.json<Decision>().target === target && m.json<Decision>().origin === 'scorer')) return;
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.fail(`no ban of ${target} from the scorer\n${part.output().slice(-3000)}`);
      };

      await fail('192.0.2.50', 3);
      await banned('192.0.2.50');
      // A Redis restart or failover loses loaded scripts: the scorer sends them whole (EVAL).
      await admin.script('FLUSH');
      await fail('192.0.2.51', 3);
      await banned('192.0.2.51');
      await jetstream(cli).publish('fleetban.ban.manual', decisionCodec.encode({ v: 1, id: 'manual-redis-1', action: 'ban', jail: 'manual', target: '198.51.100.60', time: Date.now(), duration: 600_000, origin: 'manual', by: 'ops' }), { msgID: 'manual-redis-1' });
      const deadline = Date.now() + 30_000;
      let status: { jails: Array<{ jail: string; banned: Array<{ target: string }> }> } | undefined;
      while (Date.now() < deadline) {
        status = (await cli.request('fleetban.svc.scorer.status', '{}', { timeout: 5000 })).json();
        if (status?.jails.find((j) => j.jail === 'manual')?.banned.some((b) => b.target === '198.51.100.60') && status.jails.find((j) => j.jail === 'web')?.banned.length === 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.deepEqual(status?.jails.find((j) => j.jail === 'web')?.banned.map((b) => b.target).sort(), ['192.0.2.50', '192.0.2.51']);
      assert.deepEqual(status?.jails.find((j) => j.jail === 'manual')?.banned.map((b) => b.target), ['198.51.100.60']);

      const clientList = String(await admin.client('LIST'));
      assert.match(clientList, /name=fleetban-scorer@core-1 [^\n]*user=fleetban-scorer/);
      assert.match(String(await admin.info('commandstats')), /cmdstat_eval:calls=[1-9]/);
      assert.deepEqual(await admin.call('ACL', 'LOG'), [], 'Redis refused the scorer something');
    } finally {
      if (shipper) await drainNats(shipper);
      if (cli) await drainNats(cli);
      await stopProcess(part.child);
    }
  });

  test('the scorer\'s user may run exactly its listed commands: every other command and sub-command Redis knows is refused', async () => {
    const commands = (await admin.call('COMMAND')) as Array<[string, number, ...unknown[]]>;
    const allowed: string[] = [];
    let checked = 0;
    for (const command of commands) {
      const subcommands = (command[9] as Array<[string, number]> | undefined) ?? [];
      for (const [name, arity] of subcommands.length > 0 ? subcommands : [[command[0], command[1]] as [string, number]]) {
        const words = name.split('|');
        // Enough arguments for the command's arity, all keys of the scorer's own prefix: only the command decides.
        const args = Array<string>(Math.max(0, Math.abs(arity) - words.length)).fill('fleetban:k');
        const answer = String(await admin.call('ACL', 'DRYRUN', 'fleetban-scorer', ...words, ...args));
        checked++;
        if (answer === 'OK') allowed.push(name);
        else assert.match(answer, /no permissions to run/, `${name}: ${answer}`);
      }
    }
    assert.ok(checked > 300, `only ${checked} commands checked`);
    assert.deepEqual(allowed.sort(), [...Object.keys(SCORER_COMMANDS), ...ALWAYS_ALLOWED].sort());
  });

  test('Redis refuses the scorer\'s user other commands, other keys, and scripts that reach past its ACL', async () => {
    const refused = async (call: Promise<unknown>, pattern: RegExp) => assert.rejects(call, (err: Error) => (assert.match(err.message, pattern), true));
    await refused(scorer.set('fleetban:x', '1'), /NOPERM.*'set'/);
    await refused(scorer.flushall(), /NOPERM/);
    await refused(scorer.keys('*'), /NOPERM/);
    await refused(scorer.config('GET', '*'), /NOPERM/);
    await refused(scorer.call('ACL', 'SETUSER', 'fleetban-scorer', '+@all'), /NOPERM/);
    await refused(scorer.script('FLUSH'), /NOPERM/);
    await refused(scorer.publish('fleetban', 'x'), /NOPERM/);
    await refused(scorer.get('other-app:secret'), /NOPERM.*key/);
    await refused(scorer.zrange('sessions', 0, -1), /NOPERM.*key/);
    // Commands a script calls are checked against the caller's ACL, keys too.
    await refused(scorer.eval("return redis.call('SET', KEYS[1], '1')", 1, 'fleetban:x'), /can't run this command/);
    await refused(scorer.eval("return redis.call('GET', 'other-app:secret')", 0), /can't access at least one of the keys/);
    await refused(scorer.eval("return redis.call('FLUSHALL')", 0), /can't run this command/);
    // Its own work goes through.
    assert.equal(await scorer.eval("return redis.call('ZADD', KEYS[1], 1, 'a')", 1, 'fleetban:{192.0.2.1}:w:web'), 1);
    assert.equal(await scorer.zcount('fleetban:{192.0.2.1}:w:web', '-inf', '+inf'), 1);
  });

  test('Redis takes TLS with a fleet client certificate only, and no default user', async () => {
    const scorerRedis = (await loadConfig(fleet.writeConfig('scorer', {}))).redis;
    const attempt = async (changes: Partial<RedisConfig>) => {
      const client = await connectRedis({ ...scorerRedis, ...changes }, { name: 'intruder', log: quietLogger(), mode: 'command', timeoutMs: 3000 });
      await closeRedis(client);
    };
    // The generated settings work; each of these does not.
    await attempt({});
    const { tls } = scorerRedis;
    await assert.rejects(attempt({ tls: undefined }), /cannot connect/);
    await assert.rejects(attempt({ tls: { ...tls, cert: undefined, key: undefined } }), /cannot connect/);
    await assert.rejects(attempt({ user: undefined }), /WRONGPASS|NOAUTH/);
    await assert.rejects(attempt({ password: 'guess' }), /WRONGPASS/);
    await assert.rejects(attempt({ user: 'default', password: undefined }), /WRONGPASS|NOAUTH/);
  });
});
