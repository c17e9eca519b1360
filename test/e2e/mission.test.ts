import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import {
  BIN,
  binFleetban,
  canConnect,
  linkNamespaces,
  NatsServer,
  Netns,
  netnsSkipReason,
  RedisServer,
  startTracked,
  stopProcess,
  tcpListener,
  tempDir,
  waitForOutput,
  type Started,
} from '../harness/index.ts';

const FILTERS = join(import.meta.dirname, '..', 'fixtures', 'filters');
const PORT = 8080;
const PROXY = '203.0.113.1';
const ATTACKER = '203.0.113.66';
const BYSTANDER = '203.0.113.67';

/** A TCP reverse proxy: connections to `port` go to the backends in turn. */
const FORWARDER = `
const net = require('node:net');
const [host, port, ...backends] = process.argv.slice(1);
let next = 0;
net.createServer((client) => {
  const [h, p] = backends[next++ % backends.length].split(':');
  const upstream = net.connect({ host: h, port: Number(p) });
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.pipe(upstream).pipe(client);
}).listen(Number(port), host, () => console.log('forwarding'));`;

/** A line a backend's sshd-like service logs for a failed login of the real client (as with the PROXY protocol). */
const failLine = (host: string, ip: string) => `${new Date().toISOString()} ${host} sshd[4242]: Failed password for root from ${ip} port 50022 ssh2\n`;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The mission, end to end with real processes and a real kernel: two log
 * hosts behind a reverse proxy each see two failed logins from one attacker;
 * neither alone reaches maxretry 3, fleetban counts them together, and the
 * enforcer on the proxy drops the attacker — the only place where that
 * helps, since the log hosts never see the attacker's packets.
 */
describe('the mission: failures on two log hosts, a ban on the reverse proxy in front of them', { skip: netnsSkipReason() }, () => {
  const dir = tempDir('fleetban-mission');
  let nats: NatsServer;
  let redis: RedisServer;
  const namespaces: Netns[] = [];
  const processes: Started[] = [];

  before(async () => {
    [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
  });
  after(async () => {
    for (const p of processes.reverse()) await stopProcess(p.child);
    for (const ns of namespaces) await ns.remove();
    await Promise.all([nats?.dispose(), redis?.dispose()]);
    dir.remove();
  });

  /** One fleetban.yaml per host; they differ only in the host name, the state directory and the log file. */
  function configFor(host: string, extra: Record<string, unknown> = {}): string {
    const file = join(dir.path, `${host}.yaml`);
    writeFileSync(file, stringify({
      prefix: 'mission',
      host,
      stateDir: join(dir.path, host),
      nats: { servers: [nats.url], reconnectWait: '0.2s' },
      redis: { nodes: [redis.node] },
      log: { level: 'info' },
      filters: { dirs: [FILTERS] },
      jails: { sshd: { filter: 'fleetban-test', logpath: join(dir.path, `${host}.log`), maxretry: 3, findtime: '10m', bantime: '1h', port: PORT } },
      shipper: { checkInterval: '0.25s' },
      ...extra,
    }));
    return file;
  }

  async function run(name: string, part: string, config: string): Promise<Started> {
    const started = startTracked(BIN, [part, '--config', config]);
    processes.push(started);
    await waitForOutput(started, new RegExp(`fleetban ${part} running`), 90_000, name);
    return started;
  }

  test('four failures split over two shippers ban the attacker on the proxy only, and fleetban unban lets it through again', async () => {
    const [proxy, attacker, logHost1, logHost2] = await Promise.all(['proxy', 'atk', 'lh1', 'lh2'].map((label) => Netns.create(label)));
    namespaces.push(proxy!, attacker!, logHost1!, logHost2!);
    await linkNamespaces(attacker!, [`${ATTACKER}/24`, `${BYSTANDER}/24`], proxy!, [`${PROXY}/24`]);
    await linkNamespaces(proxy!, ['198.51.100.1/30'], logHost1!, ['198.51.100.2/30']);
    await linkNamespaces(proxy!, ['198.51.100.5/30'], logHost2!, ['198.51.100.6/30']);
    const backends = await Promise.all([tcpListener(logHost1!, [PORT]), tcpListener(logHost2!, [PORT])]);
    const forwarder = proxy!.spawn(process.execPath, ['-e', FORWARDER, PROXY, String(PORT), `198.51.100.2:${PORT}`, `198.51.100.6:${PORT}`]);
    processes.push(forwarder);
    await waitForOutput(forwarder, /forwarding/, 10_000, 'proxy');
    try {
      assert.ok(await canConnect(attacker!, ATTACKER, PROXY, PORT), 'before any failure the attacker reaches the log hosts through the proxy');
      for (const host of ['loghost-1', 'loghost-2']) writeFileSync(join(dir.path, `${host}.log`), '');

      const core = configFor('core-1');
      const edge = configFor('proxy-1', { enforcer: { backend: 'nftables', netns: proxy!.name, table: 'mission' } });
      await Promise.all([
        run('scorer', 'scorer', core),
        run('enforcer', 'enforcer', edge),
        run('shipper on loghost-1', 'shipper', configFor('loghost-1')),
        run('shipper on loghost-2', 'shipper', configFor('loghost-2')),
      ]);

      for (let i = 0; i < 2; i++) {
        for (const host of ['loghost-1', 'loghost-2']) appendFileSync(join(dir.path, `${host}.log`), failLine(host, ATTACKER));
      }
      await until('the attacker to be blocked at the proxy', async () => !(await canConnect(attacker!, ATTACKER, PROXY, PORT, 500)));
      assert.ok(await canConnect(attacker!, BYSTANDER, PROXY, PORT), 'another client still gets through');
      for (const ns of [logHost1!, logHost2!]) assert.equal(await ns.ok('nft', ['list', 'ruleset']), '', `${ns.name}: no firewall rule on a log host`);
      assert.match(await proxy!.ok('nft', ['list', 'set', 'inet', 'mission', 's_sshd_a4']), new RegExp(`elements = \\{ ${ATTACKER.replaceAll('.', '\\.')} timeout`));

      const banned = await binFleetban(['banned', ATTACKER, '--json', '--config', core]);
      assert.equal(banned.code, 0, banned.stderr);
      const [ban] = (JSON.parse(banned.stdout) as { bans: Array<{ jail: string; target: string; origin: string; failures: number; by: string }> }).bans;
      assert.deepEqual([ban!.jail, ban!.target, ban!.origin, ban!.by], ['sshd', ATTACKER, 'scorer', 'core-1']);
      assert.ok(ban!.failures >= 3, 'failures from both hosts counted together');
      const status = await binFleetban(['status', 'sshd', '--config', core]);
      assert.match(status.stdout, new RegExp(`\`- Banned IP list:\\t${ATTACKER.replaceAll('.', '\\.')}\\n$`));

      const unban = await binFleetban(['unban', ATTACKER, '--config', core]);
      assert.equal(unban.code, 0, unban.stderr);
      assert.match(unban.stdout, new RegExp(`^unbanned ${ATTACKER.replaceAll('.', '\\.')} in jail sshd `));
      await until('the attacker to get through again', () => canConnect(attacker!, ATTACKER, PROXY, PORT, 500));
    } finally {
      for (const b of backends) await b.stop();
    }
  });
});
