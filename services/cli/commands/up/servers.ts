import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, EXIT } from '../../command.ts';
import { Child } from './children.ts';
import type { Endpoint, NatsStart, RedisStart } from './plan.ts';

/** How long a server may take to say it is ready. */
const READY_TIMEOUT_MS = 30_000;

const hostPort = (e: Endpoint) => (e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`);

/** nats-server's config: loopback only, JetStream in the state directory, the config's own auth. */
export function natsServerConfig(start: NatsStart): string {
  const q = JSON.stringify;
  const lines = [
    `listen: ${q(hostPort(start.listen))}`,
    `server_name: ${q(`fleetban_up_${start.listen.port}`)}`,
    `jetstream { store_dir: ${q(start.storeDir)} }`,
  ];
  if (start.auth && 'token' in start.auth) lines.push(`authorization { token: ${q(start.auth.token)} }`);
  else if (start.auth) lines.push(`authorization { user: ${q(start.auth.user)}, password: ${q(start.auth.password)} }`);
  return `${lines.join('\n')}\n`;
}

const redisQuote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * redis-server's config: loopback only, its data in the state directory,
 * the config's password or user. The windows and ban counts must survive a
 * crash, not only a clean stop: an append-only file fsynced every second
 * (`appendfsync everysec`), so a SIGKILL or power cut loses at most about a
 * second of writes. `always` would fsync on every failure counted, a disk
 * write per log line under attack, for a second's worth of failures that
 * the windows barely notice. The snapshot stays for quick restarts.
 */
export function redisServerConfig(start: RedisStart): string {
  const lines = [
    `bind ${start.listen.host}`,
    `port ${start.listen.port}`,
    `dir ${redisQuote(start.dir)}`,
    'dbfilename dump.rdb',
    'save 300 1',
    'appendonly yes',
    'appendfsync everysec',
    'appendfilename "appendonly.aof"',
    'daemonize no',
    'protected-mode yes',
    'logfile ""',
  ];
  if (start.auth?.user !== undefined) {
    lines.push('user default off', `user ${start.auth.user} on ${redisQuote(`>${start.auth.password}`)} ~* &* +@all`);
  } else if (start.auth) {
    lines.push(`requirepass ${redisQuote(start.auth.password)}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface ServerSpec {
  name: 'nats-server' | 'redis-server';
  command: string;
  args: string[];
  /** A line that says it serves. */
  ready: RegExp;
  /** Where its config (mode 0600: it may hold a password) and its log go. */
  configFile: string;
  configText: string;
  logFile: string;
  /** Where it listens, for messages. */
  listen: string;
}

export function natsServerSpec(start: NatsStart, upDir: string): ServerSpec {
  const configFile = join(upDir, 'nats-server.conf');
  return { name: 'nats-server', command: 'nats-server', args: ['-c', configFile], ready: /Server is ready/, configFile, configText: natsServerConfig(start), logFile: join(upDir, 'nats-server.log'), listen: hostPort(start.listen) };
}

export function redisServerSpec(start: RedisStart, upDir: string): ServerSpec {
  const configFile = join(upDir, 'redis-server.conf');
  return { name: 'redis-server', command: 'redis-server', args: [configFile], ready: /Ready to accept connections/, configFile, configText: redisServerConfig(start), logFile: join(upDir, 'redis-server.log'), listen: hostPort(start.listen) };
}

/**
 * Starts a server as a child and resolves once it says it is ready. Its
 * output goes to its log file; on failure the error carries the last lines.
 */
export async function startServer(spec: ServerSpec, dataDir: string): Promise<Child> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(spec.configFile, spec.configText, { mode: 0o600 });
  const log = createWriteStream(spec.logFile, { flags: 'a' });
  let ready = false;
  let onReady: () => void = () => undefined;
  const readyLine = new Promise<void>((resolve) => (onReady = resolve));
  const child = Child.spawn(spec.name, spec.command, spec.args, {
    onLine(line) {
      log.write(`${line}\n`);
      if (!ready && spec.ready.test(line)) {
        ready = true;
        onReady();
      }
    },
  });
  child.exited.then(() => log.end(), () => log.end());
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    readyLine.then(() => 'ready' as const),
    child.exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), READY_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (outcome === 'ready') return child;
  await child.stop('SIGKILL');
  const output = child.output();
  const key = spec.name === 'nats-server' ? 'nats' : 'redis';
  let message: string;
  if (/ENOENT/.test(output)) message = `${spec.command} is not installed: run infra/setup/setup.sh (or apt-get install ${spec.command})`;
  else if (/address already in use/i.test(output)) message = `${spec.name} cannot listen on ${spec.listen}: the address is in use (another fleetban up, or a server of your own: set up.${key}: external to use it)`;
  else message = `${spec.name} ${outcome === 'timeout' ? `was not ready after ${READY_TIMEOUT_MS / 1000} s` : 'exited before it was ready'}; its last lines (all in ${spec.logFile}):\n${output.split('\n').slice(-8).join('\n')}`;
  throw new CliError(message, EXIT.unavailable);
}
