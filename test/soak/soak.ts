import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats, drainNats } from '../../shared/nats/index.ts';
import { subjectsFor } from '../../shared/schema/index.ts';
import { binFleetban, quietLogger, readStream, testConfig } from '../harness/index.ts';
import { Chaos, type Fault } from './chaos.ts';
import { checkAll, expectedBans, type Check } from './checks.ts';
import { readKernel, readProgress, readStatus, type Progress } from './observe.ts';
import { Rng } from './rng.ts';
import { PREFIX, SoakStack } from './stack.ts';
import { sleep, type Surprise } from './supervised.ts';
import { Timeline, type TimelineEntry } from './timeline.ts';
import { FailureWriter } from './writer.ts';

export interface SoakOptions {
  /** How long failures are written and faults injected. */
  seconds: number;
  seed: number;
  /** Failure lines per second, over all log files. */
  rate: number;
  shippers: number;
  scorers: number;
  enforcers: number;
  maxretry: number;
  /** Mean time between faults. */
  faultGapMs: number;
  /** Processes down or frozen at once, at most. */
  maxConcurrentFaults: number;
  /** How long the stack may take, after the last fault, to reach the exact end state. */
  settleSeconds: number;
  /** Where the stack keeps its stores, configs, logs and the processes' output. */
  dir: string;
  /** Each timeline line as it happens. */
  echo: (line: string) => void;
}

export const SOAK_DEFAULTS = {
  seconds: 600,
  rate: 20,
  shippers: 2,
  scorers: 2,
  enforcers: 2,
  maxretry: 4,
  faultGapMs: 3000,
  maxConcurrentFaults: 2,
  settleSeconds: 240,
} as const satisfies Partial<SoakOptions>;

export interface SoakReport {
  options: Omit<SoakOptions, 'echo'>;
  faults: Fault[];
  surprises: Surprise[];
  linesWritten: number;
  addresses: { ban: number; near: number; over: number };
  bansExpected: number;
  banDecisions: number;
  kernelEntries: Array<{ name: string; entries: number }>;
  /** From the end of chaos until the stack reached the end state; null if it never did. */
  convergeMs: number | null;
  lastProgress: Progress | string;
  checks: Check[];
  ok: boolean;
  timeline: TimelineEntry[];
}

/**
 * One soak: start the fleet, write failures at a steady rate while the chaos
 * loop kills, freezes and restarts every process, then stop the chaos, wait
 * (bounded) for the stack to settle, and check the exact end state.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const timeline = new Timeline(options.echo);
  const bantimeSeconds = Math.max(7200, options.seconds + options.settleSeconds + 3600);
  const stack = new SoakStack(options.dir, {
    shippers: options.shippers,
    scorers: options.scorers,
    enforcers: options.enforcers,
    maxretry: options.maxretry,
    findtime: '1h',
    bantimeSeconds,
    ackWait: '5s',
  }, timeline);
  const subjects = subjectsFor(PREFIX);
  let nc: NatsConnection | undefined;
  try {
    timeline.note('soak', `seed ${options.seed}; starting the stack in ${options.dir}`);
    await stack.start();
    timeline.note('soak', `stack ready: ${stack.processes.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);

    const writer = new FailureWriter(new Rng(options.seed), {
      files: stack.logFiles,
      maxretry: options.maxretry,
      rate: options.rate,
      backdateMaxMs: 120_000,
    });
    const chaos = new Chaos(new Rng(options.seed ^ 0x5eed), stack.processes, timeline, {
      meanGapMs: options.faultGapMs,
      maxConcurrent: options.maxConcurrentFaults,
      termGraceMs: 30_000,
      downMs: [200, 5000],
      frozenMs: [500, 8000],
    });
    writer.start();
    chaos.start();
    await sleep(options.seconds * 1000);
    writer.stop();
    timeline.note('soak', `writing stopped: ${writer.lines.length} lines; waiting for the faults in progress to end`);
    await chaos.stop();
    timeline.note('soak', `chaos stopped after ${chaos.faults.length} faults; settling`);

    const expected = { lines: writer.lines, addresses: writer.addresses, maxretry: options.maxretry, bantimeMs: bantimeSeconds * 1000 };
    const bans = expectedBans(expected);
    const natsConfig = testConfig({ nats: { servers: [stack.natsUrl] } }).nats;
    nc = await connectNats(natsConfig, { name: 'soak-check', log: quietLogger(), mode: 'command' });
    const settleStart = Date.now();
    const settled = await settle(stack, nc, subjects, writer.lines.length, bans, options.settleSeconds * 1000, timeline);
    const convergeMs = typeof settled === 'string' ? null : Date.now() - settleStart;
    timeline.note('soak', convergeMs === null ? `did not settle: ${settled}` : `settled after ${(convergeMs / 1000).toFixed(1)} s`);
    // A status batch is written every 0.2 s; a moment more lets the last one land.
    await sleep(2000);

    const [failures, decisions, kernel, status, banned] = await Promise.all([
      readStream(nc, subjects.failuresStream),
      readStream(nc, subjects.decisionsStream),
      Promise.all(stack.namespaces.map(async (ns, i) => ({ name: stack.enforcers[i]!.name, set: await readKernel(ns) }))),
      readStatus(nc, subjects).catch((err: unknown) => `status: ${(err as Error).message}`),
      bannedTargets(stack.cliConfig),
    ]);
    const checks = checkAll(expected, { failures, decisions, kernel, status, banned, surprises: stack.surprises });
    const count = (plan: string) => writer.addresses.filter((a) => a.plan === plan).length;
    const { echo: _, ...kept } = options;
    return {
      options: kept,
      faults: chaos.faults,
      surprises: stack.surprises,
      linesWritten: writer.lines.length,
      addresses: { ban: count('ban'), near: count('near'), over: count('over') },
      bansExpected: bans.size,
      banDecisions: decisions.filter((d) => d.subject.startsWith(`${PREFIX}.ban.`)).length,
      kernelEntries: kernel.map((k) => ({ name: k.name, entries: k.set.size })),
      convergeMs,
      lastProgress: settled,
      checks,
      ok: checks.every((c) => c.ok) && convergeMs !== null,
      timeline: timeline.entries,
    };
  } finally {
    if (nc) await drainNats(nc).catch(() => undefined);
    await stack.stop();
  }
}

/**
 * Polls until every process is up and the data has flowed through: every
 * line stored, nothing pending for the scorers, a decision per expected ban,
 * and each kernel set equal to the ban set. Returns the last figures, or why
 * it did not get there within `timeoutMs`.
 */
async function settle(
  stack: SoakStack,
  nc: NatsConnection,
  subjects: ReturnType<typeof subjectsFor>,
  lines: number,
  bans: ReadonlySet<string>,
  timeoutMs: number,
  timeline: Timeline,
): Promise<Progress | string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing read yet';
  // What is still missing goes to the timeline every 10 s, so a slow settle shows which part lagged.
  let nextNote = Date.now() + 10_000;
  for (;;) {
    if (Date.now() >= nextNote) {
      timeline.note('soak', `settling: ${last}`);
      nextNote += 10_000;
    }
    try {
      const p = await readProgress(nc, subjects, stack.namespaces);
      const kernelDone = p.kernel.every((set) => set.size === bans.size && [...bans].every((ip) => set.has(ip)));
      last = `processes ${stack.settled ? 'all up' : 'not all up'}; failures stored ${p.failuresStored}/${lines}; `
        + `pending ${p.pending}, unacknowledged ${p.ackPending}; decisions ${p.decisionsStored}/${bans.size}; `
        + `kernel ${p.kernel.map((k) => k.size).join(', ')}/${bans.size}`;
      const flowed = p.failuresStored >= lines && p.pending === 0 && p.ackPending === 0 && p.decisionsStored >= bans.size;
      if (stack.settled && flowed && kernelDone) return p;
    } catch (err) {
      last = `reading progress: ${(err as Error).message}`;
    }
    if (Date.now() > deadline) return last;
    await sleep(1000);
  }
}

/** The targets `fleetban banned --json` lists, through the real executable. */
async function bannedTargets(config: string): Promise<string[] | string> {
  const r = await binFleetban(['banned', '--json', '--config', config], { timeoutMs: 60_000 });
  if (r.code !== 0) return `fleetban banned exited ${r.code}: ${r.stderr.trim().slice(0, 300)}`;
  return (JSON.parse(r.stdout) as { bans: Array<{ target: string }> }).bans.map((b) => b.target);
}
