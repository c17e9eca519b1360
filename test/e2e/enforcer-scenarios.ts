import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { loadConfig, type EnforcerBackendName } from '../../shared/config/index.ts';
import { connectNats, drainNats, ensureStreams } from '../../shared/nats/index.ts';
import { decisionCodec, type Decision } from '../../shared/schema/index.ts';
import { PERMANENT } from '../../shared/time/index.ts';
import { BACKENDS, createExec } from '../../services/enforcer/backends/index.ts';
import { enforcedSets } from '../../services/enforcer/sets.ts';
import {
  BIN,
  edgeAndAttacker,
  NatsServer,
  netnsSkipReason,
  quietLogger,
  startTracked,
  stopProcess,
  tcpConnect,
  tcpListener,
  tempDir,
  waitForOutput,
  type ConnectOutcome,
  type EdgeAndAttacker,
  type Started,
} from '../harness/index.ts';

const PORT = 8080;
/** A port no jail names: only bans for jails this host does not define block it. */
const OTHER_PORT = 8081;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface ScenarioOptions {
  /** The backend takes CIDR bans (every backend but xt_recent). */
  cidr: boolean;
}

/**
 * The end-to-end checks every backend must pass: an "edge" namespace whose
 * firewall the enforcer drives (the enforcer itself runs in the host
 * namespace, next to NATS, and reaches the edge through `enforcer.netns`),
 * and an "attacker" namespace that connects from several addresses.
 */
export function enforcerScenarios(backend: EnforcerBackendName, options: ScenarioOptions): void {
  const skip = netnsSkipReason();
  describe(`the ${backend} enforcer end to end, in network namespaces`, { skip }, () => {
    let nats: NatsServer;
    const dir = tempDir(`fleetban-e2e-${backend}`);
    let n = 0;
    before(async () => {
      nats = await NatsServer.start();
    });
    after(async () => {
      await nats?.dispose();
      dir.remove();
    });

    /** A fresh edge and attacker, a listener, the config, and a NATS client; everything is removed afterwards. */
    async function world(fn: (w: World) => Promise<void>, enforcerExtra = ''): Promise<void> {
      const prefix = `e2e${++n}`;
      const net = await edgeAndAttacker();
      const listener = await tcpListener(net.edge, [PORT, OTHER_PORT]);
      const file = join(dir.path, `${prefix}.yaml`);
      writeFileSync(file, [
        `prefix: ${prefix}`,
        `nats: { servers: ["${nats.url}"] }`,
        'log: { level: info }',
        'jails:',
        `  web: { port: "${PORT}", ignoreip: 192.0.2.13 }`,
        `  web6: { port: "${PORT}", ipv6prefix: 64 }`,
        `enforcer: { backend: ${backend}, netns: ${net.edge.name}, table: fbe, batchDelayMs: 5, xtRecent: { lists: [5s, 1m, 1h, 1d] }${enforcerExtra} }`,
        '',
      ].join('\n'));
      const nc = await connectNats((await loadConfig(file)).nats, { name: 'e2e', log: quietLogger(), mode: 'command' });
      const w = new World(prefix, file, net, nc);
      try {
        await fn(w);
      } finally {
        await w.stopEnforcer('SIGTERM');
        await drainNats(nc);
        await listener.stop();
        await net.remove();
      }
    }

    test("a ban drops the banned source on the jail's port while another source gets through; an unban lets it through again", async () => {
      await world(async (w) => {
        await w.startEnforcer();
        const [banned, other] = w.net.attackerV4;
        await w.publish(w.ban(banned!, HOUR));
        assert.equal(await w.waitBlocked(banned!), 'refused', 'blocked with a reject');
        assert.equal(await w.connect(other!), 'connected');
        assert.equal(await w.connect(banned!, 500, OTHER_PORT), 'connected', 'a port the jail does not name stays open');
        await w.publish(w.unban(banned!));
        await w.waitOpen(banned!);
      });
    });

    test('killed while a 5-second ban is active, the enforcer leaves the ban to end on time in the kernel', async () => {
      await world(async (w) => {
        await w.startEnforcer();
        const [banned] = w.net.attackerV4;
        const decision = w.ban(banned!, 5000);
        const end = decision.time + 5000;
        await w.publish(decision);
        await w.waitBlocked(banned!);
        await w.stopEnforcer('SIGKILL');
        let checkedBeforeEnd = 0;
        let opened = false;
        const deadline = end + 15_000;
        while (!opened && Date.now() < deadline) {
          const before = Date.now();
          const outcome = await w.connect(banned!, 300);
          if (Date.now() < end) {
            assert.notEqual(outcome, 'connected', `passed ${end - Date.now()} ms before the ban ends`);
            checkedBeforeEnd++;
          } else if (outcome === 'connected') {
            assert.ok(before >= end - 1000, 'passed only once the ban was over');
            opened = true;
          }
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.ok(checkedBeforeEnd > 0, 'the ban was checked after the kill and before its end');
        assert.ok(opened, 'the address passes again after the ban');
      });
    });

    test('a ban longer than the longest kernel timeout is refreshed before it lapses, and still ends', async () => {
      await world(async (w) => {
        await w.startEnforcer();
        const [banned] = w.net.attackerV4;
        const decision = w.ban(banned!, 7000);
        const end = decision.time + 7000;
        await w.publish(decision);
        await w.waitBlocked(banned!);
        // Kernel timeouts are capped at 2 s here: past 3 s the ban holds only because it was refreshed.
        await new Promise((r) => setTimeout(r, Math.max(0, decision.time + 4500 - Date.now())));
        if (Date.now() < end - 500) assert.notEqual(await w.connect(banned!, 300), 'connected', 'still blocked after the first kernel timeout ran out');
        await new Promise((r) => setTimeout(r, Math.max(0, end - Date.now())));
        await w.waitOpen(banned!);
      }, ', maxTimeout: 2s');
    });

    test('started after 1,000 decisions (some unbanned, some expired), the kernel holds exactly the bans in force', async () => {
      await world(async (w) => {
        await ensureStreams(w.nc, await loadConfig(w.file), quietLogger());
        const { decisions, expected } = thousandDecisions();
        assert.equal(decisions.length, 1000);
        for (const d of decisions) await w.publish(d);
        const started = await w.startEnforcer();
        await w.stopEnforcer('SIGTERM');
        assert.match(started.output(), new RegExp(`"added":${expected.size},"deleted":0,.*"msg":"ban set applied in one batch"`));
        assert.deepEqual(new Set(await w.kernel()), expected);
      });
    });

    test('IPv6 bans work, and with ipv6prefix 64 the whole /64 is banned', async () => {
      await world(async (w) => {
        await w.startEnforcer();
        const [v6a, v6b, otherNet] = w.net.attackerV6;
        await w.publish(w.ban(v6a!, HOUR));
        await w.waitBlocked(v6a!);
        assert.equal(await w.connect(v6b!), 'connected');
        await w.publish(w.ban(otherNet!, HOUR, 'web6'));
        await w.waitBlocked(otherNet!);
        assert.ok((await w.kernel()).includes('web6 2001:db8:0:1::/64'));
      });
    });

    if (options.cidr) {
      test('a CIDR ban for a jail this host does not define blocks every address inside it, on every port', async () => {
        await world(async (w) => {
          await w.startEnforcer();
          await w.publish(w.ban('192.0.2.10/31', HOUR, 'manual'));
          await w.waitBlocked('192.0.2.10', OTHER_PORT);
          await w.waitBlocked('192.0.2.11');
          assert.equal(await w.connect('192.0.2.12'), 'connected');
          assert.equal(await w.connect('192.0.2.12', 500, OTHER_PORT), 'connected');
          await w.publish(w.ban('192.0.2.8/30', HOUR, 'web'));
          await w.publish(w.unban('192.0.2.10/31', 'manual'));
          await w.waitOpen('192.0.2.10', OTHER_PORT);
          assert.notEqual(await w.connect('192.0.2.11'), 'connected', 'the wider ban of jail web holds the address on its port');
          assert.equal(await w.connect('192.0.2.12'), 'connected');
        });
      });
    }

    test('an allowlisted address and a malformed decision never reach the firewall', async () => {
      await world(async (w) => {
        await w.startEnforcer();
        await w.publish(w.ban('192.0.2.13', HOUR));
        await w.js.publish(`${w.prefix}.ban.web`, JSON.stringify({ ...w.ban('192.0.2.12', HOUR), target: '192.0.2.300' }));
        await w.js.publish(`${w.prefix}.ban.web`, '{"v":1,"action":"ban","target":"192.0.2.11"');
        // The IPv4-mapped form is one spelling of 192.0.2.14 (one parser decides every form): it lands as IPv4.
        await w.js.publish(`${w.prefix}.ban.web`, JSON.stringify({ ...w.ban('192.0.2.14', HOUR), target: '::ffff:192.0.2.14' }));
        await w.publish(w.ban('192.0.2.10', HOUR));
        await w.waitBlocked('192.0.2.10');
        assert.equal(await w.connect('192.0.2.13'), 'connected');
        assert.equal(await w.connect('192.0.2.12'), 'connected');
        assert.equal(await w.connect('192.0.2.11'), 'connected');
        assert.deepEqual(await w.kernel(), ['web 192.0.2.10', 'web 192.0.2.14']);
        const stats = (await w.nc.request(`${w.prefix}.svc.enforcer.stats`, '', { timeout: 5000 })).json<{ invalid: number; refused: Record<string, number> }>();
        assert.deepEqual({ invalid: stats.invalid, refused: stats.refused }, { invalid: 2, refused: { allowlisted: 1 } });
      });
    });
  });

  class World {
    readonly js: JetStreamClient;
    private enforcer?: Started;
    private seq = 0;

    constructor(readonly prefix: string, readonly file: string, readonly net: EdgeAndAttacker, readonly nc: NatsConnection) {
      this.js = jetstream(nc);
    }

    async startEnforcer(): Promise<Started> {
      this.enforcer = startTracked(BIN, ['enforcer', '--config', this.file]);
      await waitForOutput(this.enforcer, /fleetban enforcer running/, 60_000, 'the enforcer');
      return this.enforcer;
    }

    async stopEnforcer(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
      if (this.enforcer) await stopProcess(this.enforcer.child, signal);
    }

    ban(target: string, duration: number, jail = 'web'): Decision {
      return { v: 1, id: `${this.prefix}-${++this.seq}`, action: 'ban', jail, target, time: Date.now(), duration, origin: 'manual' };
    }

    unban(target: string, jail = 'web'): Decision {
      return { v: 1, id: `${this.prefix}-${++this.seq}`, action: 'unban', jail, target, time: Date.now(), origin: 'manual' };
    }

    async publish(d: Decision): Promise<void> {
      await this.js.publish(`${this.prefix}.${d.action}.${d.jail}`, decisionCodec.encode(d), { msgID: d.id });
    }

    connect(from: string, timeoutMs = 500, port = PORT): Promise<ConnectOutcome> {
      return tcpConnect(this.net.attacker, from, from.includes(':') ? this.net.edgeV6 : this.net.edgeV4, port, timeoutMs);
    }

    /** Polls until `from` is blocked; returns how (a reject is `refused`, a drop `timeout`). */
    async waitBlocked(from: string, port = PORT): Promise<ConnectOutcome> {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const outcome = await this.connect(from, 500, port);
        if (outcome !== 'connected') return outcome;
        if (Date.now() > deadline) assert.fail(`${from} still connects after 20 s:\n${this.enforcer?.output().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    async waitOpen(from: string, port = PORT): Promise<void> {
      const deadline = Date.now() + 20_000;
      while ((await this.connect(from, 500, port)) !== 'connected') {
        if (Date.now() > deadline) assert.fail(`${from} still blocked after 20 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    /** What the kernel holds, read back through the backend itself: `set target`, sorted. */
    async kernel(): Promise<string[]> {
      const config = await loadConfig(this.file);
      const sets = enforcedSets(config, []).filter((s) => s.backend === backend);
      const b = BACKENDS[backend].create({ config, exec: createExec({ netns: this.net.edge.name }), log: quietLogger() });
      await b.prepare(sets);
      return (await b.list()).map((e) => `${e.set} ${e.target.text}`).sort();
    }
  }
}

/**
 * 1,000 decisions whose fold is known without the code under test: 300
 * expired bans, 250 bans each lifted by an unban, 80 bans in force (some
 * permanent, some for a jail this host does not define), 60 new bans of
 * lifted or expired addresses, and 60 shorter repeats that must not shorten
 * anything. At most 100 fall in any one xt_recent list.
 */
export function thousandDecisions(): { decisions: Decision[]; expected: Set<string> } {
  const now = Date.now();
  let id = 0;
  const address = (k: number) => (k < 250 ? `198.51.100.${k + 1}` : k < 500 ? `203.0.113.${k - 249}` : `2001:db8:f::${(k - 499).toString(16)}`);
  const ban = (target: string, duration: number, time = now, jail = 'web'): Decision => ({ v: 1, id: `k${++id}`, action: 'ban', jail, target, time, duration, origin: 'scorer' });
  const unban = (target: string): Decision => ({ v: 1, id: `k${++id}`, action: 'unban', jail: 'web', target, time: now, origin: 'manual' });
  const expired = Array.from({ length: 300 }, (_, i) => address(i));
  const lifted = Array.from({ length: 250 }, (_, i) => address(300 + i));
  const active = Array.from({ length: 80 }, (_, i) => address(550 + i));
  const decisions: Decision[] = [];
  const expected = new Set<string>();
  for (const ip of expired) decisions.push(ban(ip, HOUR, now - 2 * HOUR));
  for (const ip of lifted) decisions.push(ban(ip, HOUR));
  active.forEach((ip, i) => {
    const jail = i % 5 === 0 ? 'manual' : 'web';
    decisions.push(ban(ip, i < 40 ? 30 * MINUTE : i < 60 ? 3 * HOUR : PERMANENT, now, jail));
    expected.add(`${jail === 'manual' ? '*' : 'web'} ${ip}`);
  });
  for (const ip of lifted) decisions.push(unban(ip));
  lifted.slice(0, 30).forEach((ip, i) => {
    decisions.push(ban(ip, i < 20 ? 30 * MINUTE : 3 * HOUR));
    expected.add(`web ${ip}`);
  });
  expired.slice(0, 30).forEach((ip, i) => {
    decisions.push(ban(ip, i < 20 ? 3 * HOUR : PERMANENT));
    expected.add(`web ${ip}`);
  });
  active.slice(0, 60).forEach((ip, i) => decisions.push(ban(ip, MINUTE, now, i % 5 === 0 ? 'manual' : 'web')));
  return { decisions, expected };
}
