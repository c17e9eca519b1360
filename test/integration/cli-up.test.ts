import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { binFleetban, freePort, tempDir } from '../harness/index.ts';

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
