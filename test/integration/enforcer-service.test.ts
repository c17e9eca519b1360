import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats, drainNats } from '../../shared/nats/index.ts';
import { runPart } from '../../shared/runtime/index.ts';
import { decisionCodec, type Decision } from '../../shared/schema/index.ts';
import { PERMANENT } from '../../shared/time/index.ts';
import type { PartMetrics } from '../../shared/telemetry/index.ts';
import { DryRunBackend, type DryRunRecord } from '../../services/enforcer/backends/index.ts';
import { startEnforcer } from '../../services/enforcer/enforcer.ts';
import { NatsServer, quietLogger, tempDir, testConfig } from '../harness/index.ts';

const HOUR = 3_600_000;
let nats: NatsServer;
const dir = tempDir();
let seq = 0;
const started: Array<{ stop(): Promise<number> }> = [];

before(async () => {
  nats = await NatsServer.start();
});
after(async () => {
  // An enforcer left running by a failed test would keep the process alive.
  await Promise.all(started.map((e) => e.stop()));
  await nats.dispose();
  dir.remove();
});

/** One enforcer with its own subject prefix (so its own streams) and a dry-run backend. */
async function enforcer(prefix: string) {
  const file = join(dir.path, `${prefix}.yaml`);
  writeFileSync(file, [
    `prefix: ${prefix}`,
    `nats: { servers: ["${nats.url}"], reconnectWait: 1s }`,
    'log: { level: debug }',
    'jails: { sshd: { port: ssh, ignoreip: 192.0.2.200 } }',
    'enforcer: { backend: dry-run, batchDelayMs: 5 }',
  ].join('\n'));
  const dry = new DryRunBackend();
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
  const stop = new AbortController();
  let metrics: PartMetrics | undefined;
  let running = false;
  const exit = runPart({
    part: 'enforcer', description: 'test', configFile: file, stopSignal: stop.signal, logDestination: sink,
    async start(ctx) {
      metrics = ctx.metrics;
      const part = await startEnforcer(ctx, { backends: { 'dry-run': dry } });
      running = true;
      return part;
    },
  });
  let exited = false;
  void exit.then(() => (exited = true));
  const handle = {
    dry, lines, exit,
    metrics: () => metrics!,
    running: () => {
      if (exited && !running) throw new Error(`the enforcer exited before it ran:\n${lines.map((l) => l.msg).join('\n')}`);
      return running;
    },
    async stop() { stop.abort(); return exit; },
  };
  started.push(handle);
  return handle;
}

async function client(): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
  const nc = await connectNats(testConfig({ nats: { servers: [nats.url] } }).nats, { name: 'test', log: quietLogger(), mode: 'command' });
  return { nc, js: jetstream(nc) };
}

function ban(target: string, time: number, duration: number, jail = 'sshd'): Decision {
  return { v: 1, id: `t${++seq}`, action: 'ban', jail, target, time, duration, origin: 'scorer' };
}
function unban(target: string, jail = 'sshd'): Decision {
  return { v: 1, id: `t${++seq}`, action: 'unban', jail, target, time: Date.now(), origin: 'manual' };
}
async function publish(js: JetStreamClient, prefix: string, d: Decision): Promise<void> {
  await js.publish(`${prefix}.${d.action}.${d.jail}`, decisionCodec.encode(d));
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const adds = (records: DryRunRecord[]) => records.flatMap((r) => (r.op === 'add' ? [`${r.set} ${r.target}`] : []));
const commits = (records: DryRunRecord[]) => records.filter((r) => r.op === 'commit');

async function ensureStreams(prefix: string): Promise<void> {
  // Starting an enforcer once creates the streams; a part with no permission would find them made by a scorer.
  const e = await enforcer(prefix);
  await until(e.running, 'the enforcer to start');
  assert.equal(await e.stop(), 0);
}

describe('the enforcer on NATS, with the dry-run backend', () => {
  test('started after decisions were published, it applies exactly the bans in force, in one batch', async () => {
    const prefix = 'svc1';
    await ensureStreams(prefix);
    const { nc, js } = await client();
    const now = Date.now();
    const expected = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const ip = `198.51.100.${i}`;
      if (i % 4 === 0) {
        await publish(js, prefix, ban(ip, now - 2 * HOUR, HOUR)); // expired
      } else if (i % 4 === 1) {
        await publish(js, prefix, ban(ip, now, HOUR));
        await publish(js, prefix, unban(ip)); // cancelled
      } else if (i % 4 === 2) {
        await publish(js, prefix, ban(ip, now, PERMANENT));
        expected.add(`sshd ${ip}`);
      } else {
        await publish(js, prefix, ban(ip, now, HOUR, 'manual'));
        expected.add(`* ${ip}`);
      }
    }
    await publish(js, prefix, unban('198.51.100.2')); // a permanent ban can be lifted too
    expected.delete('sshd 198.51.100.2');
    const e = await enforcer(prefix);
    await until(e.running, 'the enforcer to start');
    const first = commits(e.dry.records);
    assert.equal(first.length, 1, 'one batch on start');
    assert.deepEqual(new Set(adds(e.dry.records)), expected);
    assert.deepEqual(first[0], { op: 'commit', added: expected.size, deleted: 0 });
    assert.ok(e.lines.some((l) => l.msg === 'decisions stream replayed' && l.decisions === 51));
    assert.equal(await e.stop(), 0);
    assert.deepEqual(e.dry.records.at(-1), { op: 'close' }, 'stopping leaves the kernel entries in place');
    assert.ok(!e.dry.records.some((r) => r.op === 'delete'));
    await drainNats(nc);
  });

  test('live decisions are applied in small batches; an unban deletes; the service API shows the entries', async () => {
    const prefix = 'svc2';
    const e = await enforcer(prefix);
    await until(e.running, 'the enforcer to start');
    const { nc, js } = await client();
    await Promise.all(['192.0.2.10', '192.0.2.11', '192.0.2.12'].map((ip) => publish(js, prefix, ban(ip, Date.now(), HOUR))));
    await until(() => adds(e.dry.records).length === 3, 'three adds');
    assert.ok(commits(e.dry.records).length <= 3);
    await publish(js, prefix, unban('192.0.2.11'));
    await until(() => e.dry.records.some((r) => r.op === 'delete' && r.target === '192.0.2.11'), 'the delete');
    const answer = (await nc.request(`${prefix}.svc.enforcer.entries`, '', { timeout: 2000 })).json<{ total: number; entries: Array<{ target: string }> }>();
    assert.equal(answer.total, 2);
    assert.deepEqual(answer.entries.map((x) => x.target).sort(), ['192.0.2.10', '192.0.2.12']);
    assert.match(await e.metrics().registry.getSingleMetricAsString('fleetban_enforcer_entries'), /fleetban_enforcer_entries\{backend="dry-run",jail="sshd"\} 2/);
    const latency = await e.metrics().registry.getSingleMetric('fleetban_enforcer_apply_latency_seconds')!.get();
    assert.ok((latency.values as Array<{ metricName?: string; value: number }>).some((v) => v.metricName?.endsWith('_count') && v.value >= 4), 'each live change is timed');
    await drainNats(nc);
    assert.equal(await e.stop(), 0);
  });

  test('malformed decisions and allowlisted targets never reach the backend, and are counted', async () => {
    const prefix = 'svc3';
    const e = await enforcer(prefix);
    await until(e.running, 'the enforcer to start');
    const { nc, js } = await client();
    const bad = {
      notJson: 'not json at all',
      wrongVersion: JSON.stringify({ ...ban('192.0.2.20', Date.now(), HOUR), v: 2 }),
      badAddress: JSON.stringify({ ...ban('192.0.2.22', Date.now(), HOUR), target: '192.0.2.300' }),
    };
    for (const body of Object.values(bad)) await js.publish(`${prefix}.ban.sshd`, body);
    await js.publish(`${prefix}.ban.other`, decisionCodec.encode(ban('192.0.2.23', Date.now(), HOUR, 'sshd')));
    await publish(js, prefix, ban('192.0.2.200', Date.now(), HOUR));
    await publish(js, prefix, ban('127.0.0.1', Date.now(), HOUR, 'manual'));
    // Another spelling is not malformed: the one address parser reads it (loopback in it is still refused).
    await js.publish(`${prefix}.ban.sshd`, JSON.stringify({ ...ban('192.0.2.21', Date.now(), HOUR), target: '::ffff:192.0.2.21' }));
    await publish(js, prefix, ban('192.0.2.99', Date.now(), HOUR));
    await until(() => adds(e.dry.records).includes('sshd 192.0.2.99'), 'the marker ban');
    assert.deepEqual(adds(e.dry.records), ['sshd 192.0.2.21', 'sshd 192.0.2.99']);
    const stats = (await nc.request(`${prefix}.svc.enforcer.stats`, '', { timeout: 2000 })).json<{ invalid: number; refused: Record<string, number> }>();
    assert.equal(stats.invalid, 4);
    assert.deepEqual(stats.refused, { allowlisted: 2 });
    const refused = await e.metrics().registry.getSingleMetricAsString('fleetban_enforcer_decisions_refused_total');
    assert.match(refused, /fleetban_enforcer_decisions_refused_total\{reason="allowlisted",jail="sshd"\} 1/);
    assert.ok(e.lines.some((l) => l.msg === 'ban refused before the firewall' && l.target === '192.0.2.200'));
    await drainNats(nc);
    assert.equal(await e.stop(), 0);
  });

  test('after a NATS outage it catches up from where it was, without replaying what it had', async () => {
    const prefix = 'svc4';
    const e = await enforcer(prefix);
    await until(e.running, 'the enforcer to start');
    let { nc, js } = await client();
    await publish(js, prefix, ban('192.0.2.30', Date.now(), HOUR));
    await until(() => adds(e.dry.records).includes('sshd 192.0.2.30'), 'the first ban');
    await drainNats(nc);
    await nats.stop();
    await new Promise((r) => setTimeout(r, 500));
    await nats.start();
    ({ nc, js } = await client());
    await publish(js, prefix, ban('192.0.2.31', Date.now(), HOUR));
    await until(() => adds(e.dry.records).includes('sshd 192.0.2.31'), 'the ban published after the outage', 30_000);
    assert.deepEqual(adds(e.dry.records), ['sshd 192.0.2.30', 'sshd 192.0.2.31']);
    await drainNats(nc);
    assert.equal(await e.stop(), 0);
  });
});
