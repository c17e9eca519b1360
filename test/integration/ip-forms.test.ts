import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { drainNats } from '../../shared/nats/index.ts';
import { runPart } from '../../shared/runtime/index.ts';
import type { BanDecision } from '../../shared/schema/index.ts';
import { DryRunBackend } from '../../services/enforcer/backends/index.ts';
import { startEnforcer } from '../../services/enforcer/enforcer.ts';
import { BIN, NatsServer, startTracked, tempDir } from '../harness/index.ts';
import { eventually, ScorerStack } from '../fixtures/scorer/stack.ts';
import { failLine, natsClient, shipperConfig, storedFailures } from './shipper-support.ts';

const HOUR = 3_600_000;

/**
 * Finding 4 of issue 15 through real NATS: an IPv4-mapped address in its hex
 * spelling is the IPv4 address on the bus (a decision lands in the IPv4
 * entries, loopback in that spelling is refused) and in a log line (its
 * failures count for the IPv4 address).
 */
describe('IPv4-mapped addresses in hex through NATS', () => {
  test('a decision whose target is ::ffff:cb00:7108 is enforced as 203.0.113.8, and ::ffff:7f00:1 is refused as loopback', async () => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-ip-forms');
    const file = join(dir.path, 'fleetban.yaml');
    writeFileSync(file, [
      'prefix: forms',
      `nats: { servers: ["${nats.url}"], reconnectWait: 1s }`,
      'log: { level: debug }',
      'jails: { sshd: { port: ssh } }',
      'enforcer: { backend: dry-run, batchDelayMs: 5 }',
    ].join('\n'));
    const dry = new DryRunBackend();
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
    const stop = new AbortController();
    let running = false;
    const exit = runPart({
      part: 'enforcer', description: 'test', configFile: file, stopSignal: stop.signal, logDestination: sink,
      async start(ctx) {
        const part = await startEnforcer(ctx, { backends: { 'dry-run': dry } });
        running = true;
        return part;
      },
    });
    const nc = await natsClient(nats.url);
    try {
      await eventually('the enforcer to start', () => running);
      const js = jetstream(nc);
      // Raw JSON, as an older CLI or another publisher wrote it: not through this build's encoder.
      const raw = (id: string, jail: string, target: string) =>
        js.publish(`forms.ban.${jail}`, JSON.stringify({ v: 1, id, action: 'ban', jail, target, time: Date.now(), duration: HOUR, origin: 'manual' }));
      await raw('hex', 'sshd', '::ffff:cb00:7108');
      await raw('hex-upper', 'manual', '::FFFF:CB00:7109');
      await raw('loopback', 'manual', '::ffff:7f00:1');
      await raw('marker', 'sshd', '192.0.2.99');
      await eventually('the marker ban', () => dry.records.some((r) => r.op === 'add' && r.target === '192.0.2.99'));
      const adds = dry.records.flatMap((r) => (r.op === 'add' ? [`${r.set} ${r.target}`] : []));
      assert.deepEqual(adds.sort(), ['* 203.0.113.9', 'sshd 192.0.2.99', 'sshd 203.0.113.8']);
      const entries = (await nc.request('forms.svc.enforcer.entries', '', { timeout: 2000 })).json<{ entries: Array<{ target: string }> }>();
      assert.ok(entries.entries.every((e) => !e.target.includes(':')), `no IPv6 entry: ${JSON.stringify(entries.entries)}`);
      const stats = (await nc.request('forms.svc.enforcer.stats', '', { timeout: 2000 })).json<{ invalid: number; refused: Record<string, number> }>();
      assert.deepEqual({ invalid: stats.invalid, refused: stats.refused }, { invalid: 0, refused: { allowlisted: 1 } });
      assert.ok(lines.some((l) => l.msg === 'ban refused before the firewall' && l.target === '127.0.0.1'));
    } finally {
      stop.abort();
      assert.equal(await exit, 0);
      await drainNats(nc);
      await nats.dispose();
      dir.remove();
    }
  });

  test('failures whose log lines carry the hex and dotted mapped forms count together for the IPv4 address and ban it', async () => {
    const stack = await ScorerStack.start({ jails: { t: { maxretry: 3, findtime: '10m', bantime: '10m' } } });
    const scorer = stack.runInProcess();
    const dir = tempDir('fleetban-ip-forms-shipper');
    const nc = await natsClient(stack.nats.url);
    try {
      await stack.streamsReady();
      const config = shipperConfig(dir.path, stack.nats.url, { t: { logpath: '-' } });
      const shipper = startTracked(BIN, ['shipper', '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
      const exited = new Promise<number | null>((resolve) => shipper.child.once('exit', (code) => resolve(code)));
      shipper.child.stdin!.end(failLine('a', '::ffff:cb00:7108') + failLine('b', '::FFFF:CB00:7108') + failLine('c', '::ffff:203.0.113.8'));
      assert.equal(await exited, 0, shipper.output());
      assert.deepEqual((await storedFailures(nc)).map((e) => e.ip), ['203.0.113.8', '203.0.113.8', '203.0.113.8']);
      const bans = await eventually('the ban', async () => {
        const found = (await stack.decisions()).filter((d): d is BanDecision => d.action === 'ban');
        return found.length > 0 ? found : undefined;
      });
      assert.deepEqual(bans.map((b) => [b.jail, b.target, b.failures]), [['t', '203.0.113.8', 3]]);
    } finally {
      assert.equal(await scorer.stop(), 0);
      await drainNats(nc);
      await stack.dispose();
      dir.remove();
    }
  });
});
