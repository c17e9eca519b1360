import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { BIN, freePort, Netns } from '../harness/index.ts';
import { natsLauncher, redisLauncher } from './servers.ts';
import { Supervised, type Launcher, type Surprise } from './supervised.ts';
import type { Timeline } from './timeline.ts';
import type { LogFile } from './writer.ts';

const FILTERS = join(import.meta.dirname, '..', 'fixtures', 'filters');
export const PREFIX = 'soak';
export const JAIL = 'sshd';
export const TABLE = 'soak';

export interface StackShape {
  shippers: number;
  scorers: number;
  enforcers: number;
  maxretry: number;
  findtime: string;
  /** Seconds; longer than the soak and its settling, so every ban is still in force at the end. */
  bantimeSeconds: number;
  /** The scorer's ackWait: how soon a failure held by a dead or frozen replica goes to the other. */
  ackWait: string;
}

/**
 * The whole fleet on this host, as real processes: nats-server (JetStream on
 * file storage), redis-server (append-only file), shippers tailing one log
 * file each, scorer replicas, and enforcers each applying nftables inside a
 * network namespace of its own (never the host's firewall). Every process is
 * a {@link Supervised} the chaos loop can kill, freeze and restart.
 */
export class SoakStack {
  readonly processes: Supervised[] = [];
  readonly logFiles: LogFile[] = [];
  readonly namespaces: Netns[] = [];
  readonly surprises: Surprise[] = [];
  natsUrl = '';
  redisNode = '';
  /** A config with the fleet's settings, for the CLI and the checks. */
  cliConfig = '';

  constructor(
    readonly dir: string,
    readonly shape: StackShape,
    private readonly timeline: Timeline,
  ) {}

  get enforcers(): Supervised[] {
    return this.processes.filter((p) => p.name.startsWith('enforcer'));
  }

  async start(): Promise<void> {
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    const [natsPort, redisPort] = [await freePort(), await freePort()];
    this.natsUrl = `nats://127.0.0.1:${natsPort}`;
    this.redisNode = `127.0.0.1:${redisPort}`;
    const nats = this.supervise('nats', 'server', natsLauncher(join(this.dir, 'nats'), natsPort));
    const redis = this.supervise('redis', 'server', redisLauncher(join(this.dir, 'redis'), redisPort));
    await Promise.all([nats.start(), redis.start()]);

    this.cliConfig = this.writeConfig('cli', {});
    for (let i = 1; i <= this.shape.shippers; i++) {
      const host = `log-${i}`;
      const path = join(this.dir, `${host}.log`);
      writeFileSync(path, '');
      this.logFiles.push({ host, path });
      this.part(`shipper-${i}`, 'shipper', host, { logpath: path });
    }
    for (let i = 1; i <= this.shape.scorers; i++) this.part(`scorer-${i}`, 'scorer', `core-${i}`);
    for (let i = 1; i <= this.shape.enforcers; i++) {
      const ns = await Netns.create(`soak${i}`);
      this.namespaces.push(ns);
      this.part(`enforcer-${i}`, 'enforcer', `edge-${i}`, {}, { enforcer: { backend: 'nftables', netns: ns.name, table: TABLE } });
    }
    // The scorers create the streams first, as an operator's `streams --apply` would.
    const parts = this.processes.filter((p) => p.role === 'part');
    await Promise.all(parts.filter((p) => p.name.startsWith('scorer')).map((p) => p.start()));
    await Promise.all(parts.filter((p) => !p.name.startsWith('scorer')).map((p) => p.start()));
  }

  /** Every process healthy (running, ready, not frozen) and no operation on any. */
  get settled(): boolean {
    return this.processes.every((p) => p.healthy && !p.busy);
  }

  /** Stops the parts, then Redis and NATS; removes the namespaces. */
  async stop(): Promise<void> {
    const parts = this.processes.filter((p) => p.role === 'part');
    await Promise.all(parts.map((p) => p.close(30_000)));
    await Promise.all(this.processes.filter((p) => p.role === 'server').map((p) => p.close(30_000)));
    for (const ns of this.namespaces) await ns.remove();
  }

  private supervise(name: string, role: 'server' | 'part', launcher: Launcher): Supervised {
    const process = new Supervised(name, role, launcher, this.timeline, join(this.dir, 'logs', `${name}.log`), this.surprises);
    this.processes.push(process);
    return process;
  }

  private part(name: string, part: string, host: string, jail: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): void {
    const config = this.writeConfig(host, jail, extra);
    const ready = new RegExp(`fleetban ${part} running`);
    this.supervise(name, 'part', { command: BIN, args: [part, '--config', config], ready });
  }

  private writeConfig(host: string, jail: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
    const { maxretry, findtime, bantimeSeconds, ackWait } = this.shape;
    const file = join(this.dir, `${host}.yaml`);
    writeFileSync(file, stringify({
      prefix: PREFIX,
      host,
      stateDir: join(this.dir, 'state', host),
      nats: { servers: [this.natsUrl], reconnectWait: '0.2s' },
      redis: { nodes: [this.redisNode] },
      log: { level: 'info' },
      filters: { dirs: [FILTERS] },
      jails: {
        [JAIL]: { filter: 'fleetban-test', logpath: join(this.dir, 'none.log'), maxretry, findtime, bantime: bantimeSeconds, port: 22, ...jail },
      },
      shipper: { checkInterval: '0.25s' },
      scorer: { ackWait },
      ...extra,
    }));
    return file;
  }
}
