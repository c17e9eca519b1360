/**
 * The enforcer as it runs, on a real nats-server, with its backend inside a
 * network namespace made for the run:
 * - full start: 100,000 ban decisions already in the stream; from starting
 *   the part to "running" (connect, read the kernel, replay and validate the
 *   stream, fold, one batch);
 * - live bans: decisions published one at a time; decision-to-kernel
 *   latency (the decision's own time to the end of the batch that put it in
 *   the kernel), median and p99.
 *
 *   node --import tsx bench/enforcer/live.ts [bans] [live-decisions]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstream } from '@nats-io/jetstream';
import { loadConfig } from '../../shared/config/index.ts';
import { connectNats, drainNats, ensureStreams } from '../../shared/nats/index.ts';
import { runPart } from '../../shared/runtime/index.ts';
import { decisionCodec, type Decision } from '../../shared/schema/index.ts';
import { startEnforcer } from '../../services/enforcer/enforcer.ts';
import { NatsServer, Netns, netnsSkipReason, quietLogger, tempDir } from '../../test/harness/index.ts';
import { docAddress } from './docaddress.ts';

const BANS = Number(process.argv[2] ?? 100_000);
const LIVE = Number(process.argv[3] ?? 1000);
const HOUR = 3_600_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const skip = netnsSkipReason();
  if (skip) {
    console.error(`bench/enforcer/live: ${skip}`);
    process.exitCode = 1;
    return;
  }
  const nats = await NatsServer.start();
  const dir = tempDir('fleetban-bench');
  try {
    console.log(`# fleetban enforcer on NATS (node --import tsx bench/enforcer/live.ts ${BANS} ${LIVE}); load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const base = join(dir.path, 'base.yaml');
    writeFileSync(base, `nats: { servers: ["${nats.url}"] }\njails: { sshd: { port: ssh } }\n`);
    const config = await loadConfig(base);
    const nc = await connectNats(config.nats, { name: 'bench', log: quietLogger(), mode: 'command' });
    await ensureStreams(nc, config, quietLogger());
    const js = jetstream(nc);
    const now = Date.now();
    const t0 = performance.now();
    for (let i = 0; i < BANS; i += 1000) {
      const batch: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(BANS, i + 1000); j++) {
        const d: Decision = { v: 1, id: `s${j}`, action: 'ban', jail: 'sshd', target: docAddress(j), time: now, duration: HOUR, origin: 'scorer' };
        batch.push(js.publish('fleetban.ban.sshd', decisionCodec.encode(d)));
      }
      await Promise.all(batch);
    }
    console.log(`published ${BANS} decisions in ${(performance.now() - t0).toFixed(0)} ms`);

    for (const backend of ['nftables', 'ipset'] as const) {
      const ns = await Netns.create('live');
      try {
        const file = join(dir.path, `${backend}.yaml`);
        writeFileSync(file, `nats: { servers: ["${nats.url}"] }\nlog: { level: error }\njails: { sshd: { port: ssh } }\nenforcer: { backend: ${backend}, netns: ${ns.name}, table: fbbench, ipset: { maxelem: ${BANS * 2} } }\n`);
        const latencies: number[] = [];
        const stop = new AbortController();
        let started = 0;
        const t1 = performance.now();
        let running!: () => void;
        const ready = new Promise<void>((r) => (running = r));
        const exit = runPart({
          part: 'enforcer',
          description: 'bench',
          configFile: file,
          stopSignal: stop.signal,
          logDestination: { write: (s: string) => void process.stderr.write(s) },
          async start(ctx) {
            const part = await startEnforcer(ctx, { onLatency: (ms) => latencies.push(ms) });
            started = performance.now() - t1;
            running();
            return part;
          },
        });
        await ready;
        console.log(`${backend.padEnd(9)} full start with ${BANS} bans in the stream: ${started.toFixed(0)} ms`);
        for (let i = 0; i < LIVE; i++) {
          const d: Decision = { v: 1, id: `l${backend}${i}`, action: 'ban', jail: 'sshd', target: docAddress(BANS + i), time: Date.now(), duration: HOUR, origin: 'scorer' };
          await js.publish('fleetban.ban.sshd', decisionCodec.encode(d));
          await new Promise((r) => setTimeout(r, 5));
        }
        const deadline = Date.now() + 30_000;
        while (latencies.length < LIVE && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const sorted = [...latencies].sort((a, b) => a - b);
        console.log(`${backend.padEnd(9)} live decision to kernel, ${sorted.length} bans one at a time: median ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`);
        stop.abort();
        await exit;
      } finally {
        await ns.remove();
      }
    }
    await drainNats(nc);
  } finally {
    await nats.dispose();
    dir.remove();
  }
}

await main();
