import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { selects, type Config } from '../../../../shared/config/index.ts';
import { errorMessage } from '../../../../shared/errors.ts';
import { PACKAGE_ROOT } from '../../../../shared/runtime/package.ts';
import { isSupervisorMessage, SUPERVISED_ENV } from '../../../../shared/runtime/supervisor.ts';
import { failuresWithin, formatDuration } from '../../../../shared/time/index.ts';
import { CliError, EXIT, type CliIo } from '../../command.ts';
import { Child } from './children.ts';
import { formatChildLine } from './logs.ts';
import { createNetns, netnsExists, removeNetnsSync } from './netns.ts';
import { dryRunConfigText, type UpPlan } from './plan.ts';
import { natsServerSpec, redisServerSpec, startServer } from './servers.ts';

/** The executable the parts run as: the same checkout or package as this `fleetban up`. */
const BIN = join(PACKAGE_ROOT, 'bin', 'fleetban');
/** The parts, in the order they start; they stop together, before the servers. */
const PARTS = ['scorer', 'enforcer', 'shipper'] as const;
type PartName = (typeof PARTS)[number];
/** After this long without every part running, say which ones are still starting. */
const SLOW_START_MS = 15_000;
/** A child that dies while up runs is started again after 1 s, 2 s, 4 s … up to 30 s. */
const RESTART = { firstMs: 1000, maxMs: 30_000, stableMs: 60_000 } as const;

export interface StackInput {
  io: CliIo;
  config: Config;
  configFile: string;
  /** The config file's text, for the enforcer's dry-run copy. */
  configText: string;
  plan: UpPlan;
}

/**
 * The single-host stack as one supervisor: servers first, then the parts
 * (each a `fleetban <part>` child process with an IPC channel), then wait.
 * A child that dies once all is running is started again with backoff: the
 * namespace and its kernel bans stay, since a crash must not lift every ban
 * at once. On Ctrl-C or SIGTERM (an operator's stop), stop the parts, then
 * the servers, each by its PID, and remove the namespace it created: it is
 * up's own sandbox, and a ban kept in an orphaned namespace protects
 * nothing. A second Ctrl-C kills what is left at once. If this process
 * dies anyway, its exit handler kills the children it knows, and the parts
 * stop by themselves when their IPC channel closes.
 */
export class Stack {
  private readonly servers = new Map<string, Child>();
  private readonly parts = new Map<PartName, Child>();
  private createdNetns: string | undefined;
  /** Set once stopping began: children exiting after that are expected. */
  private stopping = false;
  /** Set once every part runs: from then on a child that exits is started again. */
  private supervising = false;
  private readonly io: CliIo;

  constructor(private readonly input: StackInput) {
    this.io = input.io;
  }

  async run(): Promise<number> {
    const stop = new AbortController();
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        this.say(`${signal}: stopping (again to kill at once)`);
        this.stopping = true;
        stop.abort();
      } else {
        this.killAll();
      }
    };
    const onExit = () => this.killAll();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('exit', onExit);
    let code: number = EXIT.ok;
    try {
      await this.prepare(stop.signal);
      if (!stop.signal.aborted) await this.startParts(stop.signal);
      if (!stop.signal.aborted) {
        this.ready();
        this.supervising = true;
        await this.keepRunning(stop.signal);
      }
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      this.io.stderr.write(`fleetban up: ${err.message}\n`);
      code = err.exitCode;
    } finally {
      await this.shutdown();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('exit', onExit);
    }
    return code;
  }

  /** State directory, network namespace, the enforcer's dry-run config, and the servers. */
  private async prepare(stopping: AbortSignal): Promise<void> {
    const { plan } = this.input;
    try {
      mkdirSync(plan.upDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new CliError(`cannot create ${plan.upDir} (stateDir): ${errorMessage(err)}`, EXIT.noPermission, { cause: err });
    }
    const netns = plan.enforcer.netns;
    if (netns !== undefined && !netnsExists(netns)) {
      await createNetns(netns);
      this.createdNetns = netns;
      this.say(`created network namespace ${netns}; the enforcer's firewall lives there, and it goes when fleetban up stops`);
    }
    if (plan.nats && !stopping.aborted) {
      const nats = plan.nats;
      this.servers.set('nats-server', await this.startServerAs('nats-server', () => startServer(natsServerSpec(nats, plan.upDir), nats.storeDir)));
      this.say(`nats-server (pid ${this.servers.get('nats-server')!.pid}) on nats://${endpointText(nats.listen)}, JetStream in ${nats.storeDir}`);
    }
    if (plan.redis && !stopping.aborted) {
      const redis = plan.redis;
      this.servers.set('redis-server', await this.startServerAs('redis-server', () => startServer(redisServerSpec(redis, plan.upDir), redis.dir)));
      this.say(`redis-server (pid ${this.servers.get('redis-server')!.pid}) on ${endpointText(redis.listen)}, data in ${redis.dir}`);
    }
  }

  /** How each server is started, again after a crash. */
  private readonly serverStarts = new Map<string, () => Promise<Child>>();

  private startServerAs(name: string, start: () => Promise<Child>): Promise<Child> {
    this.serverStarts.set(name, start);
    return start();
  }

  /** How each part is started, again after a crash. */
  private readonly partStarts = new Map<PartName, () => Child>();

  /**
   * Until an operator stops `up`: every child that exits is started again,
   * after 1 s, then twice as long each time up to 30 s (back to 1 s once it
   * ran for a minute). Bans stay in the kernel meanwhile.
   */
  private async keepRunning(stopping: AbortSignal): Promise<void> {
    const watch = async (name: string, current: () => Child | undefined, start: () => Promise<Child>, store: (c: Child) => void) => {
      let attempt = 0;
      while (!stopping.aborted) {
        const child = current();
        if (!child) return;
        const since = Date.now();
        const exit = await Promise.race([child.exited, aborted(stopping).then(() => undefined)]);
        if (!exit || stopping.aborted) return;
        if (Date.now() - since > RESTART.stableMs) attempt = 0;
        const delay = Math.min(RESTART.firstMs * 2 ** attempt++, RESTART.maxMs);
        const how = exit.signal ? `on ${exit.signal}` : `with code ${exit.code}`;
        this.say(`${name} (pid ${child.pid}) exited ${how}; starting it again in ${delay / 1000} s (bans stay in force)`);
        if (!(await pause(delay, stopping))) return;
        try {
          const next = await start();
          store(next);
          this.say(`${name} started again (pid ${next.pid})`);
        } catch (err) {
          this.say(`${name} could not start again: ${errorMessage(err)}`);
        }
      }
    };
    await Promise.all([
      ...[...this.serverStarts].map(([name, start]) => watch(name, () => this.servers.get(name), start, (c) => this.servers.set(name, c))),
      ...[...this.partStarts].map(([name, start]) => watch(name, () => this.parts.get(name), async () => start(), (c) => this.parts.set(name, c))),
    ]);
  }

  private async startParts(stopping: AbortSignal): Promise<void> {
    const { plan, configFile, configText } = this.input;
    let enforcerConfig = configFile;
    if (plan.enforcer.dryRun) {
      enforcerConfig = join(plan.upDir, 'enforcer.dry-run.yaml');
      writeFileSync(enforcerConfig, dryRunConfigText(configText), { mode: 0o600 });
    }
    const running = new Set<PartName>();
    let allRunning: () => void = () => undefined;
    const everyPart = new Promise<void>((resolve) => (allRunning = resolve));
    for (const part of PARTS) {
      const start = () => {
        const child = Child.spawn(part, process.execPath, [BIN, part, '--config', part === 'enforcer' ? enforcerConfig : configFile], {
          ipc: true,
          env: { ...process.env, [SUPERVISED_ENV]: '1' },
          onLine: (line) => this.io.stderr.write(`${formatChildLine(part, line)}\n`),
        });
        child.process.on('message', (message) => {
          if (!isSupervisorMessage(message) || message.part !== part) return;
          running.add(part);
          if (running.size === PARTS.length) allRunning();
        });
        return child;
      };
      this.partStarts.set(part, start);
      this.parts.set(part, start());
    }
    const slow = setTimeout(() => {
      const waiting = PARTS.filter((p) => !running.has(p));
      this.say(`still starting: ${waiting.join(', ')} (they wait for NATS at ${plan.natsServers.join(', ')}${waiting.includes('scorer') ? ` and Redis at ${plan.redisNodes.join(', ')}` : ''})`);
    }, SLOW_START_MS);
    try {
      const failed = await Promise.race([everyPart.then(() => undefined), this.firstExit(), aborted(stopping).then(() => undefined)]);
      if (failed !== undefined) throw new CliError('a part exited while starting; stopping everything', failed);
    } finally {
      clearTimeout(slow);
    }
  }

  /** Resolves with an exit code (never 0) when any child exits before fleetban up stops it. */
  private firstExit(): Promise<number> {
    const children = [...this.servers.values(), ...this.parts.values()];
    return Promise.race(
      children.map(async (child) => {
        const { code, signal } = await child.exited;
        // Once everything runs, keepRunning answers exits (a restart, not a stop).
        if (this.supervising) return EXIT.software;
        if (!this.stopping) this.say(`${child.name} (pid ${child.pid}) exited ${signal ? `on ${signal}` : `with code ${code}`}; stopping everything`);
        this.stopping = true;
        return code !== null && code !== 0 ? code : EXIT.software;
      }),
    );
  }

  private ready(): void {
    const { config, plan, configFile } = this.input;
    const pids = [...this.parts].map(([name, c]) => `${name} ${c.pid}`).join(', ');
    const firewall = plan.enforcer.dryRun ? 'dry-run backend: nothing is blocked, the enforcer logs what it would do' : `${plan.enforcer.backend}${plan.enforcer.netns ? ` in network namespace ${plan.enforcer.netns}` : " in this host's firewall"}`;
    const jails = Object.values(config.jails).filter((j) => j.enabled && selects(config.shipper.jails, j.name));
    const bin = relative(process.cwd(), BIN).startsWith('..') ? 'fleetban' : `./${relative(process.cwd(), BIN)}`;
    const withConfig = `--config ${configFile}`;
    const lines = [
      `fleetban is running on this host (pids: ${pids}). Ctrl-C stops everything.`,
      `  enforcer: ${firewall}`,
      ...jails.map((j) => `  jail ${j.name}: ${failuresWithin(j.maxretry, j.findtime)} ban for ${formatDuration(j.bantime)}; reads ${j.backend === 'systemd' ? 'the journal' : j.logpath.join(', ') || 'nothing (no logpath)'}`),
      'To see a ban happen, append failure lines to a log above; then, in another terminal:',
      `  ${bin} banned ${withConfig}                # bans in force, with jail, time left, origin, reason`,
      `  ${bin} status ${withConfig}                # fail2ban-client's view, fleet-wide`,
      `  ${bin} ban 198.51.100.9 --for 10m ${withConfig}  # a manual ban (unban: ${bin} unban 198.51.100.9 ${withConfig})`,
      `  ${bin} services ${withConfig}              # every part, its host, uptime and figures`,
    ];
    if (plan.enforcer.netns && !plan.enforcer.dryRun) lines.push(`  ip netns exec ${plan.enforcer.netns} nft list ruleset   # what the kernel holds`);
    this.io.stdout.write(`${lines.join('\n')}\n`);
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    const grace = this.input.config.shipper.stopTimeout + 10_000;
    await Promise.all([...this.parts.values()].map((c) => c.stop('SIGTERM', grace)));
    // Redis saves its snapshot on SIGTERM; NATS goes last, after everything that talks to it.
    for (const server of [...this.servers.values()].reverse()) await server.stop('SIGTERM', 10_000);
    if (this.createdNetns !== undefined) {
      removeNetnsSync(this.createdNetns);
      this.say(`removed network namespace ${this.createdNetns}`);
      this.createdNetns = undefined;
    }
    if (this.parts.size > 0 || this.servers.size > 0) this.say('stopped');
  }

  /** Synchronous: a second Ctrl-C, or this process exiting with children left. */
  private killAll(): void {
    for (const child of [...this.parts.values(), ...this.servers.values()]) child.kill();
    if (this.createdNetns !== undefined) removeNetnsSync(this.createdNetns);
    this.createdNetns = undefined;
  }

  private say(message: string): void {
    this.io.stderr.write(`fleetban up: ${message}\n`);
  }
}

function endpointText(e: { host: string; port: number }): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Waits `ms`; false at once when `signal` is aborted. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
