import { readFile } from 'node:fs/promises';
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { NatsConfig } from '../config/index.ts';
import { ConnectionError, errorMessage } from '../errors.ts';
import { Outage, reconnectDelay } from './backoff.ts';

export interface NatsConnectOptions {
  /** Connection name shown by the server (`fleetban-scorer@host`). */
  name: string;
  log: Logger;
  /**
   * `service`: wait for the server however long it takes and reconnect forever
   * (shipper, scorer, enforcer). `command`: fail after `timeoutMs` with a clear
   * error, for a CLI command that an operator is waiting on.
   */
  mode: 'service' | 'command';
  timeoutMs?: number;
  /** A service stops trying to make its first connection when this is aborted. */
  signal?: AbortSignal;
  /** Tracks a lost connection, so that reconnect attempts back off; {@link connectNats} makes one. */
  outage?: Outage;
}

/** Builds the nats.js options from the config; reads key, creds and TLS files. */
export async function natsConnectionOptions(config: NatsConfig, options: NatsConnectOptions): Promise<ConnectionOptions> {
  const opts: ConnectionOptions = {
    servers: config.servers,
    name: options.name,
    timeout: options.timeoutMs ?? 5000,
    pingInterval: 20_000,
  };
  const outage = options.outage ?? new Outage();
  const jitter = Math.min(1000, config.reconnectWait);
  opts.reconnectDelayHandler = () => reconnectDelay(config.reconnectWait, outage.downFor(), jitter);
  if (options.mode === 'service') {
    opts.maxReconnectAttempts = -1;
  } else {
    opts.maxReconnectAttempts = 3;
  }
  if (config.user !== undefined) {
    opts.user = config.user;
    opts.pass = config.password;
  }
  if (config.token !== undefined) opts.token = config.token;
  if (config.nkeySeed !== undefined) opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(config.nkeySeed));
  if (config.nkeySeedFile !== undefined) {
    const seed = (await readSecret(config.nkeySeedFile, 'nkey seed')).trim();
    opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  if (config.credsFile !== undefined) {
    opts.authenticator = credsAuthenticator(new TextEncoder().encode(await readSecret(config.credsFile, 'creds')));
  }
  if (config.inboxPrefix !== undefined) opts.inboxPrefix = config.inboxPrefix;
  if (config.tls) {
    opts.tls = {
      ...(config.tls.ca && { caFile: config.tls.ca }),
      ...(config.tls.cert && { certFile: config.tls.cert }),
      ...(config.tls.key && { keyFile: config.tls.key }),
      ...(config.tls.handshakeFirst && { handshakeFirst: true }),
    };
  }
  return opts;
}

/**
 * Connects to NATS with whichever auth form the config names. Logs every
 * disconnect and reconnect; a service's connection never gives up.
 */
export async function connectNats(config: NatsConfig, options: NatsConnectOptions): Promise<NatsConnection> {
  const outage = new Outage();
  const opts = await natsConnectionOptions(config, { ...options, outage });
  let nc: NatsConnection | undefined;
  // A service waits for its first connection as long as it takes (NATS may
  // start after it); our own loop rather than waitOnFirstConnect, so that a
  // stop request can end the wait.
  const firstTry = Date.now();
  for (let attempt = 1; !nc; attempt++) {
    try {
      nc = await connect(opts);
    } catch (err) {
      const error = new ConnectionError(`cannot connect to NATS at ${config.servers.join(', ')}: ${errorMessage(err)}`, { cause: err });
      if (options.mode === 'command') throw error;
      if (attempt === 1 || attempt % 30 === 0) options.log.warn({ attempt, err: errorMessage(err) }, 'NATS unreachable; still trying');
      if (!(await sleep(reconnectDelay(config.reconnectWait, Date.now() - firstTry, 0), options.signal))) throw new ConnectionError('stopped while connecting to NATS', { cause: error });
    }
  }
  watchStatus(nc, options.log, outage);
  options.log.info({ server: nc.getServer() }, 'connected to NATS');
  return nc;
}

function watchStatus(nc: NatsConnection, log: Logger, outage: Outage): void {
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          outage.lost();
          log.warn({ server: s.server }, 'disconnected from NATS; reconnecting');
          break;
        case 'reconnect':
          outage.restored();
          log.info({ server: s.server }, 'reconnected to NATS');
          break;
        case 'error':
          log.error({ err: s.error }, 'NATS connection error');
          break;
        default:
          break;
      }
    }
  })().catch((err: unknown) => log.error({ err }, 'NATS status watcher stopped'));
}

/** Waits `ms`; resolves false at once when `signal` is aborted. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function readSecret(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConnectionError(`cannot read the ${what} file ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Flushes what is buffered and closes; safe to call twice. */
export async function drainNats(nc: NatsConnection): Promise<void> {
  if (nc.isClosed()) return;
  try {
    await nc.drain();
  } catch {
    await nc.close();
  }
}
