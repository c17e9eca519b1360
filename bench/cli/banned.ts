/**
 * `fleetban banned` on a large decisions stream: N ban decisions (one in ten
 * followed by an unban) in a real nats-server, then the real
 * `./bin/fleetban banned --json` (read the whole stream with an ordered
 * consumer, validate every decision, fold, print), timed over a few runs,
 * next to `./bin/fleetban --version` (the start-up every command pays) in the
 * same run.
 *
 *   node --import tsx bench/cli/banned.ts [decisions] [runs]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstream } from '@nats-io/jetstream';
import { loadConfig } from '../../shared/config/index.ts';
import { connectNats, drainNats, ensureStreams } from '../../shared/nats/index.ts';
import { decisionCodec, type Decision } from '../../shared/schema/index.ts';
import { BIN, NatsServer, quietLogger, tempDir } from '../../test/harness/index.ts';
import { docAddress } from '../enforcer/docaddress.ts';

const DECISIONS = Number(process.argv[2] ?? 100_000);
const RUNS = Number(process.argv[3] ?? 3);
const HOUR = 3_600_000;

function time(args: string[]): { ms: number; stdout: string } {
  const t = performance.now();
  const stdout = execFileSync(BIN, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  return { ms: performance.now() - t, stdout };
}

const nats = await NatsServer.start();
const dir = tempDir('fleetban-bench-banned');
try {
  const file = join(dir.path, 'fleetban.yaml');
  writeFileSync(file, `nats: { servers: ["${nats.url}"] }\njails: { sshd: { port: ssh } }\n`);
  const config = await loadConfig(file);
  const nc = await connectNats(config.nats, { name: 'bench', log: quietLogger(), mode: 'command' });
  await ensureStreams(nc, config, quietLogger());
  const js = jetstream(nc);
  const now = Date.now();
  let published = 0;
  const t0 = performance.now();
  for (let i = 0; published < DECISIONS; i++) {
    const batch: Promise<unknown>[] = [];
    for (let j = 0; j < 1000 && published < DECISIONS; j++, i++) {
      const ban: Decision = { v: 1, id: `b${i}`, action: 'ban', jail: 'sshd', target: docAddress(i), time: now, duration: HOUR, origin: 'scorer', reason: '5 failures within 10m', failures: 5, banCount: 1, by: 'core-1' };
      batch.push(js.publish('fleetban.ban.sshd', decisionCodec.encode(ban)));
      published++;
      if (i % 10 === 0 && published < DECISIONS) {
        batch.push(js.publish('fleetban.unban.sshd', decisionCodec.encode({ v: 1, id: `u${i}`, action: 'unban', jail: 'sshd', target: docAddress(i), time: now, origin: 'manual' })));
        published++;
      }
    }
    await Promise.all(batch);
  }
  await drainNats(nc);
  console.log(`# fleetban banned (node --import tsx bench/cli/banned.ts ${DECISIONS} ${RUNS}); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`published ${published} decisions in ${(performance.now() - t0).toFixed(0)} ms`);
  const version: number[] = [];
  const banned: number[] = [];
  let bans = 0;
  for (let r = 0; r < RUNS; r++) {
    version.push(time(['--version']).ms);
    const run = time(['banned', '--json', '--config', file]);
    banned.push(run.ms);
    bans = (JSON.parse(run.stdout) as { bans: unknown[] }).bans.length;
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`./bin/fleetban --version:        mean ${mean(version).toFixed(0)} ms over ${RUNS} runs`);
  console.log(`./bin/fleetban banned --json:    mean ${mean(banned).toFixed(0)} ms over ${RUNS} runs (min ${Math.min(...banned).toFixed(0)}, max ${Math.max(...banned).toFixed(0)}); ${bans} bans in force`);
  console.log(`decisions read and folded per second (banned minus --version): ${((published / (mean(banned) - mean(version))) * 1000).toFixed(0)}`);
} finally {
  await nats.dispose();
  dir.remove();
}
