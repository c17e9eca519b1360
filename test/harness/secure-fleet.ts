import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { parse, stringify } from 'yaml';
import { DEFAULT_IDENTITIES, generateFleet, type FleetFiles, type IdentitySpec } from '../../infra/keys/fleet.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { connectNats } from '../../shared/nats/index.ts';
import { quietLogger } from './log.ts';
import type { Netns } from './netns.ts';
import { freePort } from './ports.ts';
import { startTracked, stopProcess, waitForOutput, type Started } from './processes.ts';
import { tempDir } from './tmp.ts';

export interface SecureFleetOptions {
  identities?: readonly IdentitySpec[];
  prefix?: string;
  scorerConsumer?: string;
  /** Run the servers inside this namespace (on its loopback); the tests then reach them only from inside it. */
  netns?: Netns;
}

/** A permission refusal as nats-server logs it. */
export interface Violation {
  kind: 'Publish' | 'Subscription';
  /** The identity's bundle (`shipper`, `enforcer-edge1`), or the nkey when it is not one of ours. */
  who: string;
  subject: string;
}

/**
 * A fleet's credentials from `infra/keys/generate.sh`'s generator in a temp
 * dir, and the real nats-server and redis-server started with the generated
 * configurations (TLS, nkeys and role permissions; TLS and the ACL file).
 * Everything is stopped by PID and removed by `dispose()`.
 */
export class SecureFleet {
  private nats?: Started;
  private redis?: Started;
  /** Output of the nats-server processes before the current one. */
  private readonly natsLogs: string[] = [];

  private constructor(
    readonly dir: { path: string; remove(): void },
    readonly files: FleetFiles,
    readonly natsPort: number,
    readonly redisPort: number,
    private readonly netns: Netns | undefined,
  ) {}

  static async create(options: SecureFleetOptions = {}): Promise<SecureFleet> {
    const dir = tempDir('fleetban-secure');
    try {
      // Inside a namespace nothing else listens: fixed ports do.
      const [natsPort, redisPort] = options.netns ? [4222, 6379] : [await freePort(), await freePort()];
      const files = await generateFleet({
        out: join(dir.path, 'keys'),
        prefix: options.prefix ?? 'fleetban',
        scorerConsumer: options.scorerConsumer ?? 'scorer',
        identities: options.identities ?? DEFAULT_IDENTITIES,
        nats: { serverName: 'fleetban-test', listen: `127.0.0.1:${natsPort}`, hosts: ['127.0.0.1', 'localhost'], storeDir: join(dir.path, 'jetstream') },
        redis: { hosts: ['127.0.0.1', 'localhost'], tlsPort: redisPort, keyPrefix: 'fleetban:', db: 0 },
        days: 2,
      });
      return new SecureFleet(dir, files, natsPort, redisPort, options.netns);
    } catch (err) {
      dir.remove();
      throw err;
    }
  }

  get natsUrl(): string {
    return `tls://127.0.0.1:${this.natsPort}`;
  }

  identity(bundle: string): FleetFiles['identities'][number] {
    const found = this.files.identities.find((id) => (id.name === id.role ? id.role : `${id.role}-${id.name}`) === bundle);
    if (!found) throw new Error(`no identity ${bundle}`);
    return found;
  }

  /** Starts nats-server; after `stopNats()`, again on the same port with the same store, as after an outage. */
  async startNats(): Promise<void> {
    if (this.nats) this.natsLogs.push(this.nats.output());
    this.nats = this.spawn('nats-server', ['-c', this.files.nats.config]);
    await waitForOutput(this.nats, /Server is ready/, 15_000, 'nats-server');
  }

  async stopNats(): Promise<void> {
    if (this.nats) await stopProcess(this.nats.child);
  }

  async startRedis(): Promise<void> {
    const data = join(this.dir.path, 'redis');
    mkdirSync(data, { recursive: true });
    const file = join(data, 'redis.conf');
    writeFileSync(file, ['bind 127.0.0.1', `dir ${data}`, 'save ""', 'appendonly no', 'daemonize no', `include ${this.files.redis.config}`, ''].join('\n'));
    this.redis = this.spawn('redis-server', [file]);
    await waitForOutput(this.redis, /Ready to accept connections/, 15_000, 'redis-server');
  }

  /** What nats-server wrote so far, over every start. */
  natsLog(): string {
    return this.natsLogs.join('') + (this.nats?.output() ?? '');
  }

  /** Every permission refusal nats-server logged, with the identity it refused. */
  violations(): Violation[] {
    const names = new Map(this.files.identities.map((id) => [id.nkey, id.name === id.role ? id.role : `${id.role}-${id.name}`]));
    const out: Violation[] = [];
    for (const m of this.natsLog().matchAll(/(Publish|Subscription) Violation - Nkey "([A-Z0-9]+)", Subject "([^"]+)"/g)) {
      out.push({ kind: m[1] as Violation['kind'], who: names.get(m[2]!) ?? m[2]!, subject: m[3]! });
    }
    return out;
  }

  /**
   * A fleetban.yaml for `bundle`: its generated credentials merged with
   * `settings` (nested maps merged one level deep, so `nats: {reconnectWait}`
   * keeps the credentials), written as `<name>.yaml` (`<bundle>.yaml` by default).
   */
  writeConfig(bundle: string, settings: Record<string, unknown>, name = bundle): string {
    const id = this.identity(bundle);
    const merged: Record<string, unknown> = parse(readFileSync(id.config, 'utf8')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(settings)) {
      const have = merged[key];
      merged[key] = isMap(have) && isMap(value) ? { ...have, ...value } : value;
    }
    const file = join(this.dir.path, `${name}.yaml`);
    writeFileSync(file, stringify(merged), { mode: 0o600 });
    return file;
  }

  /** A NATS connection with `bundle`'s credentials (as the CLI connects: fails fast). */
  async connect(bundle: string, natsOverrides: Record<string, unknown> = {}): Promise<NatsConnection> {
    const file = this.writeConfig(bundle, { nats: natsOverrides });
    const config = await loadConfig(file);
    return connectNats(config.nats, { name: `test-${bundle}`, log: quietLogger(), mode: 'command', timeoutMs: 3000 });
  }

  async stop(): Promise<void> {
    if (this.nats) await stopProcess(this.nats.child);
    if (this.redis) await stopProcess(this.redis.child);
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.dir.remove();
  }

  private spawn(command: string, args: string[]): Started {
    return this.netns ? this.netns.spawn(command, args) : startTracked(command, args);
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
