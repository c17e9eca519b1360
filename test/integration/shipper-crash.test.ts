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

/** The `msg` of every JSON log line in a process's output. */
function logMessages(output: string): string[] {
  return output.split('\n').flatMap((line) => {
    try {
      return [String((JSON.parse(line) as { msg?: unknown }).msg)];
    } catch {
      return [];
    }
  });
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
      await writeSteadily(log, total, 20, 100, async (written) => {
        if (written === 400) {
          // Writing waits here until all that was written is acknowledged, so
          // nothing is in flight when the server goes away.
          await until('the first 400 acknowledged', async () => (await streamCount(nc, 'fleetban_failures')) === 400 && sample(await metricsText(metricsPort), 'fleetban_shipper_publishes_in_flight') === 0);
          await nats.stop();
          outage = (async () => {
            const end = Date.now() + 6000;
            while (Date.now() < end) {
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
      const metrics = await metricsText(metricsPort);
      assert.equal(sample(metrics, 'fleetban_shipper_lines_matched_total', 'jail="t"'), total);
      assert.equal(sample(metrics, 'fleetban_shipper_failures_published_total', 'jail="t"'), total);
      // While disconnected the shipper hands nothing to the client: publishes wait, none is sent, so none fails.
      assert.equal(sample(metrics, 'fleetban_shipper_publish_errors_total'), 0);
      const logged = logMessages(shipper.output());
      assert.ok(logged.includes('NATS unreachable: reading paused; the logs hold the lines until it is back'), logged.join('\n'));
      assert.ok(logged.indexOf('reading resumed') > logged.indexOf('NATS unreachable: reading paused; the logs hold the lines until it is back'), 'reading resumed after the pause');
      assert.ok(!logged.some((m) => m.startsWith('publishing failed')), 'no publish failed');
    } finally {
      await stopProcess(shipper.child, 'SIGKILL');
      await drainNats(nc).catch(() => undefined);
      await nats.dispose();
      dir.remove();
    }
  });

  test('NATS frozen (SIGSTOP) under steady writing: publishes time out and are counted, reading pauses, and once it runs again every failure is stored exactly once', async (t) => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const log = join(dir.path, 'auth.log');
    writeFileSync(log, '');
    const metricsPort = await freePort();
    const config = shipperConfig(dir.path, nats.url, { t: { logpath: log } }, { log: { level: 'info' }, metrics: { listen: `127.0.0.1:${metricsPort}` }, shipper: { maxInFlight: 32 } });
    const nc = await natsClient(nats.url);
    const shipper = await shipperProcess(config);
    const natsPid = nats.pid!;
    let frozen = false;
    try {
      const total = 600;
      let freeze: Promise<void> | undefined;
      await writeSteadily(log, total, 20, 100, async (written) => {
        if (written === 200) {
          await until('the first 200 acknowledged', async () => (await streamCount(nc, 'fleetban_failures')) === 200 && sample(await metricsText(metricsPort), 'fleetban_shipper_publishes_in_flight') === 0);
          // The connection stays open but nothing answers: each publish waits for its ack until publishTimeout.
          process.kill(natsPid, 'SIGSTOP');
          frozen = true;
          freeze = (async () => {
            await until('publish errors and reading paused', async () => {
              const text = await metricsText(metricsPort);
              return (sample(text, 'fleetban_shipper_publish_errors_total') ?? 0) > 0 && sample(text, 'fleetban_shipper_reading_paused') === 1;
            });
            process.kill(natsPid, 'SIGCONT');
            frozen = false;
          })();
        }
      });
      await freeze;
      await assertExactlyOnce(nc, total);
      assert.equal(shipper.child.exitCode, null, 'the shipper is still running');
      const metrics = await metricsText(metricsPort);
      const errors = sample(metrics, 'fleetban_shipper_publish_errors_total')!;
      assert.ok(errors > 0, 'the timed-out publishes are counted');
      assert.equal(sample(metrics, 'fleetban_shipper_lines_matched_total', 'jail="t"'), total);
      // A retry of a message whose first copy JetStream did store is acknowledged as a duplicate, and counted as published.
      const published = sample(metrics, 'fleetban_shipper_failures_published_total', 'jail="t"')!;
      const duplicates = sample(metrics, 'fleetban_shipper_failures_duplicate_total', 'jail="t"') ?? 0;
      assert.equal(published, total, 'every failure counted as published once, retried or not');
      assert.equal(duplicates, 0, 'no line was read twice');
      t.diagnostic(`${errors} publish attempts failed and were retried`);
      const logged = logMessages(shipper.output());
      const paused = logged.indexOf('JetStream is slow: reading paused until publishes are acknowledged');
      assert.ok(paused >= 0, logged.join('\n'));
      assert.ok(logged.indexOf('reading resumed') > paused, 'reading resumed after the pause');
      assert.ok(logged.includes('publishing failed; retrying with the same message ids until JetStream acknowledges'));
      assert.ok(logged.includes('publishing recovered'));
    } finally {
      if (frozen) process.kill(natsPid, 'SIGCONT');
      await stopProcess(shipper.child, 'SIGKILL');
      await drainNats(nc).catch(() => undefined);
      await nats.dispose();
      dir.remove();
    }
  });
});
