import assert from 'node:assert/strict';
import { once } from 'node:events';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { drainNats } from '../../shared/nats/index.ts';
import { STOP_FLUSH_MS } from '../../shared/runtime/part.ts';
import { BIN, NatsServer, RedisServer, startTracked, stopProcess, streamCount, tempDir, waitForOutput, type Started } from '../harness/index.ts';
import { failLine, FILTER, FILTER_DIR, natsClient, shipperConfig, shipperProcess, storedFailures, until } from './shipper-support.ts';

const ip = (i: number) => `198.51.100.${1 + (i % 200)}`;

function failures(from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += failLine(`u${i}`, ip(i));
  return out;
}

/**
 * Sends SIGTERM and resolves with the exit code, or rejects when the process
 * is still there after `budgetMs`: what "stops promptly" means for a part
 * whose NATS is gone (nothing can be flushed, nothing is waited for).
 */
async function terminate(started: Started, budgetMs: number): Promise<number | null> {
  const exited = once(started.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  process.kill(started.child.pid!, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${budgetMs} ms after SIGTERM:\n${started.output().slice(-1500)}`)), budgetMs);
  });
  try {
    const [code] = await Promise.race([exited, late]);
    return code;
  } finally {
    clearTimeout(timer);
    await stopProcess(started.child, 'SIGKILL');
  }
}

/**
 * The budget a part gets to exit after SIGTERM with NATS gone: the old code
 * took 15-16 s (scorer, enforcer) and stopTimeout + 5 s (shipper). The
 * scorer's own stop has bounds of its own (about 3 s with NATS down).
 */
const PROMPT_MS = STOP_FLUSH_MS + 3000;

describe('stopping with NATS unreachable', () => {
  test('a piped shipper whose NATS is away at the end of input waits for it, then ships all 500 failures and exits 0', async () => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const nc0 = await natsClient(nats.url);
    await drainNats(nc0);
    try {
      const config = shipperConfig(dir.path, nats.url, { piped: { logpath: '-' } }, { log: { level: 'info' } });
      const shipper = startTracked(BIN, ['shipper', '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
      await waitForOutput(shipper, /fleetban shipper running/, 60_000, 'fleetban shipper');
      await nats.stop();
      shipper.child.stdin!.end(failures(0, 500));
      await waitForOutput(shipper, /waiting until every failure is acknowledged/, 30_000, 'the shipper at end of input');
      assert.equal(shipper.child.exitCode, null, `it must not exit while failures are unpublished:\n${shipper.output().slice(-1500)}`);
      assert.doesNotMatch(shipper.output(), /TimeoutOverflowWarning/);
      await nats.start();
      const [code] = (await once(shipper.child, 'exit')) as [number | null];
      assert.equal(code, 0, shipper.output().slice(-1500));
      const nc = await natsClient(nats.url);
      try {
        const stored = await storedFailures(nc);
        assert.equal(stored.length, 500);
        assert.equal(new Set(stored.map((e) => e.user)).size, 500);
      } finally {
        await drainNats(nc);
      }
    } finally {
      await nats.dispose();
      dir.remove();
    }
  });

  test('a piped shipper stopped while its failures are unpublished exits 69, not 0, and promptly', async () => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    try {
      const config = shipperConfig(dir.path, nats.url, { piped: { logpath: '-' } }, { log: { level: 'info' } });
      const shipper = startTracked(BIN, ['shipper', '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
      await waitForOutput(shipper, /fleetban shipper running/, 60_000, 'fleetban shipper');
      await nats.stop();
      shipper.child.stdin!.end(failures(0, 50));
      await waitForOutput(shipper, /waiting until every failure is acknowledged/, 30_000, 'the shipper at end of input');
      assert.equal(await terminate(shipper, PROMPT_MS), 69, shipper.output().slice(-1500));
      assert.match(shipper.output(), /work not done/);
    } finally {
      await nats.dispose();
      dir.remove();
    }
  });

  test('a file shipper with failures in flight exits promptly on SIGTERM, and a restart publishes what was unpublished, once each', async () => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const log = join(dir.path, 'auth.log');
    writeFileSync(log, '');
    try {
      const config = shipperConfig(dir.path, nats.url, { t: { logpath: log } }, { log: { level: 'info' }, shipper: { maxInFlight: 8 } });
      let nc = await natsClient(nats.url);
      const first = await shipperProcess(config);
      appendFileSync(log, failures(0, 20));
      await until('20 failures stored', async () => (await streamCount(nc, 'fleetban_failures')) === 20);
      await drainNats(nc);
      await nats.stop();
      appendFileSync(log, failures(20, 60));
      await waitForOutput(first, /reading paused/, 30_000, 'the shipper pausing');
      assert.equal(await terminate(first, PROMPT_MS), 0, first.output().slice(-1500));
      await nats.start();
      const second = await shipperProcess(config);
      nc = await natsClient(nats.url);
      try {
        await until('60 failures stored', async () => (await streamCount(nc, 'fleetban_failures')) >= 60, 60_000);
        await new Promise((r) => setTimeout(r, 1000));
        const stored = await storedFailures(nc);
        assert.equal(stored.length, 60, 'each failure stored once');
        assert.deepEqual(new Set(stored.map((e) => e.user)), new Set(Array.from({ length: 60 }, (_, i) => `u${i}`)));
      } finally {
        await drainNats(nc);
        await stopProcess(second.child);
      }
    } finally {
      await nats.dispose();
      dir.remove();
    }
  });

  for (const part of ['scorer', 'enforcer'] as const) {
    test(`the ${part} exits promptly on SIGTERM while NATS is down`, async () => {
      const nats = await NatsServer.start();
      const redis = part === 'scorer' ? await RedisServer.start() : undefined;
      const dir = tempDir(`fleetban-${part}`);
      try {
        const file = join(dir.path, 'fleetban.yaml');
        writeFileSync(file, stringify({
          host: 'web-1',
          stateDir: join(dir.path, 'state'),
          // The default reconnectWait: the old code took 15 s to stop with it.
          nats: { servers: [nats.url] },
          ...(redis && { redis: { nodes: [redis.node] } }),
          enforcer: { backend: 'dry-run' },
          log: { level: 'info' },
          filters: { dirs: [FILTER_DIR] },
          jails: { t: { filter: FILTER, logpath: '/dev/null' } },
        }));
        const started = startTracked(BIN, [part, '--config', file]);
        await waitForOutput(started, new RegExp(`fleetban ${part} running`), 60_000, part);
        await nats.stop();
        await waitForOutput(started, /disconnected from NATS/, 30_000, part);
        // Into the reconnect attempts, as an outage of a few seconds is.
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(await terminate(started, PROMPT_MS), 0, started.output().slice(-1500));
      } finally {
        await redis?.dispose();
        await nats.dispose();
        dir.remove();
      }
    });
  }
});
