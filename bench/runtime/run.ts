/**
 * Runtime budget of the build: for each command, the wall time from spawn to
 * exit and its peak RSS; for each part (shipper, scorer, enforcer with the
 * dry-run backend), the time from spawn to "running", RSS and V8 heap at
 * idle, any child process, and the peak RSS under its own load. Printed next
 * to `node -e 0` and against the targets of issue 16. A benchmark, not a
 * test: it prints figures and fails only when something does not run.
 *
 *   node --import tsx bench/runtime/run.ts [--runs 11] [--rate 250000] [--seconds 6] [--every 100]
 *                                          [--failures 100000] [--decisions 100000]
 *                                          [--node-options '--max-semi-space-size=1'] [--only parts|commands]
 *
 * Runs `bin/fleetban`, so the build in dist/ (rebuilt first when stale). The
 * shipper's load appends sshd lines to its file at --rate lines/s for
 * --seconds (one in --every a failure); the scorer's publishes --failures
 * failures over a quarter as many addresses; the enforcer's publishes
 * --decisions ban decisions. Loads run one after the other; the parts run
 * together (the shipper's failures reach the scorer, its bans the enforcer).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { connectNats, drainNats, ensureStreams } from '../../shared/nats/index.ts';
import { BIN, fail2banSkipReason, freePort, NatsServer, quietLogger, RedisServer, tempDir, testConfig } from '../../test/harness/index.ts';
import { measureCommands, type CommandRow } from './commands.ts';
import { enforcerLoad, scorerLoad, shipperLoad } from './load.ts';
import { memoryOf, startPart, type BenchPart, type MemoryFigures, type PartName } from './parts.ts';
import { sampleRss } from './proc.ts';
import { median, min, verdict } from './stats.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '11' },
    rate: { type: 'string', default: '250000' },
    seconds: { type: 'string', default: '6' },
    every: { type: 'string', default: '100' },
    failures: { type: 'string', default: '100000' },
    decisions: { type: 'string', default: '100000' },
    'node-options': { type: 'string' },
    only: { type: 'string' },
  },
});
const RUNS = Number(values.runs);
/** NODE_OPTIONS for the measured processes only (e.g. to try V8 heap flags), not for this one. */
const ENV = values['node-options'] === undefined ? process.env : { ...process.env, NODE_OPTIONS: values['node-options'] };
/** `--only parts` or `--only commands` to measure one half. */
const ONLY = values.only;
const IDLE_SETTLE_MS = 5000;
/** Issue 16's targets on a 2-core machine, MiB and ms. */
const TARGETS = {
  version: 100,
  idle: { shipper: 60, scorer: 80, enforcer: 80 },
  load: { shipper: 100, scorer: 120, enforcer: 120 },
} as const;

const nats = await NatsServer.start();
const redis = await RedisServer.start();
const dir = tempDir('fleetban-bench-runtime');
const parts: BenchPart[] = [];
try {
  const log = join(dir.path, 'auth.log');
  writeFileSync(log, '');
  const sample = join(dir.path, 'sample.log');
  writeFileSync(sample, Array.from({ length: 100 }, (_, i) => `Jan  5 10:00:${String(i % 60).padStart(2, '0')} web-1 sshd[1]: Failed password for invalid user u${i} from 192.0.2.${i} port 4022 ssh2\n`).join(''));
  const base = {
    host: 'bench-1',
    stateDir: join(dir.path, 'state'),
    log: { level: 'info' },
    nats: { servers: [nats.url] },
    redis: { nodes: [redis.node] },
    jails: { sshd: { filter: 'sshd', logpath: log, findtime: '1h', maxretry: 5, bantime: '1h', port: 'ssh' } },
    enforcer: { backend: 'dry-run' },
  };
  const configs = {} as Record<PartName | 'cli', { file: string; port: number }>;
  for (const name of ['shipper', 'scorer', 'enforcer', 'cli'] as const) {
    const port = await freePort();
    const settings = name === 'cli' ? base : { ...base, metrics: { listen: `127.0.0.1:${port}` } };
    testConfig(settings);
    const file = join(dir.path, `${name}.yaml`);
    writeFileSync(file, stringify(settings));
    configs[name] = { file, port };
  }
  const nc = await connectNats(testConfig(base).nats, { name: 'bench', log: quietLogger(), mode: 'command' });
  await ensureStreams(nc, testConfig(base), quietLogger());

  console.log(`# fleetban runtime, the build (${BIN}); node ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (values['node-options'] !== undefined) console.log(`# NODE_OPTIONS for the measured processes: ${values['node-options']}`);

  // Parts: one at a time from spawn to running, then all idle together.
  for (const name of ['scorer', 'enforcer', 'shipper'] as const) parts.push(await startPart(name, configs[name].file, configs[name].port, ENV));
  await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
  const idle = new Map<PartName, MemoryFigures>();
  for (const p of parts) idle.set(p.name, await memoryOf(p));

  // Commands, while the parts run (status asks the scorer).
  const cli = configs.cli.file;
  const row = (label: string, command: string, args: string[], ok?: number[]): CommandRow => ({ label, command, args, ok, wall: [], peakRss: [] });
  const rows: CommandRow[] = [
    row('node -e 0', process.execPath, ['-e', '0']),
    row('fleetban --version', BIN, ['--version']),
    row('fleetban --help', BIN, ['--help']),
    row('fleetban ban --help', BIN, ['ban', '--help']),
    row('fleetban config check', BIN, ['config', 'check', cli]),
    row('fleetban ban', BIN, ['ban', '198.51.100.200', '--for', '10m', '--config', cli]),
    row('fleetban unban', BIN, ['unban', '198.51.100.200', '--config', cli]),
    row('fleetban banned', BIN, ['banned', '--config', cli]),
    row('fleetban banned IP', BIN, ['banned', '198.51.100.201', '--config', cli], [0, 1]),
    row('fleetban status', BIN, ['status', '--config', cli]),
    row('fleetban services', BIN, ['services', '--wait', '300', '--config', cli]),
    row('fleetban streams', BIN, ['streams', '--config', cli], [0, 1]),
    row('fleetban enforcer setup --print', BIN, ['enforcer', 'setup', '--print', '--config', cli]),
    row('fleetban shipper --check-config', BIN, ['shipper', '--check-config', '--config', cli]),
    row('fleetban scorer --check-config', BIN, ['scorer', '--check-config', '--config', cli]),
    row('fleetban enforcer --check-config', BIN, ['enforcer', '--check-config', '--config', cli]),
  ];
  if (!fail2banSkipReason()) rows.push(row('fleetban regex (100 lines, sshd)', BIN, ['regex', sample, 'sshd']));
  if (ONLY !== 'parts') measureCommands(rows, RUNS, dir.path, ENV);

  // Loads, one part at a time.
  const withLoads = ONLY !== 'commands';
  const byName = (n: PartName) => parts.find((p) => p.name === n)!;
  const loaded = new Map<PartName, { peak: number; what: string }>();
  if (withLoads) {
    const p = byName('shipper');
    const s = sampleRss(p.pid);
    const r = await shipperLoad(log, p.metricsPort, { rate: Number(values.rate), seconds: Number(values.seconds), every: Number(values.every) });
    loaded.set('shipper', { peak: s.stop(), what: `${r.lines} lines appended at ${values.rate}/s (1 in ${values.every} a failure): read at ${r.linesPerSecond.toFixed(0)} lines/s` });
  }
  if (withLoads) {
    const p = byName('scorer');
    const s = sampleRss(p.pid);
    const r = await scorerLoad(nc, Number(values.failures), Number(values.failures) / 4);
    loaded.set('scorer', { peak: s.stop(), what: `${values.failures} failures published at once: done at ${r.perSecond.toFixed(0)} failures/s` });
  }
  if (withLoads) {
    const p = byName('enforcer');
    const s = sampleRss(p.pid);
    const r = await enforcerLoad(nc, p.metricsPort, Number(values.decisions));
    loaded.set('enforcer', { peak: s.stop(), what: `${values.decisions} ban decisions published at once: received at ${r.perSecond.toFixed(0)}/s` });
  }
  const after = new Map<PartName, MemoryFigures>();
  for (const p of parts) after.set(p.name, await memoryOf(p));
  await drainNats(nc);

  if (ONLY !== 'parts') printCommands(rows);
  if (withLoads) printParts(parts, idle, loaded, after);
} finally {
  await Promise.all(parts.map((p) => p.stop()));
  await Promise.all([nats.dispose(), redis.dispose()]);
  dir.remove();
}

function printCommands(rows: CommandRow[]): void {
  console.log(`\n## commands: wall time from spawn to exit (ms) and peak RSS (MiB); ${RUNS} runs each after a warm-up, round-robin`);
  console.log(`${'command'.padEnd(36)} ${'median'.padStart(7)} ${'min'.padStart(6)} ${'RSS'.padStart(5)}`);
  for (const r of rows) {
    console.log(`${r.label.padEnd(36)} ${median(r.wall).toFixed(0).padStart(7)} ${min(r.wall).toFixed(0).padStart(6)} ${r.peakRss.length ? median(r.peakRss).toFixed(0).padStart(5) : '    ?'}`);
  }
  const version = rows.find((r) => r.label === 'fleetban --version')!;
  const floor = rows.find((r) => r.label === 'node -e 0')!;
  console.log(`fleetban --version: ${verdict(median(version.wall), TARGETS.version, 'ms median')}; node -e 0 ${median(floor.wall).toFixed(0)} ms, so fleetban adds ${(median(version.wall) - median(floor.wall)).toFixed(0)} ms`);
}

function printParts(parts: BenchPart[], idle: Map<PartName, MemoryFigures>, loaded: Map<PartName, { peak: number; what: string }>, after: Map<PartName, MemoryFigures>): void {
  console.log('\n## parts (MiB; heap and external from the part\'s own metrics)');
  for (const p of parts) {
    const i = idle.get(p.name)!;
    const a = after.get(p.name)!;
    const l = loaded.get(p.name)!;
    console.log(`${p.name}: ready in ${p.readyMs.toFixed(0)} ms`);
    console.log(`  idle:       RSS ${verdict(i.rss, TARGETS.idle[p.name], 'MiB')}; heap used ${i.heapUsed.toFixed(1)} of ${i.heapTotal.toFixed(1)}, external ${i.external.toFixed(1)}; children: ${i.children.join(' ') || 'none'}`);
    console.log(`  under load: peak RSS ${verdict(l.peak, TARGETS.load[p.name], 'MiB')}; ${l.what}`);
    console.log(`  after load: RSS ${a.rss.toFixed(0)}; heap used ${a.heapUsed.toFixed(1)} of ${a.heapTotal.toFixed(1)}, external ${a.external.toFixed(1)}; children: ${a.children.join(' ') || 'none'}`);
  }
}
