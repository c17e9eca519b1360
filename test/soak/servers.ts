import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Launcher } from './supervised.ts';

/**
 * nats-server with JetStream on file storage, on a fixed loopback port, so a
 * restart (after SIGKILL too) comes back on the same address with the same
 * streams, consumers and duplicate windows.
 */
export function natsLauncher(dir: string, port: number): Launcher {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'nats.conf');
  writeFileSync(file, [
    `listen: "127.0.0.1:${port}"`,
    `server_name: "fleetban_soak_${port}"`,
    `jetstream { store_dir: "${join(dir, 'store')}" }`,
    '',
  ].join('\n'));
  return { command: 'nats-server', args: ['-c', file], ready: /Server is ready/ };
}

/**
 * redis-server with an append-only file, fsync'd every second as a
 * production Redis would be: a killed process loses nothing it answered,
 * since Redis writes the file before it replies.
 */
export function redisLauncher(dir: string, port: number): Launcher {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'redis.conf');
  writeFileSync(file, [
    'bind 127.0.0.1',
    `port ${port}`,
    `dir ${dir}`,
    'save ""',
    'appendonly yes',
    'appendfsync everysec',
    'daemonize no',
    'protected-mode yes',
    '',
  ].join('\n'));
  return { command: 'redis-server', args: [file], ready: /Ready to accept connections/ };
}
