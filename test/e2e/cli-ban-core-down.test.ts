import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import {
  BIN,
  binFleetban,
  canConnect,
  edgeAndAttacker,
  NatsServer,
  netnsSkipReason,
  RedisServer,
  startTracked,
  stopProcess,
  tcpListener,
  tempDir,
  waitForOutput,
  type EdgeAndAttacker,
  type Started,
} from '../harness/index.ts';

const PORT = 8080;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The emergency case: Redis is down and no scorer runs, yet an operator's
 * ban reaches the kernel, because it goes straight to the decisions stream
 * that every enforcer follows. A scorer that comes back later catches up
 * with what the operator did.
 */
describe('fleetban ban with Redis stopped and no scorer', { skip: netnsSkipReason() }, () => {
  const dir = tempDir('fleetban-core-down');
  let nats: NatsServer;
  let redis: RedisServer;
  let net: EdgeAndAttacker;
  const processes: Started[] = [];

  before(async () => {
    [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start({ persist: true })]);
    net = await edgeAndAttacker();
  });
  after(async () => {
    for (const p of processes.reverse()) await stopProcess(p.child);
    await net?.remove();
    await Promise.all([nats?.dispose(), redis?.dispose()]);
    dir.remove();
  });

  async function run(part: string, config: string): Promise<Started> {
    const started = startTracked(BIN, [part, '--config', config]);
    processes.push(started);
    await waitForOutput(started, new RegExp(`fleetban ${part} running`), 90_000, part);
    return started;
  }

  test('the ban is acknowledged and enforced in the kernel, banned answers from the stream, unban lifts it; the scorer catches up later', async () => {
    const listener = await tcpListener(net.edge, [PORT, 22]);
    const config = join(dir.path, 'fleetban.yaml');
    writeFileSync(config, stringify({
      host: 'ops-1',
      nats: { servers: [nats.url], reconnectWait: '0.2s' },
      redis: { nodes: [redis.node] },
      log: { level: 'info' },
      jails: { sshd: { port: 22, bantime: '1h' } },
      enforcer: { backend: 'nftables', netns: net.edge.name, table: 'coredown' },
    }));
    const [attacker, other] = net.attackerV4;
    try {
      const scorer = await run('scorer', config);
      await run('enforcer', config);
      await stopProcess(scorer.child);
      await redis.stop();
      assert.ok(await canConnect(net.attacker, attacker!, net.edgeV4, PORT));

      const ban = await binFleetban(['ban', attacker!, '--for', '30m', '--reason', 'incident 42', '--config', config]);
      assert.equal(ban.code, 0, ban.stderr);
      assert.match(ban.stdout, /^banned 192\.0\.2\.10 in jail manual for 30m/);
      await until('the manual ban in the kernel', async () => !(await canConnect(net.attacker, attacker!, net.edgeV4, PORT, 500)));
      assert.equal(await canConnect(net.attacker, attacker!, net.edgeV4, 22, 500), false, 'the manual jail blocks every port');
      assert.ok(await canConnect(net.attacker, other!, net.edgeV4, PORT), 'only the banned address is blocked');

      const banned = await binFleetban(['banned', attacker!, '--config', config]);
      assert.equal(banned.code, 0, banned.stderr);
      assert.match(banned.stdout, /manual +192\.0\.2\.10 +(29m\d+s|30m) +manual +\S+@ops-1 +incident 42/);
      const status = await binFleetban(['status', '--config', config]);
      assert.equal(status.code, 69, 'status needs a scorer, and says so');

      const unban = await binFleetban(['unban', attacker!, '--config', config]);
      assert.equal(unban.code, 0, unban.stderr);
      await until('the address to pass again', () => canConnect(net.attacker, attacker!, net.edgeV4, PORT, 500));

      await redis.start();
      await run('scorer', config);
      await until('the scorer to mirror the manual ban and unban', async () => {
        const r = await binFleetban(['status', 'manual', '--json', '--config', config]);
        const jail = r.code === 0 ? (JSON.parse(r.stdout) as { jails: Array<{ currentlyBanned: number; totalBanned: number }> }).jails[0] : undefined;
        return jail?.totalBanned === 1 && jail.currentlyBanned === 0;
      });
    } finally {
      await listener.stop();
    }
  });
});
