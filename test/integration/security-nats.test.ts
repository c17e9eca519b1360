import assert from 'node:assert/strict';
import { once } from 'node:events';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { generateFleet } from '../../infra/keys/fleet.ts';
import { inboxPrefixOf } from '../../infra/nats/permissions.ts';
import { connectNats, drainNats } from '../../shared/nats/index.ts';
import { decisionCodec, type Decision } from '../../shared/schema/index.ts';
import { BIN, binFleetban, quietLogger, readStream, SecureFleet, startTracked, stopProcess, tempDir, testConfig, waitForOutput, type Started } from '../harness/index.ts';

const FILTER_DIR = join(import.meta.dirname, '..', 'fixtures', 'filters');
const DECISIONS = 'fleetban_decisions';
const FAILURES = 'fleetban_failures';

function manualBan(target: string, id: string): Decision {
  return { v: 1, id, action: 'ban', jail: 'manual', target, time: Date.now(), duration: 600_000, origin: 'manual', by: 'test' };
}

/** Resolves with the refusal; fails if the request went through or timed out for another reason. */
async function publishRefused(nc: NatsConnection, subject: string, data: Uint8Array = new Uint8Array()): Promise<void> {
  await assert.rejects(nc.request(subject, data, { timeout: 3000 }), (err: Error) => {
    assert.match(String(err.message), /Permissions Violation for Publish/, `${subject}: ${err.message}`);
    return true;
  });
}

/** A subscription the server refuses closes with a permissions error. */
async function subscriptionRefused(nc: NatsConnection, subject: string): Promise<void> {
  const sub = nc.subscribe(subject);
  const closed = await Promise.race([sub.closed, new Promise<'open'>((r) => setTimeout(() => r('open'), 3000))]);
  assert.ok(closed instanceof Error, `subscription to ${subject} was not refused`);
  assert.match(closed.message, /Permissions Violation for Subscription/);
}

describe('NATS with the generated configuration: TLS, nkeys and per-role permissions', () => {
  let fleet: SecureFleet;
  let cli: NatsConnection;
  before(async () => {
    fleet = await SecureFleet.create();
    await fleet.startNats();
    await fleet.startRedis();
    cli = await fleet.connect('cli');
  });
  after(async () => {
    if (cli) await drainNats(cli);
    await fleet?.dispose();
  });

  test('the real shipper, scorer, enforcer and CLI work end to end, each with its own credentials', async () => {
    const dir = fleet.dir.path;
    const logFile = join(dir, 'web.log');
    writeFileSync(logFile, '');
    const jails = { web: { filter: 'fleetban-test', logpath: logFile, maxretry: 3, port: '8080' } };
    const common = { filters: { dirs: [FILTER_DIR] }, log: { level: 'info' }, jails };
    const parts: Array<[string, Started]> = [];
    try {
      // The scorer first: it creates the streams the others use.
      parts.push(['scorer', startTracked(BIN, ['scorer', '--config', fleet.writeConfig('scorer', { ...common, host: 'core-1' })])]);
      await waitForOutput(parts[0]![1], /fleetban scorer running/, 60_000, 'scorer');
      assert.match(parts[0]![1].output(), /"stream":"fleetban_decisions","msg":"created stream"/);
      parts.push(['shipper', startTracked(BIN, ['shipper', '--config', fleet.writeConfig('shipper', { ...common, host: 'web-1', stateDir: join(dir, 'state'), shipper: { checkInterval: '0.25s' } })])]);
      parts.push(['enforcer', startTracked(BIN, ['enforcer', '--config', fleet.writeConfig('enforcer', { ...common, host: 'edge-1', enforcer: { backend: 'dry-run', batchDelayMs: 5 } })])]);
      for (const [name, started] of parts.slice(1)) await waitForOutput(started, new RegExp(`fleetban ${name} running`), 60_000, name);
      const enforcer = parts[2]![1];

      const line = `${new Date().toISOString()} web-1 sshd[4242]: Failed password for root from 192.0.2.77 port 22 ssh2\n`;
      appendFileSync(logFile, line.repeat(3));
      await waitForOutput(enforcer, /"target":"192\.0\.2\.77"[^\n]*would add/, 60_000, 'the scorer\'s ban at the enforcer');

      // The operator's commands, with the CLI's credentials.
      const cliConfig = fleet.writeConfig('cli', { host: 'ops-1', log: { level: 'info' } });
      const fleetban = async (...args: string[]) => {
        const r = await binFleetban([...args, '--config', cliConfig]);
        assert.equal(r.code, 0, `fleetban ${args.join(' ')}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /Permissions Violation/);
        return r.stdout;
      };
      await fleetban('ban', '198.51.100.9', '--reason', 'test');
      await waitForOutput(enforcer, /"target":"198\.51\.100\.9"[^\n]*would add/, 30_000, 'the manual ban at the enforcer');
      const banned = JSON.parse(await fleetban('banned', '--json')) as Array<{ target: string }> | { bans: Array<{ target: string }> };
      const targets = (Array.isArray(banned) ? banned : banned.bans).map((b) => b.target).sort();
      assert.deepEqual(targets, ['192.0.2.77', '198.51.100.9']);
      assert.match(await fleetban('status', 'web'), /192\.0\.2\.77/);
      const services = await fleetban('services');
      for (const name of ['shipper', 'scorer', 'enforcer']) assert.match(services, new RegExp(name));
      await fleetban('unban', '198.51.100.9');
      await waitForOutput(enforcer, /"target":"198\.51\.100\.9"[^\n]*would delete/, 30_000, 'the unban at the enforcer');

      // NATS restarts: every part reconnects, re-creates its consumers within its permissions, and carries on.
      await fleet.stopNats();
      await fleet.startNats();
      for (const [name, started] of parts) await waitForOutput(started, /reconnected to NATS/, 30_000, `${name} reconnecting`);
      appendFileSync(logFile, line.replace('192.0.2.77', '192.0.2.78').repeat(3));
      await waitForOutput(enforcer, /"target":"192\.0\.2\.78"[^\n]*would add/, 60_000, 'a ban after the restart at the enforcer');
    } finally {
      for (const [, started] of parts) await stopProcess(started.child);
      // The restart left the shared CLI connection reconnecting (a command connection tries three times, then
      // gives up): the tests after this one get a new one rather than a request that waits on a reconnect.
      await cli.close().catch(() => undefined);
      cli = await fleet.connect('cli');
    }
    const outputs = parts.map(([name, s]) => `${name}:\n${s.output().slice(-3000)}`).join('\n');
    // Nothing was refused but the streams check that the shipper and the enforcer
    // are not allowed to make (runPart goes on without it), and the enforcer's
    // deleting its old ordered consumer when it makes a new one after the restart
    // (nats.js ignores the answer; the server drops it after 5 idle minutes):
    // every other call a part made was within its permissions.
    const refused = fleet.violations().map((v) => `${v.who} ${v.kind} ${v.subject.replace(/^(\$JS\.API\.CONSUMER\.DELETE\.fleetban_decisions)\.\w+_\d+$/, '$1.<ordered>')}`);
    assert.deepEqual([...new Set(refused)].filter((r) => !r.endsWith('<ordered>')).sort(), ['enforcer Publish $JS.API.STREAM.INFO.fleetban_failures', 'shipper Publish $JS.API.INFO'], outputs);
    assert.deepEqual([...new Set(refused.filter((r) => r.endsWith('<ordered>')))].filter((r) => !r.startsWith('enforcer ')), [], outputs);
  });

  describe('each role is refused what it must not do', () => {
    test('the shipper cannot publish a decision, not even a well-formed one', async () => {
      const nc = await fleet.connect('shipper');
      try {
        const js = jetstream(nc);
        for (const subject of ['fleetban.ban.manual', 'fleetban.unban.manual']) {
          await assert.rejects(js.publish(subject, decisionCodec.encode(manualBan('192.0.2.1', 'forged-by-shipper')), { msgID: 'forged-by-shipper' }), /Permissions Violation/);
        }
        // Failures it may publish, on a jail's subject only.
        await publishRefused(nc, 'fleetban.fail.web.extra');
        await publishRefused(nc, 'fleetban.svc.scorer.status');
      } finally {
        await drainNats(nc);
      }
      const stored = await readStream(cli, DECISIONS);
      assert.ok(!stored.some((m) => m.json<Decision>().id === 'forged-by-shipper'));
    });

    test('the shipper cannot read the decisions stream, nor the decisions JetStream delivers to others', async () => {
      const nc = await fleet.connect('shipper');
      try {
        await publishRefused(nc, '$JS.API.INFO');
        await publishRefused(nc, `$JS.API.STREAM.INFO.${DECISIONS}`);
        await publishRefused(nc, `$JS.API.CONSUMER.CREATE.${DECISIONS}.peek`);
        await publishRefused(nc, `$JS.API.STREAM.MSG.GET.${DECISIONS}`, new TextEncoder().encode('{"seq":1}'));
        await publishRefused(nc, `$JS.API.DIRECT.GET.${DECISIONS}`, new TextEncoder().encode('{"seq":1}'));
        await publishRefused(nc, `$JS.API.CONSUMER.MSG.NEXT.${DECISIONS}.scorer-decisions`);
        await assert.rejects(jetstream(nc).consumers.get(DECISIONS).then((c) => c.next({ expires: 2000 })));
        // Decisions as they are published, and replies on anyone else's inbox.
        await subscriptionRefused(nc, 'fleetban.ban.>');
        await subscriptionRefused(nc, '>');
        await subscriptionRefused(nc, '_INBOX.>');
        await subscriptionRefused(nc, `${inboxPrefixOf('fleetban', 'enforcer')}.>`);
        await subscriptionRefused(nc, `$JS.API.>`);
      } finally {
        await drainNats(nc);
      }
    });

    test('the enforcer publishes nothing beyond what reading the decisions stream needs', async () => {
      await jetstream(cli).publish('fleetban.ban.manual', decisionCodec.encode(manualBan('198.51.100.30', 'for-enforcer-1')), { msgID: 'for-enforcer-1' });
      const nc = await fleet.connect('enforcer');
      try {
        // Reading works: an ordered consumer from the first decision.
        const consumer = await jetstream(nc).consumers.get(DECISIONS);
        assert.ok((await consumer.next({ expires: 5000 })) !== null);
        for (const subject of ['fleetban.ban.manual', 'fleetban.unban.manual', 'fleetban.fail.web', 'fleetban.svc.scorer.status', '$SRV.PING']) await publishRefused(nc, subject);
        for (const api of [
          `STREAM.UPDATE.${DECISIONS}`, `STREAM.DELETE.${DECISIONS}`, `STREAM.PURGE.${DECISIONS}`, `STREAM.CREATE.${DECISIONS}`,
          `STREAM.MSG.DELETE.${DECISIONS}`, `CONSUMER.DELETE.${DECISIONS}.scorer-decisions`, `CONSUMER.CREATE.${DECISIONS}.scorer-decisions`,
          `CONSUMER.INFO.${DECISIONS}.scorer-decisions`, `CONSUMER.MSG.NEXT.${DECISIONS}.scorer-decisions`, `CONSUMER.MSG.NEXT.${FAILURES}.scorer`,
          `STREAM.INFO.${FAILURES}`, `CONSUMER.CREATE.${FAILURES}.peek`,
        ]) await publishRefused(nc, `$JS.API.${api}`);
        await publishRefused(nc, `$JS.ACK.${DECISIONS}.scorer-decisions.1.1.1.1.0`);
        // A forged reply to another role's request.
        await publishRefused(nc, `${inboxPrefixOf('fleetban', 'cli')}.x.1`);
        await subscriptionRefused(nc, 'fleetban.fail.>');
      } finally {
        await drainNats(nc);
      }
    });

    test('the scorer publishes bans but not unbans, and cannot change, purge or delete the streams', async () => {
      const nc = await fleet.connect('scorer');
      try {
        const ack = await jetstream(nc).publish('fleetban.ban.web', decisionCodec.encode({ ...manualBan('203.0.113.5', 'scorer-ban-1'), jail: 'web', origin: 'scorer' }), { msgID: 'scorer-ban-1' });
        assert.equal(ack.stream, DECISIONS);
        await assert.rejects(jetstream(nc).publish('fleetban.unban.web', new Uint8Array()), /Permissions Violation/);
        for (const api of [`STREAM.UPDATE.${DECISIONS}`, `STREAM.PURGE.${DECISIONS}`, `STREAM.DELETE.${DECISIONS}`, `STREAM.MSG.DELETE.${DECISIONS}`, `STREAM.UPDATE.${FAILURES}`, `STREAM.PURGE.${FAILURES}`, `CONSUMER.DELETE.${FAILURES}.scorer`]) {
          await publishRefused(nc, `$JS.API.${api}`);
        }
        await publishRefused(nc, 'fleetban.fail.web');
      } finally {
        await drainNats(nc);
      }
    });

    test('the CLI bans and unbans with JetStream acknowledgements, and cannot touch the scorers\' consumers', async () => {
      const js = jetstream(cli);
      const ban = await js.publish('fleetban.ban.manual', decisionCodec.encode(manualBan('198.51.100.20', 'cli-ban-1')), { msgID: 'cli-ban-1' });
      const unban = await js.publish('fleetban.unban.manual', decisionCodec.encode({ v: 1, id: 'cli-unban-1', action: 'unban', jail: 'manual', target: '198.51.100.20', time: Date.now(), origin: 'manual' }), { msgID: 'cli-unban-1' });
      assert.equal(ban.stream, DECISIONS);
      assert.equal(unban.seq, ban.seq + 1);
      await publishRefused(cli, `$JS.API.CONSUMER.MSG.NEXT.${FAILURES}.scorer`);
      await publishRefused(cli, `$JS.API.CONSUMER.DELETE.${DECISIONS}.scorer-decisions`);
      await publishRefused(cli, `$JS.API.STREAM.DELETE.${DECISIONS}`);
      await publishRefused(cli, 'fleetban.fail.web');
    });
  });

  describe('stream management', () => {
    test('the scorer creates missing streams but cannot change them; the operator applies a change with `fleetban streams --apply`', async () => {
      const longer = { nats: { streams: { decisions: { maxAge: '30d' } } } };
      const decisionsAge = async () => (await (await jetstreamManager(cli)).streams.info(DECISIONS)).config.max_age;
      const startScorer = async (settings: Record<string, unknown>, name: string) => {
        const scorer = startTracked(BIN, ['scorer', '--config', fleet.writeConfig('scorer', { ...settings, jails: { web: { filter: 'sshd' } } }, name)]);
        try {
          await waitForOutput(scorer, /fleetban scorer running/, 60_000, 'scorer');
        } finally {
          await stopProcess(scorer.child);
        }
        return scorer.output();
      };
      // On a fresh server the first scorer creates both streams (the first test's did, when it ran).
      if (!(await decisionsAge().then(() => true, () => false))) assert.match(await startScorer({}, 'scorer-first'), /created stream/);
      const before = await decisionsAge();
      // A scorer whose config wants the decisions kept longer: a part never changes a stream; it warns and goes on.
      assert.match(await startScorer({ ...longer, host: 'core-2' }, 'scorer-longer'), /stream fleetban_decisions keeps messages for [^"]*, but this config needs them kept for 4w2d[^"]*fleetban streams --apply/);
      assert.equal(await decisionsAge(), before);

      const shipperConfig = fleet.writeConfig('shipper', longer, 'shipper-streams');
      const refused = await binFleetban(['streams', '--apply', '--config', shipperConfig]);
      assert.equal(refused.code, 77, refused.stderr);
      const operator = fleet.writeConfig('cli', longer, 'cli-streams');
      const check = await binFleetban(['streams', '--config', operator]);
      assert.equal(check.code, 1);
      assert.match(check.stdout, /fleetban_decisions: differs \(max_age\)/);
      const apply = await binFleetban(['streams', '--apply', '--config', operator]);
      assert.equal(apply.code, 0, apply.stderr);
      assert.match(apply.stdout, /fleetban_decisions: as configured/);
      assert.equal(await decisionsAge(), 30 * 24 * 3600 * 1e9);
    });
  });

  describe('connecting', () => {
    const tls = (bundle: string) => ({ ca: fleet.identity(bundle).ca, cert: fleet.identity(bundle).cert, key: fleet.identity(bundle).key });
    const attempt = (nats: Record<string, unknown>) => connectNats(testConfig({ nats: { servers: [fleet.natsUrl], ...nats } }).nats, { name: 'intruder', log: quietLogger(), mode: 'command', timeoutMs: 3000 });
    let other: { path: string; remove(): void };
    let stranger: Awaited<ReturnType<typeof generateFleet>>;
    before(async () => {
      // Another fleet's credentials: its own CA, its own nkey.
      other = tempDir('fleetban-other');
      stranger = await generateFleet({ out: other.path, prefix: 'fleetban', scorerConsumer: 'scorer', identities: [{ role: 'cli', name: 'cli' }], nats: { serverName: 'x', listen: '127.0.0.1:4222', hosts: ['127.0.0.1'], storeDir: '/nonexistent' }, redis: { hosts: ['127.0.0.1'], tlsPort: 6379, keyPrefix: 'fleetban:', db: 0 }, days: 1 });
    });
    after(() => other?.remove());

    test('a client with a fleet certificate but no nkey, or an nkey the server does not list, cannot connect', async () => {
      await assert.rejects(attempt({ tls: tls('cli') }), /Authorization Violation/);
      await assert.rejects(attempt({ tls: tls('cli'), nkeySeedFile: stranger.identities[0]!.seed }), /Authorization Violation/);
    });

    test('a client certificate from another CA, or none, is refused in the TLS handshake even with a valid nkey', async () => {
      const seed = fleet.identity('cli').seed;
      await assert.rejects(attempt({ tls: { ca: fleet.identity('cli').ca, cert: stranger.identities[0]!.cert, key: stranger.identities[0]!.key }, nkeySeedFile: seed }));
      assert.match(fleet.natsLog(), /TLS handshake error: tls: failed to verify client certificate: x509: certificate signed by unknown authority/);
      await assert.rejects(attempt({ tls: { ca: fleet.identity('cli').ca }, nkeySeedFile: seed }));
      assert.match(fleet.natsLog(), /TLS handshake error: tls: client didn't provide a certificate/);
    });

    test('the server speaks TLS only: a plain-text CONNECT gets no answer but a closed connection', async () => {
      const socket = createConnection({ host: '127.0.0.1', port: fleet.natsPort });
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
        if (received.startsWith('INFO ')) socket.write('CONNECT {"verbose":false}\r\nPING\r\n');
      });
      socket.on('error', () => undefined);
      await Promise.race([once(socket, 'close'), new Promise((_, reject) => setTimeout(() => reject(new Error('the server kept a plain-text connection open')), 10_000))]);
      assert.match(received, /"tls_required":true/);
      assert.match(received, /"tls_verify":true/);
      assert.doesNotMatch(received, /PONG/);
    });

    test('the parts do not trust a server certificate from another CA', async () => {
      await assert.rejects(attempt({ tls: { ...tls('cli'), ca: stranger.ca.cert }, nkeySeedFile: fleet.identity('cli').seed }), /unable to verify the first certificate/);
    });
  });
});
