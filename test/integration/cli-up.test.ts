import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { BIN, binFleetban, freePort, startTracked, stopProcess, tempDir, waitForOutput } from '../harness/index.ts';
import { failLine, FILTER, FILTER_DIR, until } from './shipper-support.ts';

const ATTACKER = '203.0.113.7';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('fleetban up: refusals and failures before anything runs', () => {
  const dir = tempDir('fleetban-up-fail');
  after(() => dir.remove());

  function config(name: string, settings: Record<string, unknown>): string {
    const file = join(dir.path, `${name}.yaml`);
    writeFileSync(file, stringify({ stateDir: join(dir.path, name), log: { level: 'warn' }, ...settings }));
    return file;
  }

  test('a config it cannot run exits 78 with every reason and starts nothing', async () => {
    const file = config('bad', {
      nats: { servers: ['nats://192.0.2.1:4222'] },
      metrics: { listen: 9464 },
      up: { nats: 'start', redis: 'external' },
    });
    const r = await binFleetban(['up', '--config', file]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /nats\.servers: "nats:\/\/192\.0\.2\.1:4222" is not a loopback address/);
    assert.match(r.stderr, /metrics\.listen: the three parts fleetban up starts read one config/);
    assert.doesNotMatch(r.stderr, /pid/);
  });

  test('a server that cannot listen stops what was started, names the address, and exits 69', async () => {
    const natsPort = await freePort();
    const held: Server = createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const redisPort = (held.address() as { port: number }).port;
    try {
      const file = config('busy', {
        nats: { servers: [`nats://127.0.0.1:${natsPort}`] },
        redis: { nodes: [`127.0.0.1:${redisPort}`] },
        up: { nats: 'start', redis: 'start' },
      });
      const r = await binFleetban(['up', '--config', file, '--dry-run']);
      assert.equal(r.code, 69, r.stderr);
      assert.match(r.stderr, new RegExp(`redis-server cannot listen on 127\\.0\\.0\\.1:${redisPort}: the address is in use .*set up\\.redis: external`));
      const natsPid = Number(/nats-server \(pid (\d+)\)/.exec(r.stderr)?.[1]);
      assert.ok(natsPid > 0, 'nats-server had started');
      assert.equal(alive(natsPid), false, 'and was stopped');
      assert.match(r.stderr, /fleetban up: stopped\n$/);
    } finally {
      held.close();
    }
  });
});

describe('fleetban up: a child that dies is started again, and Redis keeps its windows', () => {
  const dir = tempDir('fleetban-up-restart');
  after(() => dir.remove());

  test('redis-server and the shipper SIGKILLed: both come back, the 2 failures counted before survive, and the 3rd bans', async () => {
    const redisPort = await freePort();
    const log = join(dir.path, 'auth.log');
    writeFileSync(log, '');
    const file = join(dir.path, 'up.yaml');
    writeFileSync(file, stringify({
      host: 'up-test',
      stateDir: join(dir.path, 'state'),
      nats: { servers: [`nats://127.0.0.1:${await freePort()}`] },
      redis: { nodes: [`127.0.0.1:${redisPort}`] },
      up: { nats: 'start', redis: 'start' },
      log: { level: 'warn' },
      filters: { dirs: [FILTER_DIR] },
      jails: { t: { filter: FILTER, logpath: log, maxretry: 3, findtime: '10m', bantime: '10m' } },
      shipper: { checkInterval: '0.25s' },
    }));
    const stack = startTracked(BIN, ['up', '--config', file, '--dry-run']);
    const pidOf = (name: string, output = stack.output()) => Number([...output.matchAll(new RegExp(`${name} \\(pid (\\d+)\\)|${name} started again \\(pid (\\d+)\\)|${name} (\\d+)`, 'g'))].at(-1)?.slice(1).find(Boolean));
    const redis = (...args: string[]) => execFileSync('redis-cli', ['-p', String(redisPort), ...args], { encoding: 'utf8' }).trim();
    try {
      await waitForOutput(stack, /fleetban is running on this host/, 120_000, 'fleetban up');
      appendFileSync(log, failLine('root', ATTACKER) + failLine('admin', ATTACKER));
      await until('the window in Redis', () => Number(redis('dbsize')) > 0 && redis('--scan').includes(ATTACKER));
      // appendfsync everysec: what was counted more than a second ago is on disk.
      await new Promise((r) => setTimeout(r, 1500));
      const redisPid = pidOf('redis-server');
      const shipperPid = pidOf('shipper');
      process.kill(redisPid, 'SIGKILL');
      process.kill(shipperPid, 'SIGKILL');
      await until('both started again', () => /redis-server started again/.test(stack.output()) && /shipper started again/.test(stack.output()));
      assert.equal(stack.child.exitCode, null, 'fleetban up keeps running');
      assert.ok(alive(pidOf('redis-server')) && pidOf('redis-server') !== redisPid);
      await until('the window back in Redis', () => redis('--scan').includes(ATTACKER));
      // The restarted shipper resumes at its saved position: the 2 old lines are not sent again.
      await new Promise((r) => setTimeout(r, 1500));
      appendFileSync(log, failLine('oracle', ATTACKER));
      await until('the ban', async () => (await binFleetban(['banned', ATTACKER, '--config', file])).code === 0);
      process.kill(stack.child.pid!, 'SIGINT');
      await until('fleetban up to exit', () => stack.child.exitCode !== null);
      assert.equal(stack.child.exitCode, 0, stack.output().slice(-2000));
    } finally {
      await stopProcess(stack.child, 'SIGKILL');
      for (const name of ['redis-server', 'nats-server', 'scorer', 'enforcer', 'shipper']) {
        const pid = pidOf(name);
        if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
      }
    }
  });
});
