import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { NatsConnection } from '@nats-io/nats-core';
import { drainNats } from '../../shared/nats/index.ts';
import { NatsServer, streamCount, tempDir } from '../harness/index.ts';
import { failLine, natsClient, shipperConfig, shipperInProcess, storedFailures, until } from './shipper-support.ts';

const ip = (i: number) => `203.0.113.${1 + (i % 200)}`;

function failures(from: number, to: number, tag = 'u'): string {
  let out = '';
  for (let i = from; i < to; i++) out += failLine(`${tag}${i}`, ip(i));
  return out;
}

interface Scene {
  log: string;
  dir: string;
  nc: NatsConnection;
  /** Waits until exactly `n` failures are stored and stay so; returns their users. */
  exactly(n: number): Promise<string[]>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A shipper tailing `auth.log` (which begins with a header line) on a fresh NATS. */
async function scene(run: (s: Scene) => Promise<void>): Promise<void> {
  const nats = await NatsServer.start();
  const tmp = tempDir('fleetban-replaced');
  const log = join(tmp.path, 'auth.log');
  writeFileSync(log, '# auth.log of web-1\n');
  const nc = await natsClient(nats.url);
  const config = shipperConfig(tmp.path, nats.url, { t: { logpath: log } });
  const tailing = () => until('the file tailed', () => nc.request('fleetban.svc.shipper.streams', '', { timeout: 500 }).then((m) => m.json<unknown[]>().length >= 1, () => false));
  let shipper: ReturnType<typeof shipperInProcess> | undefined = shipperInProcess(config);
  await tailing();
  const s: Scene = {
    log,
    dir: tmp.path,
    nc,
    async exactly(n) {
      await until(`${n} failures stored`, async () => (await streamCount(nc, 'fleetban_failures')) >= n, 20_000);
      // Long enough for a second reading of the file (checkInterval 0.25 s) to show.
      await new Promise((r) => setTimeout(r, 1500));
      const users = (await storedFailures(nc)).map((e) => e.user ?? '');
      assert.equal(users.length, n, `stored: ${users.join(' ')}`);
      assert.equal(new Set(users).size, n, 'no failure counted twice');
      return users;
    },
    async restart() {
      await s.stop();
      shipper = shipperInProcess(config);
      await tailing();
    },
    async stop() {
      if (shipper) assert.equal(await shipper.stop(), 0);
      shipper = undefined;
    },
  };
  try {
    await run(s);
  } finally {
    await shipper?.stop().catch(() => undefined);
    await drainNats(nc);
    await nats.dispose();
    tmp.remove();
  }
}

describe('a log file replaced by a copy of itself is not read again', () => {
  test('cp + mv over it: reading goes on in the copy, nothing counted twice, and lines after it are read', async () => {
    await scene(async (s) => {
      appendFileSync(s.log, failures(0, 5));
      await s.exactly(5);
      copyFileSync(s.log, `${s.log}.x`);
      renameSync(`${s.log}.x`, s.log);
      await s.exactly(5);
      appendFileSync(s.log, failures(5, 8));
      await s.exactly(8);
    });
  });

  test('moved away and back, quickly and after the shipper closed it: neither re-reads it', async () => {
    await scene(async (s) => {
      appendFileSync(s.log, failures(0, 5));
      await s.exactly(5);
      renameSync(s.log, join(s.dir, 'away'));
      await new Promise((r) => setTimeout(r, 300));
      renameSync(join(s.dir, 'away'), s.log);
      await s.exactly(5);
      renameSync(s.log, join(s.dir, 'away'));
      // rotateWait is 0.5 s: the file is read to its end and closed meanwhile.
      await new Promise((r) => setTimeout(r, 2000));
      renameSync(join(s.dir, 'away'), s.log);
      await s.exactly(5);
      appendFileSync(s.log, failures(5, 7));
      await s.exactly(7);
    });
  });

  test('vim-style save (rename to a backup, write a new file, delete the backup): nothing counted twice', async () => {
    await scene(async (s) => {
      appendFileSync(s.log, failures(0, 5));
      await s.exactly(5);
      const text = readFileSync(s.log, 'utf8');
      renameSync(s.log, `${s.log}~`);
      writeFileSync(s.log, text + failures(5, 6));
      rmSync(`${s.log}~`);
      await s.exactly(6);
    });
  });

  test('sed -i editing a line in place (same length): nothing counted twice', async () => {
    await scene(async (s) => {
      appendFileSync(s.log, failures(0, 3) + 'a line to edit\n' + failures(3, 5));
      await s.exactly(5);
      // Same length: a shorter file than what was read is taken for new content (read again from its start).
      execFileSync('sed', ['-i', 's/a line to edit/a line TO edit/', s.log]);
      await s.exactly(5);
      appendFileSync(s.log, failures(5, 6));
      await s.exactly(6);
    });
  });

  test('replaced by a copy while the shipper was down: the restart resumes in the copy', async () => {
    await scene(async (s) => {
      appendFileSync(s.log, failures(0, 5));
      await s.exactly(5);
      await s.stop();
      appendFileSync(s.log, failures(5, 7));
      copyFileSync(s.log, `${s.log}.x`);
      renameSync(`${s.log}.x`, s.log);
      await s.restart();
      await s.exactly(7);
    });
  });

  test('a real rotation (a new file with the same header but new content) is still read from its start', async () => {
    await scene(async (s) => {
      appendFileSync(s.log, failures(0, 5));
      await s.exactly(5);
      renameSync(s.log, `${s.log}.1`);
      writeFileSync(s.log, `# auth.log of web-1\n${failures(0, 6, 'r')}`);
      const users = await s.exactly(11);
      assert.equal(users.filter((u) => u.startsWith('r')).length, 6);
    });
  });
});
