import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { drainNats } from '../../shared/nats/index.ts';
import { fail2banPackageDir } from '../../shared/filter/index.ts';
import { hostAddresses } from '../../shared/ip/index.ts';
import { BIN, freePort, NatsServer, startTracked, tempDir } from '../harness/index.ts';
import { failLine, natsClient, otherLine, sample, shipperConfig, shipperInProcess, storedFailures, until } from './shipper-support.ts';
import { streamCount } from '../harness/index.ts';

const ip = (i: number) => `192.0.2.${10 + (i % 200)}`;

/** Failure lines u<from>..u<to-1>, each followed by a line the filter does not match unless `bare`. */
function failures(from: number, to: number, bare = false): string {
  let out = '';
  for (let i = from; i < to; i++) out += failLine(`u${i}`, ip(i)) + (bare ? '' : otherLine(i));
  return out;
}

describe('shipping a log file into the failures stream', () => {
  test('every failure arrives exactly once across rename rotation, copytruncate, truncation, delete-and-recreate and a line written in two parts', async () => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const log = join(dir.path, 'auth.log');
    writeFileSync(log, otherLine(0));
    const shipper = shipperInProcess(shipperConfig(dir.path, nats.url, { t: { logpath: log } }));
    const nc = await natsClient(nats.url);
    const count = () => streamCount(nc, 'fleetban_failures');
    try {
      await until('the shipper tailing the file', async () => (await count()) === 0 && (await nc.request('fleetban.svc.shipper.streams', '', { timeout: 500 }).then((m) => (m.json<unknown[]>()).length === 1, () => false)));
      appendFileSync(log, failures(0, 20));
      await until('20 failures', async () => (await count()) === 20);

      // Rename rotation while the writer is still writing to the old file.
      appendFileSync(log, failures(20, 30));
      renameSync(log, `${log}.1`);
      appendFileSync(`${log}.1`, failures(30, 35));
      writeFileSync(log, failures(35, 45));
      await until('45 failures', async () => (await count()) === 45);

      // copytruncate, as logrotate does it. What follows a truncation is
      // shorter than what was there, as right after a real one.
      copyFileSync(log, `${log}.2`);
      truncateSync(log, 0);
      appendFileSync(log, failures(45, 55, true));
      await until('55 failures', async () => (await count()) === 55);

      // Truncation in place to a shorter, non-empty size.
      truncateSync(log, 10);
      appendFileSync(log, `\n${failures(55, 60, true)}`);
      await until('60 failures', async () => (await count()) === 60);
      appendFileSync(log, failures(60, 65, true));
      await until('65 failures', async () => (await count()) === 65);

      // Delete and recreate.
      rmSync(log);
      await new Promise((r) => setTimeout(r, 300));
      writeFileSync(log, failures(65, 75));
      await until('75 failures', async () => (await count()) === 75);

      // One line written in two parts.
      const line = failLine('u75', ip(75));
      appendFileSync(log, line.slice(0, 30));
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(await count(), 75, 'half a line is not matched');
      appendFileSync(log, line.slice(30));
      await until('76 failures', async () => (await count()) === 76);
      await new Promise((r) => setTimeout(r, 1000));

      const stored = await storedFailures(nc);
      assert.equal(stored.length, 76);
      assert.deepEqual(stored.map((e) => e.user).sort(), Array.from({ length: 76 }, (_, i) => `u${i}`).sort());
      assert.equal(new Set(stored.map((e) => e.msgId)).size, 76);
      for (const e of stored) {
        assert.equal(e.msgId, e.id);
        assert.equal(e.subject, 'fleetban.fail.t');
        assert.equal(e.host, 'web-1');
        assert.equal(e.ip, ip(Number(e.user!.slice(1))));
      }
      assert.equal(await shipper.stop(), 0);
    } finally {
      await shipper.stop().catch(() => undefined);
      await drainNats(nc);
      await nats.dispose();
      dir.remove();
    }
  });

  test('allowlisted addresses and lines older than findtime are not published; the service API and metrics count what happened', async () => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const log = join(dir.path, 'auth.log');
    writeFileSync(log, '');
    const metricsPort = await freePort();
    const own = hostAddresses().find((a) => !a.startsWith('127.') && a !== '::1');
    const shipper = shipperInProcess(shipperConfig(dir.path, nats.url, { t: { logpath: log, ignoreip: '192.0.2.99 203.0.113.0/24', findtime: '10m' } }, { metrics: { listen: `127.0.0.1:${metricsPort}` } }));
    const nc = await natsClient(nats.url);
    try {
      await until('the shipper tailing the file', () => nc.request('fleetban.svc.shipper.streams', '', { timeout: 500 }).then((m) => m.json<unknown[]>().length === 1, () => false));
      let text = '';
      for (let i = 0; i < 5; i++) {
        text += failLine(`ignored${i}`, '192.0.2.99');
        text += failLine(`net${i}`, `203.0.113.${i + 1}`);
        text += failLine(`loop${i}`, '127.0.0.1');
        text += failLine(`loop6${i}`, '::1');
        if (own) text += failLine(`own${i}`, own);
        text += failLine(`old${i}`, '192.0.2.50', Date.now() - 11 * 60_000);
        text += failLine(`good${i}`, '192.0.2.51');
      }
      appendFileSync(log, text);
      await until('5 failures', async () => (await streamCount(nc, 'fleetban_failures')) === 5);
      await new Promise((r) => setTimeout(r, 1000));
      const stored = await storedFailures(nc);
      assert.deepEqual(stored.map((e) => e.user).sort(), ['good0', 'good1', 'good2', 'good3', 'good4']);

      const stats = await nc.request('fleetban.svc.shipper.stats', '', { timeout: 2000 }).then((m) => m.json<{ jails: Record<string, Record<string, number>> }>());
      const dropped = 5 * (own ? 6 : 5);
      assert.equal(stats.jails.t!.published, 5);
      assert.equal(stats.jails.t!.dropped, dropped);
      assert.equal(stats.jails.t!.linesRead, 5 * (own ? 7 : 6));

      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.equal(sample(metrics, 'fleetban_shipper_failures_published_total', 'jail="t"'), 5);
      assert.equal(sample(metrics, 'fleetban_shipper_failures_dropped_total', 'jail="t",reason="too_old"'), 5);
      assert.equal(sample(metrics, 'fleetban_shipper_failures_dropped_total', 'jail="t",reason="allowlisted"'), dropped - 5);
      assert.equal(sample(metrics, 'fleetban_shipper_lines_read_total', 'jail="t"'), 5 * (own ? 7 : 6));
      assert.equal(sample(metrics, 'fleetban_shipper_lines_matched_total', 'jail="t"'), 5 * (own ? 7 : 6), 'the filter matches every line; the gate drops them after');
      assert.equal(sample(metrics, 'fleetban_shipper_file_behind_bytes', `jail="t",path="${log}"`), 0);
      assert.equal(sample(metrics, 'fleetban_shipper_publishes_in_flight'), 0);
      assert.equal(await shipper.stop(), 0);
    } finally {
      await shipper.stop().catch(() => undefined);
      await drainNats(nc);
      await nats.dispose();
      dir.remove();
    }
  });

  test('`logpath = FILE head` reads a file that exists at start from its beginning, a file without it from its end, and a restart resumes both where they stopped', async () => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const head = join(dir.path, 'head.log');
    const tail = join(dir.path, 'tail.log');
    writeFileSync(head, failures(0, 3));
    writeFileSync(tail, failures(100, 103));
    const metricsPort = await freePort();
    const config = shipperConfig(dir.path, nats.url, { t: { logpath: `${head} head\n${tail}` } }, { metrics: { listen: `127.0.0.1:${metricsPort}` } });
    const metric = async (name: string) => sample(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), name, 'jail="t"');
    let shipper = shipperInProcess(config);
    const nc = await natsClient(nats.url);
    const users = async () => (await storedFailures(nc)).map((e) => e.user).sort();
    const bothTailed = (what: string) => until(what, () => nc.request('fleetban.svc.shipper.streams', '', { timeout: 500 }).then((m) => m.json<unknown[]>().length === 2, () => false));
    try {
      await bothTailed('both files tailed');
      await until('the head file read', async () => (await streamCount(nc, 'fleetban_failures')) === 3);
      appendFileSync(head, failures(3, 5));
      appendFileSync(tail, failures(103, 105));
      await until('7 failures', async () => (await streamCount(nc, 'fleetban_failures')) === 7);
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(await users(), ['u0', 'u1', 'u103', 'u104', 'u2', 'u3', 'u4'], 'the head file from its first line, the other from where it ended');
      // Each failure line is followed by one the filter does not match.
      assert.equal(await metric('fleetban_shipper_lines_read_total'), 14);
      assert.equal(await metric('fleetban_shipper_lines_matched_total'), 7);
      assert.equal(await shipper.stop(), 0);

      // `head` is for a file seen for the first time: a saved position wins.
      shipper = shipperInProcess(config);
      await bothTailed('both files tailed again');
      appendFileSync(head, failures(5, 6));
      appendFileSync(tail, failures(105, 106));
      await until('9 failures', async () => (await streamCount(nc, 'fleetban_failures')) === 9);
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(await users(), ['u0', 'u1', 'u103', 'u104', 'u105', 'u2', 'u3', 'u4', 'u5']);
      assert.equal(await metric('fleetban_shipper_lines_read_total'), 4, 'nothing read twice after the restart');
      assert.equal(await metric('fleetban_shipper_lines_matched_total'), 2);
      assert.equal(await metric('fleetban_shipper_failures_duplicate_total') ?? 0, 0);
      assert.equal(await shipper.stop(), 0);
    } finally {
      await shipper.stop().catch(() => undefined);
      await drainNats(nc);
      await nats.dispose();
      dir.remove();
    }
  });

  test('lines piped to `fleetban shipper` on stdin are shipped, and it exits once every failure is acknowledged', async () => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const nc = await natsClient(nats.url);
    try {
      const config = shipperConfig(dir.path, nats.url, { piped: { logpath: '-' } });
      const shipper = startTracked(BIN, ['shipper', '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
      const exited = new Promise<number | null>((resolve) => shipper.child.once('exit', (code) => resolve(code)));
      shipper.child.stdin!.end(failures(0, 300) + failLine('last-without-newline', ip(1)).trimEnd());
      assert.equal(await exited, 0, shipper.output());
      const stored = await storedFailures(nc);
      assert.equal(stored.length, 301);
      assert.equal(new Set(stored.map((e) => e.id)).size, 301);
      assert.ok(stored.every((e) => e.source === 'stdin'));
    } finally {
      await drainNats(nc);
      await nats.dispose();
      dir.remove();
    }
  });

  test('a jail whose filter cannot be loaded is left out and named in the stats while the others ship; with none left the shipper exits 70', async () => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const log = join(dir.path, 'auth.log');
    writeFileSync(log, '');
    const nc = await natsClient(nats.url);
    const shipper = shipperInProcess(shipperConfig(dir.path, nats.url, { good: { logpath: log }, broken: { logpath: log, filter: 'no-such-filter' } }));
    try {
      await until('the good jail tailing', () => nc.request('fleetban.svc.shipper.streams', '', { timeout: 500 }).then((m) => m.json<unknown[]>().length === 1, () => false));
      const stats = await nc.request('fleetban.svc.shipper.stats', '', { timeout: 2000 }).then((m) => m.json<{ failed?: Record<string, string>; jails: Record<string, unknown> }>());
      assert.deepEqual(Object.keys(stats.jails), ['good']);
      assert.match(stats.failed?.broken ?? '', /no-such-filter/);
      appendFileSync(log, failLine('u1', ip(1)));
      await until('the failure', async () => (await streamCount(nc, 'fleetban_failures')) === 1);
      assert.equal(await shipper.stop(), 0);
      const allBroken = shipperInProcess(shipperConfig(dir.path, nats.url, { broken: { logpath: log, filter: 'no-such-filter' } }));
      assert.equal(await allBroken.exit, 70);
    } finally {
      await shipper.stop().catch(() => undefined);
      await drainNats(nc);
      await nats.dispose();
      dir.remove();
    }
  });

  test("fail2ban's stock sshd filter ships real sshd lines (syslog dates, invalid users, IPv6)", { skip: fail2banPackageDir() || existsSync('/etc/fail2ban/filter.d/sshd.conf') ? false : "fail2ban's filters are not here: run infra/setup/setup.sh to fill the cache" }, async () => {
    const nats = await NatsServer.start();
    const dir = tempDir('fleetban-shipper');
    const log = join(dir.path, 'auth.log');
    writeFileSync(log, '');
    const nc = await natsClient(nats.url);
    const shipper = shipperInProcess(shipperConfig(dir.path, nats.url, { sshd: { filter: 'sshd', logpath: log } }));
    try {
      await until('the shipper tailing the file', () => nc.request('fleetban.svc.shipper.streams', '', { timeout: 500 }).then((m) => m.json<unknown[]>().length === 1, () => false));
      const d = new Date();
      const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
      const date = `${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${d.toTimeString().slice(0, 8)}`;
      appendFileSync(log, [
        `${date} web-1 sshd[1001]: Failed password for root from 192.0.2.10 port 51234 ssh2`,
        `${date} web-1 sshd[1002]: Failed password for invalid user admin from 2001:db8::10 port 40000 ssh2`,
        `${date} web-1 sshd[1003]: Accepted publickey for deploy from 198.51.100.4 port 50000 ssh2: ED25519 SHA256:x`,
        `${date} web-1 sshd[1004]: Invalid user oracle from 192.0.2.11 port 41000`,
        '',
      ].join('\n'));
      await until('3 failures', async () => (await streamCount(nc, 'fleetban_failures')) === 3);
      await new Promise((r) => setTimeout(r, 500));
      const stored = await storedFailures(nc);
      assert.deepEqual(stored.map((e) => [e.ip, e.user]).sort(), [['192.0.2.10', 'root'], ['192.0.2.11', 'oracle'], ['2001:db8::10', 'admin']]);
      assert.ok(stored.every((e) => Math.abs(e.time - d.getTime()) < 2000), 'the time comes from the syslog date');
      assert.equal(await shipper.stop(), 0);
    } finally {
      await shipper.stop().catch(() => undefined);
      await drainNats(nc);
      await nats.dispose();
      dir.remove();
    }
  });
});
