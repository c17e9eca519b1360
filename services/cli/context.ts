import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { NatsConnection } from '@nats-io/nats-core';
import { loadConfig, parseConfig, type Config } from '../../shared/config/index.ts';
import { ConfigError, ConnectionError, errorMessage, formatConfigProblem } from '../../shared/errors.ts';
import { connectNats, drainNats } from '../../shared/nats/index.ts';
import { subjectsFor, type Subjects } from '../../shared/schema/index.ts';
import { createLogger, type Logger } from '../../shared/telemetry/index.ts';
import { CliError, EXIT, type CliIo } from './command.ts';
import { DEFAULT_CONFIG_FILE } from './service-command.ts';

/**
 * Loads the config a command names; without `--config`, the default file
 * when it exists, else the built-in defaults (NATS on 127.0.0.1:4222, prefix
 * `fleetban`), which is also what `fleetban up` starts for a file that names
 * no server.
 */
export async function loadCommandConfig(file: string | undefined, io: CliIo): Promise<Config> {
  const path = file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (path === undefined) {
    const parsed = parseConfig('', '(defaults)', { hostname: hostname() });
    if (!parsed.ok) throw new CliError('the built-in defaults do not parse', EXIT.software);
    return parsed.config;
  }
  try {
    return await loadConfig(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.stderr.write(`${formatConfigProblem(p)}\n`);
    throw new CliError(`${err.problems.length} error${err.problems.length === 1 ? '' : 's'} in ${path}`, EXIT.config, { cause: err });
  }
}

/** Warnings and errors of the libraries a command uses, on stderr, as JSON lines. */
export function commandLogger(io: CliIo): Logger {
  return createLogger({ level: 'warn', part: 'cli', destination: { write: (s: string) => void io.stderr.write(s) } });
}

/** Who is deciding, for a manual decision's `by`: the operator behind sudo if any, at this host. */
export function operator(config: Pick<Config, 'host'>): string {
  let user = process.env.SUDO_USER;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = `uid ${process.getuid?.() ?? '?'}`;
    }
  }
  return `${user}@${config.host}`.slice(0, 255);
}

export interface FleetSession {
  config: Config;
  nc: NatsConnection;
  subjects: Subjects;
  log: Logger;
}

/**
 * Runs `fn` with a NATS connection made for one command (fails within
 * seconds when NATS is unreachable, instead of waiting like a service) and
 * drains it afterwards.
 */
export async function withFleet<T>(config: Config, io: CliIo, fn: (session: FleetSession) => Promise<T>): Promise<T> {
  const log = commandLogger(io);
  const subjects = subjectsFor(config.prefix);
  let nc: NatsConnection;
  try {
    nc = await connectNats(config.nats, { name: `${subjects.serviceName('cli')}@${config.host}`, log, mode: 'command', timeoutMs: 5000 });
  } catch (err) {
    if (err instanceof ConnectionError) throw new CliError(err.message, EXIT.unavailable, { cause: err });
    throw err;
  }
  try {
    return await fn({ config, nc, subjects, log });
  } finally {
    await drainNats(nc).catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'closing the NATS connection failed'));
  }
}
