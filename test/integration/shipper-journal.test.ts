import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { drainNats } from '../../shared/nats/index.ts';
import { Journald, journaldSkipReason, NatsServer, streamCount, tempDir } from '../harness/index.ts';
import { natsClient, shipperConfig, shipperInProcess, storedFailures, until } from './shipper-support.ts';

const skip = journaldSkipReason();

/** What sshd would log, without the date: the journal keeps the time itself. */
const message = (user: string, ip: string) => `Failed password for ${user} from ${ip} port 22 ssh2`;

describe('shipping from journald', () => {
  test('entries matching the filter journalmatch are published once, and a restart resumes after the saved cursor', { skip }, async () => {
    const journald = await Journald.start();
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const config = shipperConfig(dir.path, nats.url, { j: { backend: 'systemd' } }, { shipper: { journal: { directory: journald.directory } } });
    const nc = await natsClient(nats.url);
    const count = () => streamCount(nc, 'fleetban_failures');
    try {
      await journald.log('fleetban-test', [message('before-start', '192.0.2.40')]);
      let shipper = shipperInProcess(config);
      await until('the journal source', () => nc.request('fleetban.svc.shipper.streams', '', { timeout: 500 }).then((m) => m.json<unknown[]>().length === 1, () => false));
      await journald.log('fleetban-test', Array.from({ length: 10 }, (_, i) => message(`j${i}`, `192.0.2.${50 + i}`)));
      await journald.log('another-daemon', [message('other', '192.0.2.99')]);
      await until('10 failures', async () => (await count()) === 10);
      assert.equal(await shipper.stop(), 0);

      await journald.log('fleetban-test', Array.from({ length: 5 }, (_, i) => message(`down${i}`, `192.0.2.${70 + i}`)));
      shipper = shipperInProcess(config);
      await until('15 failures', async () => (await count()) === 15);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(await shipper.stop(), 0);

      const stored = await storedFailures(nc);
      assert.equal(stored.length, 15);
      assert.deepEqual(stored.map((e) => e.user).sort(), [...Array.from({ length: 5 }, (_, i) => `down${i}`), ...Array.from({ length: 10 }, (_, i) => `j${i}`)].sort());
      assert.equal(new Set(stored.map((e) => e.msgId)).size, 15);
      for (const e of stored) {
        assert.equal(e.source, 'journal');
        assert.ok(Math.abs(e.time - Date.now()) < 120_000, 'the time is the entry time');
      }
    } finally {
      await drainNats(nc);
      await nats.dispose();
      await journald.stop();
      dir.remove();
    }
  });

  test('a journalctl that dies is started again after the last entry read: nothing lost, nothing twice', { skip }, async () => {
    const journald = await Journald.start();
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const config = shipperConfig(dir.path, nats.url, { j: { backend: 'systemd' } }, { shipper: { journal: { directory: journald.directory } } });
    const nc = await natsClient(nats.url);
    const count = () => streamCount(nc, 'fleetban_failures');
    const shipper = shipperInProcess(config);
    try {
      await until('the journal source', () => nc.request('fleetban.svc.shipper.streams', '', { timeout: 500 }).then((m) => m.json<unknown[]>().length === 1, () => false));
      await journald.log('fleetban-test', Array.from({ length: 5 }, (_, i) => message(`a${i}`, `192.0.2.${50 + i}`)));
      await until('5 failures', async () => (await count()) === 5);
      const child = journalctlChild();
      assert.ok(child, 'the shipper runs journalctl as its child');
      process.kill(child, 'SIGKILL');
      await journald.log('fleetban-test', Array.from({ length: 5 }, (_, i) => message(`b${i}`, `192.0.2.${60 + i}`)));
      await until('10 failures', async () => (await count()) === 10);
      await until('a new journalctl', () => { const c = journalctlChild(); return c !== undefined && c !== child; });
      await new Promise((r) => setTimeout(r, 1000));
      const stored = await storedFailures(nc);
      assert.equal(stored.length, 10);
      assert.equal(new Set(stored.map((e) => e.user)).size, 10);
    } finally {
      await shipper.stop().catch(() => undefined);
      await drainNats(nc);
      await nats.dispose();
      await journald.stop();
      dir.remove();
    }
  });
});

/** The journalctl this test process started (through the in-process shipper), by its parent PID. */
function journalctlChild(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'journalctl' && ppid === process.pid) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
