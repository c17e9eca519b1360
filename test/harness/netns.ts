import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { onProcessExit, startTracked, stopProcess, waitForOutput, type Started } from './processes.ts';

const run = promisify(execFile);
const PREFIX = 'fbt-';

/**
 * Why namespace tests cannot run here, or undefined when they can. Tests pass
 * this to `skip` so a machine without root says so instead of passing silently.
 */
export function netnsSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces (run the tests as root)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return 'the `ip` command (iproute2) is missing or cannot list network namespaces';
  }
  return undefined;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A network namespace created by this test process (`fbt-<pid>-<id>-<label>`),
 * removed by `remove()` or when the process exits, so a failing test leaves
 * nothing behind. Namespaces of test processes that died are swept on load.
 */
export class Netns {
  private removed = false;
  private readonly unhook: () => void;

  private constructor(readonly name: string) {
    this.unhook = onProcessExit(() => this.removeSync());
  }

  static async create(label: string): Promise<Netns> {
    const name = `${PREFIX}${process.pid}-${randomBytes(3).toString('hex')}-${label}`.slice(0, 60);
    await run('ip', ['netns', 'add', name]);
    const ns = new Netns(name);
    await ns.ok('ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs a command inside the namespace (argument vector, no shell). */
  async exec(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return new Promise((resolve) => {
      const child = execFile('ip', ['netns', 'exec', this.name, command, ...args], { timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
      if (options.input !== undefined) child.stdin?.end(options.input);
    });
  }

  /** Like exec, but throws with the command's stderr when it fails. */
  async ok(command: string, args: readonly string[], options: { input?: string } = {}): Promise<string> {
    const r = await this.exec(command, args, options);
    if (r.code !== 0) throw new Error(`in ${this.name}: ${command} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Starts a long-running, tracked process inside the namespace. */
  spawn(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Started {
    return startTracked('ip', ['netns', 'exec', this.name, command, ...args], env ? { env } : {});
  }

  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    this.unhook();
    await run('ip', ['netns', 'del', this.name]).catch(() => undefined);
  }

  private removeSync(): void {
    if (this.removed) return;
    this.removed = true;
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

/**
 * Joins two namespaces with a veth pair and gives each end its addresses
 * (CIDR form; IPv6 added without duplicate-address detection so they work at once).
 */
export async function linkNamespaces(a: Netns, aAddresses: readonly string[], b: Netns, bAddresses: readonly string[]): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const [ifA, ifB] = [`fa${id}`, `fb${id}`];
  await run('ip', ['link', 'add', ifA, 'netns', a.name, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.name]);
  for (const [ns, ifname, addresses] of [[a, ifA, aAddresses], [b, ifB, bAddresses]] as const) {
    for (const address of addresses) {
      await ns.ok('ip', address.includes(':') ? ['addr', 'add', address, 'dev', ifname, 'nodad'] : ['addr', 'add', address, 'dev', ifname]);
    }
    await ns.ok('ip', ['link', 'set', ifname, 'up']);
  }
}

/** An "edge" host and an "attacker" host on one link, in documentation ranges. */
export interface EdgeAndAttacker {
  edge: Netns;
  attacker: Netns;
  edgeV4: string;
  edgeV6: string;
  /** Several source addresses the attacker can connect from. */
  attackerV4: readonly string[];
  attackerV6: readonly string[];
  remove(): Promise<void>;
}

export async function edgeAndAttacker(): Promise<EdgeAndAttacker> {
  const edge = await Netns.create('edge');
  const attacker = await Netns.create('atk');
  try {
    const attackerV4 = ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13'];
    const attackerV6 = ['2001:db8::10', '2001:db8::11', '2001:db8:0:1::10'];
    await linkNamespaces(edge, ['192.0.2.1/24', '2001:db8::1/48'], attacker, [...attackerV4.map((a) => `${a}/24`), ...attackerV6.map((a) => `${a}/48`)]);
    return {
      edge,
      attacker,
      edgeV4: '192.0.2.1',
      edgeV6: '2001:db8::1',
      attackerV4,
      attackerV6,
      async remove() {
        await edge.remove();
        await attacker.remove();
      },
    };
  } catch (err) {
    await edge.remove();
    await attacker.remove();
    throw err;
  }
}

const LISTENER = `
const net = require('node:net');
const ports = JSON.parse(process.argv[1]);
let ready = 0;
for (const port of ports) {
  for (const host of ['0.0.0.0', '::']) {
    const s = net.createServer((c) => { c.on('error', () => {}); c.end('hello\\n'); });
    s.listen({ port, host, ipv6Only: host === '::' }, () => { if (++ready === ports.length * 2) console.log('listening'); });
  }
}`;

/** A TCP server inside a namespace answering on `ports` (IPv4 and IPv6). */
export async function tcpListener(ns: Netns, ports: readonly number[]): Promise<{ stop(): Promise<void>; child: ChildProcess }> {
  const started = ns.spawn(process.execPath, ['-e', LISTENER, JSON.stringify(ports)]);
  await waitForOutput(started, /listening/, 10_000, 'tcp listener');
  return { child: started.child, stop: () => stopProcess(started.child, 'SIGKILL') };
}

const CONNECTOR = `
const net = require('node:net');
const [host, port, localAddress, timeout] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port), localAddress });
const done = (r) => { console.log(r); process.exit(0); };
s.setTimeout(Number(timeout), () => done('timeout'));
s.on('connect', () => done('connected'));
s.on('error', (e) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'error:' + e.code));`;

export type ConnectOutcome = 'connected' | 'refused' | 'timeout' | `error:${string}`;

/**
 * Tries a TCP connection from `from` (an address of the namespace) to
 * `host:port`. A drop shows as `timeout`, a reject as `refused`.
 */
export async function tcpConnect(ns: Netns, from: string, host: string, port: number, timeoutMs = 1000): Promise<ConnectOutcome> {
  const r = await ns.exec(process.execPath, ['-e', CONNECTOR, host, String(port), from, String(timeoutMs)], { timeoutMs: timeoutMs + 10_000 });
  return r.stdout.trim() as ConnectOutcome;
}

/** Whether `from` can open a connection: a drop or a reject both mean "blocked". */
export async function canConnect(ns: Netns, from: string, host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return (await tcpConnect(ns, from, host, port, timeoutMs)) === 'connected';
}

// Sweep namespaces left by test processes that were killed before they could clean up.
function sweepStale(): void {
  if (netnsSkipReason()) return;
  let list = '';
  try {
    list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^fbt-(\d+)-/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // someone else removed it
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

sweepStale();
