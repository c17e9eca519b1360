/**
 * Scorer throughput: failures/s through NATS → scorer → Redis with one and
 * with two replicas, next to the ceiling that `redis-benchmark` gives for the
 * same Lua script (EVALSHA) on this machine, and the replicas' peak RSS.
 *
 *   node --import tsx bench/scorer/throughput.ts [failures] [addresses]
 *
 * Defaults: 200,000 failures over 50,000 addresses (maxretry 5).
 *
 * The failures are published into the stream first; then real
 * `./bin/fleetban scorer` processes start and the rate is taken between 10%
 * and 90% of the failures acknowledged (start-up and tail left out). Each run
 * uses fresh nats-server and redis-server processes.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { stringify } from 'yaml';
import { FAILURE_SCRIPT } from '../../services/scorer/redis/scripts.ts';
import { canonicalIp } from '../../shared/ip/index.ts';
import { connectNats, drainNats, ensureStreams } from '../../shared/nats/index.ts';
import { failureCodec, subjectsFor, type FailureEvent } from '../../shared/schema/index.ts';
import { BIN, NatsServer, quietLogger, RedisServer, startTracked, stopProcess, tempDir, testConfig } from '../../test/harness/index.ts';

const run = promisify(execFile);
const FAILURES = Number(process.argv[2] ?? 200_000);
const ADDRESSES = Number(process.argv[3] ?? FAILURES / 4);
const JAIL = { maxretry: 5, findtime: '10m', bantime: '10m' };

function events(): FailureEvent[] {
  const now = Date.now();
  const out: FailureEvent[] = [];
  // A fixed pseudo-random sequence, so that every run sees the same mix: with 4
  // failures per address on average, about a third of the addresses reach maxretry 5.
  let seed = 1;
  for (let i = 0; i < FAILURES; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const a = Math.floor((seed / 2147483648) * ADDRESSES);
    out.push({ v: 1, id: `bench-${i}`, jail: 'sshd', ip: canonicalIp(`2001:db8:${(a >> 16).toString(16)}::${(a & 0xffff).toString(16)}`), time: now - 60_000 + Math.floor(i / 10), host: `web${i % 7}`, source: '/var/log/auth.log' });
  }
  return out;
}

/** CPU time (user + system) a process has used, in µs. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

interface RunResult {
  rate: number;
  wall: number;
  bans: number;
  rss: Array<{ rss: number; peak: number }>;
  /** CPU µs per failure between the 10% and 90% marks: all scorers together, nats-server, redis-server. */
  cpu: { scorers: number; nats: number; redis: number };
}

async function scorerRun(replicas: number, failures: FailureEvent[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  const [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
  const dir = tempDir('fleetban-bench');
  try {
    const settings = { host: 'bench', log: { level: 'warn' }, nats: { servers: [nats.url] }, redis: { nodes: [redis.node] }, jails: { sshd: JAIL } };
    const config = testConfig(settings);
    const file = join(dir.path, 'fleetban.yaml');
    writeFileSync(file, stringify(settings));
    const nc = await connectNats(config.nats, { name: 'bench', log: quietLogger(), mode: 'command' });
    await ensureStreams(nc, config, quietLogger());
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const subjects = subjectsFor('fleetban');
    for (let i = 0; i < failures.length; i += 1000) {
      await Promise.all(failures.slice(i, i + 1000).map((e) => js.publish(subjects.fail('sshd'), failureCodec.encode(e), { msgID: e.id })));
    }
    const last = (await jsm.streams.info(subjects.failuresStream)).state.last_seq;

    const procs = Array.from({ length: replicas }, () => startTracked(BIN, ['scorer', '--config', file], { env }));
    const marks: Record<'t10' | 't90' | 'end', number> = { t10: 0, t90: 0, end: 0 };
    const cpuNow = () => ({ scorers: procs.reduce((sum, p) => sum + cpuOf(p.child.pid!), 0), nats: cpuOf(nats.pid!), redis: cpuOf(redis.pid!) });
    const cpu10 = { scorers: 0, nats: 0, redis: 0, acked: 0 };
    const cpu90 = { ...cpu10 };
    const started = Date.now();
    const peak = procs.map(() => ({ rss: 0, peak: 0 }));
    for (;;) {
      const info = await jsm.consumers.info(subjects.failuresStream, 'scorer').catch(() => undefined);
      const acked = info ? info.ack_floor.stream_seq : 0;
      const now = Date.now();
      if (!marks.t10 && acked >= last * 0.1) {
        marks.t10 = now;
        Object.assign(cpu10, cpuNow(), { acked });
      }
      if (!marks.t90 && acked >= last * 0.9) {
        marks.t90 = now;
        Object.assign(cpu90, cpuNow(), { acked });
      }
      procs.forEach((p, i) => {
        const r = rssOf(p.child.pid!);
        peak[i] = { rss: Math.max(peak[i]!.rss, r.rss), peak: r.peak };
      });
      if (acked >= last && info!.num_ack_pending === 0) {
        marks.end = now;
        break;
      }
      for (const p of procs) if (p.child.exitCode !== null) throw new Error(`scorer exited:\n${p.output().slice(-2000)}`);
      if (now - started > 600_000) throw new Error('scorer did not finish in 10 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    const bans = (await jsm.streams.info(subjects.decisionsStream)).state.messages;
    await Promise.all(procs.map((p) => stopProcess(p.child)));
    await drainNats(nc);
    const n = cpu90.acked - cpu10.acked;
    const per = (k: 'scorers' | 'nats' | 'redis') => (cpu90[k] - cpu10[k]) / n;
    return { rate: n / ((marks.t90 - marks.t10) / 1000), wall: (marks.end - started) / 1000, bans, rss: peak, cpu: { scorers: per('scorers'), nats: per('nats'), redis: per('redis') } };
  } finally {
    await Promise.all([nats.dispose(), redis.dispose()]);
    dir.remove();
  }
}

/** redis-benchmark running failure.lua by EVALSHA with the arguments a scorer sends, random targets and event ids. */
async function ceiling(): Promise<number> {
  const redis = await RedisServer.start();
  try {
    const port = String(redis.port);
    await run('redis-cli', ['-p', port, 'SCRIPT', 'LOAD', FAILURE_SCRIPT.lua]);
    const now = String(Date.now());
    const target = `{2001:db8::__rand_int__}`;
    const { stdout } = await run('redis-benchmark', [
      '-p', port, '-n', String(FAILURES), '-c', '50', '-P', '16', '-r', String(ADDRESSES), '--csv',
      'EVALSHA', FAILURE_SCRIPT.sha, '3', `fleetban:${target}:w:sshd`, `fleetban:${target}:b:sshd`, `fleetban:${target}:c`,
      'bench-__rand_int__', now, 'sshd', '600000', '5', '86400000', '0', '-1', '600000', `ban:sshd:${target}@${now}`,
    ]);
    const line = stdout.trim().split('\n').at(-1)!;
    return Number(line.split(',')[1]!.replaceAll('"', ''));
  } finally {
    await redis.dispose();
  }
}

async function main(): Promise<void> {
  const failures = events();
  console.log(`scorer throughput: ${FAILURES} failures over ${ADDRESSES} addresses, jail ${JSON.stringify(JAIL)}`);
  const limit = await ceiling();
  console.log(`ceiling: redis-benchmark EVALSHA failure.lua (-c 50 -P 16): ${limit.toFixed(0)} scripts/s`);
  const runs: Array<[string, number, NodeJS.ProcessEnv]> = [
    ['1 replica', 1, process.env],
    ['2 replicas', 2, process.env],
    // V8's young generation is 16 MB by default; the scorer allocates fast enough that a larger one saves much of its GC time.
    ['1 replica, NODE_OPTIONS=--max-semi-space-size=32', 1, { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=32`.trim() }],
  ];
  for (const [label, replicas, env] of runs) {
    const r = await scorerRun(replicas, failures, env);
    console.log(
      `${label}: ${r.rate.toFixed(0)} failures/s sustained (10%-90%), ${(FAILURES / r.wall).toFixed(0)} failures/s over ${r.wall.toFixed(1)} s including start-up; ` +
        `ratio to ceiling ${(r.rate / limit).toFixed(2)}; ${r.bans} bans; ` +
        `CPU per failure: scorer${replicas > 1 ? 's' : ''} ${r.cpu.scorers.toFixed(0)} µs, nats-server ${r.cpu.nats.toFixed(0)} µs, redis-server ${r.cpu.redis.toFixed(0)} µs; ` +
        `RSS per replica ${r.rss.map((x) => `${mb(x.rss)} (peak ${mb(x.peak)})`).join(', ')}`,
    );
  }
}

await main();
