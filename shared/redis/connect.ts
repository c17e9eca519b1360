import { readFile } from 'node:fs/promises';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConfig } from '../config/index.ts';
import { ConnectionError, errorMessage } from '../errors.ts';

/** A standalone/sentinel client or a cluster client: both run the same commands and scripts. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectOptions {
  /** Client name shown by `CLIENT LIST`. */
  name: string;
  log: Logger;
  /**
   * `service`: retry forever, queue nothing while disconnected (a command
   * fails at once, so the caller stops acknowledging and retries later).
   * `command`: give up after `timeoutMs`.
   */
  mode: 'service' | 'command';
  timeoutMs?: number;
  /**
   * Send the commands issued in one event-loop tick in one write (ioredis
   * auto-pipelining): many small concurrent calls, such as one script per
   * failure, then cost far fewer system calls.
   */
  autoPipelining?: boolean;
}

function endpoint(node: string): { host: string; port: number } {
  const i = node.lastIndexOf(':');
  return { host: node.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(node.slice(i + 1)) };
}

async function tlsOptions(config: RedisConfig): Promise<RedisOptions['tls']> {
  if (!config.tls) return undefined;
  const read = async (file: string | undefined, what: string) => {
    if (!file) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw new ConnectionError(`cannot read the Redis TLS ${what} ${file}: ${errorMessage(err)}`, { cause: err });
    }
  };
  const [ca, cert, key] = await Promise.all([read(config.tls.ca, 'CA'), read(config.tls.cert, 'certificate'), read(config.tls.key, 'key')]);
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }), ...(config.tls.servername && { servername: config.tls.servername }) };
}

// The error behind a failed connect: ioredis rejects connect() with only
// "Connection is closed", while the reason (WRONGPASS, ECONNREFUSED) was emitted before.
const lastErrors = new WeakMap<RedisClient, Error>();

/** Builds an ioredis client for standalone, sentinel or cluster from the same config; does not wait for it. */
export async function createRedis(config: RedisConfig, options: RedisConnectOptions): Promise<RedisClient> {
  const service = options.mode === 'service';
  const common: RedisOptions = {
    connectionName: options.name,
    username: config.user,
    password: config.password,
    tls: await tlsOptions(config),
    lazyConnect: true,
    connectTimeout: options.timeoutMs ?? 5000,
    enableOfflineQueue: !service,
    maxRetriesPerRequest: service ? 0 : 1,
    retryStrategy: (times) => (service || times < 3 ? Math.min(100 * 2 ** Math.min(times, 6), 5000) : null),
    enableAutoPipelining: options.autoPipelining ?? false,
  };
  let client: RedisClient;
  if (config.mode === 'cluster') {
    const clusterOptions: ClusterOptions = {
      redisOptions: common,
      lazyConnect: true,
      enableOfflineQueue: !service,
      enableAutoPipelining: options.autoPipelining ?? false,
      clusterRetryStrategy: common.retryStrategy!,
    };
    client = new Cluster(config.nodes.map(endpoint), clusterOptions);
  } else if (config.mode === 'sentinel') {
    client = new Redis({
      ...common,
      db: config.db,
      sentinels: config.nodes.map(endpoint),
      name: config.sentinelName!,
      sentinelPassword: config.sentinelPassword,
      sentinelRetryStrategy: common.retryStrategy!,
    });
  } else {
    client = new Redis({ ...common, ...endpoint(config.nodes[0]!), db: config.db });
  }
  let down = false;
  client.on('error', (err: Error) => {
    lastErrors.set(client, err);
    if (!down) options.log.warn({ err: err.message }, 'Redis connection error; retrying');
    down = true;
  });
  client.on('ready', () => {
    if (down) options.log.info('Redis is reachable again');
    down = false;
  });
  return client;
}

/** Creates a client and waits until it is ready; throws {@link ConnectionError} if it cannot be reached. */
export async function connectRedis(config: RedisConfig, options: RedisConnectOptions): Promise<RedisClient> {
  const client = await createRedis(config, options);
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    const reason = lastErrors.get(client) ?? err;
    throw new ConnectionError(`cannot connect to Redis (${config.mode}) at ${config.nodes.join(', ')}: ${errorMessage(reason)}`, { cause: reason });
  }
  options.log.info({ mode: config.mode, nodes: config.nodes }, 'connected to Redis');
  return client;
}

export async function closeRedis(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
