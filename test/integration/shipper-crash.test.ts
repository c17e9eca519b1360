import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { drainNats } from '../../shared/nats/index.ts';
import { freePort, NatsServer, stopProcess, streamCount, tempDir, type Started } from '../harness/index.ts';
import { failLine, natsClient, sample, shipperConfig, shipperProcess, storedFailures, until } from './shipper-support.ts';

const ip = (i: number) => `198.51.100.${1 + (i % 200)}`;

/** Appends `total` failure lines, `perTick` every `everyMs`; `onTick` sees how many were written. */
async function writeSteadily(log: string, total: number, perTick: number, everyMs: number, onTick: (written: number) => Promise<void> | void = () => undefined): Promise<void> {
  for (let written = 0; written < total; ) {
    let chunk = '';
    for (let i = 0; i < perTick && written < total; i++, written++) chunk += failLine(`u${written}`, ip(written));
    appendFileSync(log, chunk);
    await onTick(written);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function assertExactlyOnce(nc: Awaited<ReturnType<typeof natsClient>>, total: number): Promise<void> {
  await until(`${total} failures in the stream`, async () => (await streamCount(nc, 'fleetban_failures')) >= total, 90_000);
  await new Promise((r) => setTimeout(r, 1500));
  const stored = await storedFailures(nc);
  assert.equal(stored.length, total, 'nothing duplicated');
  assert.equal(new Set(stored.map((e) => e.msgId)).size, total);
  const users = new Set(stored.map((e) => e.user));
  const missing = Array.from({ length: total }, (_, i) => `u${i}`).filter((u) => !users.has(u));
  assert.deepEqual(missing, [], 'nothing lost');
}

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

describe('the shipper process across crashes and outages', () => {
  test('killed with SIGKILL mid-stream and restarted, it loses no failure and the stream holds none twice', async (t) => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const log = join(dir.path, 'auth.log');
    writeFileSync(log, '');
    const metricsPort = await freePort();
    const config = shipperConfig(dir.path, nats.url, { t: { logpath: log } }, { log: { level: 'info' }, metrics: { listen: `127.0.0.1:${metricsPort}` }, shipper: { positionInterval: '1s', maxInFlight: 256 } });
    const nc = await natsClient(nats.url);
    let shipper: Started | undefined = await shipperProcess(config);
    try {
      const total = 4000;
      let killedAt = -1;
      await writeSteadily(log, total, 100, 25, async (written) => {
        if (killedAt < 0 && written >= 1500) {
          // Mid-stream: some failures are stored, others are in flight or unread.
          await until('the first failures stored', async () => (await streamCount(nc, 'fleetban_failures')) > 0);
          killedAt = await streamCount(nc, 'fleetban_failures');
          await stopProcess(shipper!.child, 'SIGKILL');
        }
      });
      assert.ok(killedAt > 0 && killedAt < total, `killed mid-stream (${killedAt} of ${total} published)`);
      shipper = await shipperProcess(config);
      await assertExactlyOnce(nc, total);
      const duplicates = sample(await metricsText(metricsPort), 'fleetban_shipper_failures_duplicate_total', 'jail="t"') ?? 0;
      t.diagnostic(`after the restart, ${duplicates} failures were read again and dropped by JetStream as duplicates`);
    } finally {
      if (shipper) await stopProcess(shipper.child, 'SIGKILL');
      await drainNats(nc);
      await nats.dispose();
      dir.remove();
    }
  });

  test('stopped with SIGTERM it acknowledges what is in flight and saves its position, so a restart reads nothing twice', async () => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const log = join(dir.path, 'auth.log');
    writeFileSync(log, '');
    const metricsPort = await freePort();
    const config = shipperConfig(dir.path, nats.url, { t: { logpath: log } }, { log: { level: 'info' }, metrics: { listen: `127.0.0.1:${metricsPort}` }, shipper: { positionInterval: '1h' } });
    const nc = await natsClient(nats.url);
    let shipper: Started | undefined = await shipperProcess(config);
    try {
      await writeSteadily(log, 500, 100, 10);
      await until('500 failures', async () => (await streamCount(nc, 'fleetban_failures')) === 500);
      await stopProcess(shipper.child, 'SIGTERM');
      assert.equal(shipper.child.exitCode, 0);
      const saved = JSON.parse(readFileSync(join(dir.path, 'state', 'shipper', 't.json'), 'utf8')) as { streams: Record<string, { offset: number }> };
      assert.deepEqual(Object.values(saved.streams).map((s) => s.offset), [readFileSync(log).length]);
      shipper = await shipperProcess(config);
      appendFileSync(log, failLine('after', '192.0.2.77'));
      await until('501 failures', async () => (await streamCount(nc, 'fleetban_failures')) === 501);
      const metrics = await metricsText(metricsPort);
      assert.equal(sample(metrics, 'fleetban_shipper_lines_read_total', 'jail="t"'), 1);
      assert.equal(sample(metrics, 'fleetban_shipper_failures_duplicate_total', 'jail="t"') ?? 0, 0);
    } finally {
      if (shipper) await stopProcess(shipper.child, 'SIGKILL');
      await drainNats(nc);
      await nats.dispose();
      dir.remove();
    }
  });

  test('NATS stopped for several seconds under steady writing: the shipper keeps running, stops reading with bounded memory, and then ships every failure exactly once', async (t) => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const log = join(dir.path, 'auth.log');
    writeFileSync(log, '');
    const metricsPort = await freePort();
    const maxInFlight = 32;
    const config = shipperConfig(dir.path, nats.url, { t: { logpath: log } }, { log: { level: 'info' }, metrics: { listen: `127.0.0.1:${metricsPort}` }, shipper: { maxInFlight } });
    const nc = await natsClient(nats.url);
    const shipper = await shipperProcess(config);
    const pid = shipper.child.pid!;
    try {
      const total = 2400;
      const during: Array<{ inFlight: number; paused: number; behind: number; rss: number }> = [];
      let outage: Promise<void> | undefined;
      await writeSteadily(log, total, 20, 100, (written) => {
        if (written === 400) {
          outage = (async () => {
            await nats.stop();
            const until = Date.now() + 6000;
            while (Date.now() < until) {
              const text = await metricsText(metricsPort);
              during.push({
                inFlight: sample(text, 'fleetban_shipper_publishes_in_flight') ?? -1,
                paused: sample(text, 'fleetban_shipper_reading_paused') ?? -1,
                behind: sample(text, 'fleetban_shipper_file_behind_bytes', `jail="t",path="${log}"`) ?? -1,
                rss: rssBytes(pid),
              });
              await new Promise((r) => setTimeout(r, 250));
            }
            await nats.start();
          })();
        }
      });
      await outage;
      assert.equal(shipper.child.exitCode, null, 'the shipper is still running');
      assert.ok(during.length > 10);
      assert.ok(during.every((d) => d.inFlight >= 0 && d.inFlight <= maxInFlight), `in flight stays within ${maxInFlight}: ${during.map((d) => d.inFlight).join(',')}`);
      assert.ok(during.some((d) => d.paused === 1), 'reading paused was reported');
      const behind = during.map((d) => d.behind);
      assert.ok(behind[behind.length - 1]! > behind[0]! && behind[behind.length - 1]! > 0, `unread bytes grow while NATS is down: ${behind.join(',')}`);
      const peak = Math.max(...during.map((d) => d.rss));
      t.diagnostic(`during the outage: in flight ${Math.max(...during.map((d) => d.inFlight))} at most, unread bytes up to ${behind[behind.length - 1]}, peak RSS ${Math.round(peak / 1048576)} MiB`);
      assert.ok(peak < 300 * 1024 * 1024, `resident memory stays bounded (peak ${Math.round(peak / 1048576)} MiB)`);
      const reconnected = await natsClient(nats.url);
      try {
        await assertExactlyOnce(reconnected, total);
      } finally {
        await drainNats(reconnected);
      }
      assert.equal(shipper.child.exitCode, null, 'the shipper is still running');
    } finally {
      await stopProcess(shipper.child, 'SIGKILL');
      await drainNats(nc).catch(() => undefined);
      await nats.dispose();
      dir.remove();
    }
  });
});
