/**
 * Shipper benchmark: the real `fleetban shipper` process tailing a file into
 * a real nats-server (JetStream, file storage) on this machine.
 *
 *   node --import tsx bench/shipper/run.ts [--lines 500000] [--every 10] [--filter sshd|fleetban-test] [--latency 1000]
 *
 * Phase 1 appends `--lines` sshd lines as fast as the disk takes them (one in
 * `--every` a failure) and reports sustained lines/s and failures/s into
 * JetStream (until the last failure is stored), CPU seconds per million lines
 * and peak RSS of the shipper process. Phase 2 appends `--latency` single
 * failure lines at 200/s and reports the time from append to the message
 * being stored and delivered from the stream (median, p99). There is no peer
 * in this run: fail2ban tails files too, but running its daemon is out of
 * scope here (the filter benchmark compares matching with fail2ban-regex).
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { stringify } from 'yaml';
import { connectNats, drainNats } from '../../shared/nats/index.ts';
import { BIN, freePort, NatsServer, quietLogger, startTracked, stopProcess, streamCount, tempDir, testConfig, waitForOutput } from '../../test/harness/index.ts';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '500000' },
    every: { type: 'string', default: '10' },
    filter: { type: 'string', default: 'sshd' },
    latency: { type: 'string', default: '1000' },
  },
});
const LINES = Number(values.lines);
const EVERY = Number(values.every);
const LATENCY_LINES = Number(values.latency);
const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'filters');

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function syslogDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
function failure(i: number, user: string, date = syslogDate(new Date())): string {
  return `${date} web-1 sshd[${1000 + (i % 5000)}]: Failed password for invalid user ${user} from 198.51.${(i >> 8) & 255}.${i & 255} port ${1024 + (i % 60000)} ssh2\n`;
}
function other(i: number, date: string): string {
  return i % 2 === 0
    ? `${date} web-1 sshd[${1000 + (i % 5000)}]: Accepted publickey for deploy from 203.0.113.${i & 255} port ${1024 + (i % 60000)} ssh2: ED25519 SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n`
    : `${date} web-1 sshd[${1000 + (i % 5000)}]: pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)\n`;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const nats = await NatsServer.start();
  const dir = tempDir('fleetban-bench-shipper');
  const log = join(dir.path, 'auth.log');
  writeFileSync(log, '');
  const metricsPort = await freePort();
  const settings = {
    host: 'bench-1',
    stateDir: join(dir.path, 'state'),
    nats: { servers: [nats.url] },
    log: { level: 'info' },
    metrics: { listen: `127.0.0.1:${metricsPort}` },
    filters: { dirs: [FIXTURES] },
    jails: { sshd: { filter: values.filter, logpath: log, findtime: '1h' } },
  };
  testConfig(settings);
  const configFile = join(dir.path, 'fleetban.yaml');
  writeFileSync(configFile, stringify(settings));
  // FLEETBAN_BENCH_NODE_OPTIONS (e.g. --cpu-prof) profiles the shipper process.
  const nodeOptions = process.env.FLEETBAN_BENCH_NODE_OPTIONS;
  const shipper = nodeOptions ? startTracked(process.execPath, [...nodeOptions.split(' '), BIN, 'shipper', '--config', configFile]) : startTracked(BIN, ['shipper', '--config', configFile]);
  const nc = await connectNats(testConfig({ nats: { servers: [nats.url] } }).nats, { name: 'bench', log: quietLogger(), mode: 'command' });
  try {
    await waitForOutput(shipper, /fleetban shipper running/, 60_000, 'fleetban shipper');
    const pid = shipper.child.pid!;

    // Phase 1: throughput.
    const failures = Math.floor(LINES / EVERY);
    const cpuBefore = cpuSeconds(pid);
    const started = Date.now();
    const date = syslogDate(new Date());
    for (let i = 0; i < LINES; ) {
      let chunk = '';
      for (let j = 0; j < 10_000 && i < LINES; j++, i++) chunk += i % EVERY === 0 ? failure(i, `u${i}`, date) : other(i, date);
      appendFileSync(log, chunk);
    }
    const written = Date.now();
    await until(async () => (await streamCount(nc, 'fleetban_failures')) >= failures, 30 * 60_000, `${failures} failures in the stream`);
    const stored = Date.now();
    await until(async () => (await metric(metricsPort, 'fleetban_shipper_lines_read_total')) >= LINES, 60_000, 'every line read');
    const cpu = cpuSeconds(pid) - cpuBefore;
    const seconds = (stored - started) / 1000;
    console.log(`filter: ${values.filter}; lines: ${LINES} (${failures} failures, one in ${EVERY}); appended in ${((written - started) / 1000).toFixed(2)} s`);
    console.log(`sustained: ${Math.round(LINES / seconds)} lines/s, ${Math.round(failures / seconds)} failures/s into JetStream (${seconds.toFixed(2)} s from the first append to the last failure stored)`);
    console.log(`CPU: ${(cpu / (LINES / 1e6)).toFixed(2)} CPU seconds per million lines (${cpu.toFixed(2)} s for ${LINES} lines)`);

    // Phase 2: latency from append to stored and delivered.
    const js = jetstream(nc);
    const consumer = await js.consumers.get('fleetban_failures', { deliver_policy: DeliverPolicy.New });
    const appended = new Map<string, number>();
    const latencies: number[] = [];
    const messages = await consumer.consume();
    const reading = (async () => {
      for await (const m of messages) {
        const user = (m.json<{ user?: string }>()).user ?? '';
        const at = appended.get(user);
        if (at !== undefined) latencies.push(performance.now() - at);
        if (latencies.length >= LATENCY_LINES) break;
      }
    })();
    for (let i = 0; i < LATENCY_LINES; i++) {
      const user = `lat${i}`;
      appended.set(user, performance.now());
      appendFileSync(log, failure(LINES + i, user));
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.race([reading, new Promise((r) => setTimeout(r, 60_000))]);
    await messages.close();
    latencies.sort((a, b) => a - b);
    console.log(`append-to-published latency over ${latencies.length} failures at ~200/s: median ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
    console.log(`peak RSS of the shipper process: ${peakRssMiB(pid).toFixed(0)} MiB`);
  } finally {
    await stopProcess(shipper.child, 'SIGTERM');
    await drainNats(nc);
    await nats.dispose();
    dir.remove();
  }
}

await main();
