import { isAbsolute, join, resolve } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import type { Config } from '../../../../shared/config/index.ts';
import { Allowlist, LOOPBACK_NETWORKS, tryCanonicalIp } from '../../../../shared/ip/index.ts';

/**
 * The pure half of `fleetban up`: from the config (and which keys its file
 * sets) to what is started where, or every reason it cannot be.
 */

export interface Endpoint {
  /** A loopback address, canonical (`127.0.0.1`, `::1`). */
  host: string;
  port: number;
}

export interface NatsStart {
  listen: Endpoint;
  /** JetStream's store, under the state directory. */
  storeDir: string;
  auth?: { user: string; password: string } | { token: string };
}

export interface RedisStart {
  listen: Endpoint;
  /** Where redis-server saves its snapshot. */
  dir: string;
  auth?: { user?: string; password: string };
}

export interface UpPlan {
  /** Absolute: `<stateDir>/up`, where the servers keep their data and logs. */
  upDir: string;
  /** Started as a child, or undefined: the configured server is used. */
  nats?: NatsStart;
  redis?: RedisStart;
  /** What the parts connect to, for the messages. */
  natsServers: readonly string[];
  redisNodes: readonly string[];
  /** The enforcer's firewall: its backend and, with `enforcer.netns`, the namespace to use (created if missing). */
  enforcer: { backend: string; netns?: string; dryRun: boolean };
}

/** Whether the file sets `nats.servers` and `redis.nodes` (the schema gives both a default). */
export interface Written {
  natsServers: boolean;
  redisNodes: boolean;
}

export function writtenKeys(text: string): Written {
  const doc = parseDocument(text);
  return { natsServers: doc.hasIn(['nats', 'servers']), redisNodes: doc.hasIn(['redis', 'nodes']) };
}

const LOOPBACK = new Allowlist(LOOPBACK_NETWORKS);

function loopback(host: string): string | undefined {
  const ip = tryCanonicalIp(host.replace(/^\[|\]$/g, ''));
  return ip !== undefined && LOOPBACK.has(ip) ? ip : undefined;
}

/** `nats://127.0.0.1:4322`, `127.0.0.1:4322` or `nats://[::1]:4322` as a loopback endpoint. */
export function natsEndpoint(server: string): Endpoint | string {
  let url: URL;
  try {
    url = new URL(server.includes('://') ? server : `nats://${server}`);
  } catch {
    return `"${server}" is not a NATS URL`;
  }
  if (url.protocol !== 'nats:') return `"${server}": a nats-server started by fleetban up speaks plain nats://`;
  const host = loopback(url.hostname);
  if (!host) return `"${server}" is not a loopback address (127.0.0.1 or ::1): fleetban up starts servers on loopback only`;
  return { host, port: url.port ? Number(url.port) : 4222 };
}

/** `127.0.0.1:6379` or `[::1]:6379` as a loopback endpoint. */
export function redisEndpoint(node: string): Endpoint | string {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(node);
  const host = m ? loopback(m[1]!) : undefined;
  if (!m || !host) return `"${node}" is not a loopback address and port (127.0.0.1:6379 or [::1]:6379): fleetban up starts servers on loopback only`;
  return { host, port: Number(m[2]) };
}

export type PlanResult = { ok: true; plan: UpPlan } | { ok: false; problems: string[] };

export function planUp(config: Config, written: Written, options: { dryRun: boolean; cwd: string }): PlanResult {
  const problems: string[] = [];
  const stateDir = isAbsolute(config.stateDir) ? config.stateDir : resolve(options.cwd, config.stateDir);
  const upDir = join(stateDir, 'up');
  const startNats = config.up.nats === 'start' || (config.up.nats === 'auto' && !written.natsServers);
  const startRedis = config.up.redis === 'start' || (config.up.redis === 'auto' && !written.redisNodes);
  let nats: NatsStart | undefined;
  let redis: RedisStart | undefined;

  if (startNats) {
    const n = config.nats;
    const listen = n.servers.length === 1 ? natsEndpoint(n.servers[0]!) : 'name exactly one server for fleetban up to start';
    if (typeof listen === 'string') problems.push(`nats.servers: ${listen}`);
    if (n.nkeySeed !== undefined || n.nkeySeedFile !== undefined || n.credsFile !== undefined || n.tls !== undefined) {
      problems.push('nats: a nats-server started by fleetban up takes user/password or token auth, without TLS; run your own and set up.nats: external');
    }
    for (const [name, stream] of Object.entries(n.streams)) {
      if (stream.replicas !== 1) problems.push(`nats.streams.${name}.replicas: a single nats-server keeps one replica`);
    }
    if (typeof listen !== 'string') {
      nats = {
        listen,
        storeDir: join(upDir, 'nats'),
        ...(n.user !== undefined && n.password !== undefined && { auth: { user: n.user, password: n.password } }),
        ...(n.token !== undefined && { auth: { token: n.token } }),
      };
    }
  }

  if (startRedis) {
    const r = config.redis;
    const listen = r.nodes.length === 1 ? redisEndpoint(r.nodes[0]!) : 'name exactly one node for fleetban up to start';
    if (typeof listen === 'string') problems.push(`redis.nodes: ${listen}`);
    if (r.mode !== 'standalone') problems.push(`redis.mode: fleetban up starts a standalone redis-server, not ${r.mode}; run your own and set up.redis: external`);
    if (r.tls !== undefined) problems.push('redis.tls: a redis-server started by fleetban up has no TLS; run your own and set up.redis: external');
    if (r.user !== undefined && r.password === undefined) problems.push('redis.user: a Redis user needs a password');
    if (typeof listen !== 'string') {
      redis = {
        listen,
        dir: join(upDir, 'redis'),
        ...(r.password !== undefined && { auth: { ...(r.user !== undefined && { user: r.user }), password: r.password } }),
      };
    }
  }

  // Every part reads the same file, so what only one process can have is refused here.
  if (config.metrics.listen) problems.push('metrics.listen: the three parts fleetban up starts read one config and would all listen there; leave it unset');
  for (const jail of Object.values(config.jails)) {
    if (jail.logpath.includes('-')) problems.push(`jails.${jail.name}.logpath: "-" (standard input) cannot be read by a shipper that fleetban up starts`);
  }

  if (problems.length > 0) return { ok: false, problems };
  const netns = options.dryRun ? undefined : config.enforcer.netns;
  return {
    ok: true,
    plan: {
      upDir,
      ...(nats && { nats }),
      ...(redis && { redis }),
      natsServers: config.nats.servers,
      redisNodes: config.redis.nodes,
      enforcer: { backend: options.dryRun ? 'dry-run' : config.enforcer.backend, ...(netns !== undefined && { netns }), dryRun: options.dryRun },
    },
  };
}

/**
 * The config the enforcer runs with under `--dry-run`: the same file with
 * the dry-run backend everywhere and no namespace. Comments and every other
 * setting stay as written.
 */
export function dryRunConfigText(text: string): string {
  const doc = parseDocument(text);
  const enforcer = doc.get('enforcer');
  if (isMap(enforcer)) {
    enforcer.set('backend', 'dry-run');
    enforcer.delete('netns');
  } else {
    doc.set('enforcer', doc.createNode({ backend: 'dry-run' }));
  }
  const defaults = doc.get('defaults');
  if (isMap(defaults)) defaults.delete('banaction');
  const jails = doc.get('jails');
  if (isMap(jails)) for (const pair of jails.items) if (isMap(pair.value)) pair.value.delete('banaction');
  return doc.toString();
}
