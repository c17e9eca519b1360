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
 * (each a `fleetban <part>` child process with an IPC channel), then wait;
 * on Ctrl-C, SIGTERM, or any child exiting, stop the parts, then the
 * servers, each by its PID, and remove the namespace it created. A second
 * Ctrl-C kills what is left at once. If this process dies anyway, its exit
 * handler kills the children it knows, and the parts stop by themselves when
 * their IPC channel closes.
 */
export class Stack {
  private readonly servers: Child[] = [];
  private readonly parts = new Map<PartName, Child>();
  private createdNetns: string | undefined;
  /** Set once stopping began: children exiting after that are expected. */
  private stopping = false;
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
        const failed = await Promise.race([this.firstExit(), aborted(stop.signal).then(() => undefined)]);
        if (failed) code = failed;
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
      this.servers.push(await startServer(natsServerSpec(plan.nats, plan.upDir), plan.nats.storeDir));
      this.say(`nats-server (pid ${this.servers.at(-1)!.pid}) on nats://${endpointText(plan.nats.listen)}, JetStream in ${plan.nats.storeDir}`);
    }
    if (plan.redis && !stopping.aborted) {
      this.servers.push(await startServer(redisServerSpec(plan.redis, plan.upDir), plan.redis.dir));
      this.say(`redis-server (pid ${this.servers.at(-1)!.pid}) on ${endpointText(plan.redis.listen)}, data in ${plan.redis.dir}`);
    }
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
      this.parts.set(part, child);
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
    const children = [...this.servers, ...this.parts.values()];
    return Promise.race(
      children.map(async (child) => {
        const { code, signal } = await child.exited;
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
    for (const server of [...this.servers].reverse()) await server.stop('SIGTERM', 10_000);
    if (this.createdNetns !== undefined) {
      removeNetnsSync(this.createdNetns);
      this.say(`removed network namespace ${this.createdNetns}`);
      this.createdNetns = undefined;
    }
    if (this.parts.size > 0 || this.servers.length > 0) this.say('stopped');
  }

  /** Synchronous: a second Ctrl-C, or this process exiting with children left. */
  private killAll(): void {
    for (const child of [...this.parts.values(), ...this.servers]) child.kill();
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
