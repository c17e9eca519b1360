import type { NatsConnection } from '@nats-io/nats-core';
import { loadConfig, type Config } from '../config/index.ts';
import { ConfigError, errorMessage, formatConfigProblem, type ConfigProblem } from '../errors.ts';
import { connectNats, drainNats, ensureStreams, startPartService, type PartService } from '../nats/index.ts';
import { subjectsFor, type Part, type Subjects } from '../schema/index.ts';
import { createLogger, PartMetrics, serveMetrics, type Logger, type MetricsServer } from '../telemetry/index.ts';
import { VERSION } from '../version.ts';
import { notifySupervisor } from './supervisor.ts';

/** Exit codes of a long-running part (sysexits.h). */
export const PART_EXIT = { ok: 0, unavailable: 69, software: 70, config: 78 } as const;

/** What a part gets once the common ground is in place. */
export interface PartContext {
  config: Config;
  log: Logger;
  metrics: PartMetrics;
  nc: NatsConnection;
  subjects: Subjects;
  /** The part's NATS service; add endpoints with `service.endpoint(name, handler)`. */
  service: PartService;
  /** Aborted when the part is asked to stop (SIGTERM, SIGINT). */
  stopping: AbortSignal;
}

/** A started part: `stop` finishes in-flight work; `stats` feeds `$SRV.STATS`. */
export interface RunningPart {
  stats(): unknown;
  stop(): Promise<void>;
  /**
   * Asked after `stop`: why the part's work is not done (a piped shipper's
   * failures not acknowledged), or undefined. The part then exits 69, not 0.
   */
  unfinished?(): string | undefined;
}

/**
 * At stop, how long the service API and the NATS connection may take to
 * flush while NATS is reachable. While it is not, nothing is waited for: a
 * flush cannot happen, and every part's state is safe without it (the
 * shipper saves positions only of acknowledged lines; unacknowledged
 * messages are redelivered).
 */
export const STOP_FLUSH_MS = 2000;

export interface RunPartOptions {
  part: Exclude<Part, 'cli'>;
  description: string;
  configFile: string;
  /** Only load and check the config, print the result, and return. */
  checkConfig?: boolean;
  /** Stop when this is aborted; by default on SIGTERM or SIGINT. */
  stopSignal?: AbortSignal;
  /** Overrides for tests: where log lines go, and extra context. */
  logDestination?: Parameters<typeof createLogger>[0]['destination'];
  /** Output for `--check-config`. */
  out?: NodeJS.WritableStream;
  /**
   * Checks the part adds to the config parser's (the scorer compiles
   * `bantime.formula`). Problems stop the part like config errors do, also
   * with `--check-config`.
   */
  validate?(config: Config, file: string): readonly ConfigProblem[];
  start(context: PartContext): Promise<RunningPart>;
}

/**
 * The life of a long-running part: config → logger → metrics → NATS →
 * streams → service API → the part itself → wait for a stop signal → stop in
 * reverse order. Returns the exit code; never calls process.exit (main.ts does).
 */
export async function runPart(options: RunPartOptions): Promise<number> {
  const out = options.out ?? process.stderr;
  let config: Config;
  const warnings: ConfigProblem[] = [];
  try {
    config = await loadConfig(options.configFile, warnings);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) out.write(`${formatConfigProblem(p)}\n`);
      return PART_EXIT.config;
    }
    throw err;
  }
  const problems = options.validate?.(config, options.configFile) ?? [];
  if (problems.length > 0) {
    for (const p of problems) out.write(`${formatConfigProblem(p)}\n`);
    return PART_EXIT.config;
  }
  if (options.checkConfig) {
    for (const w of warnings) out.write(`warning: ${formatConfigProblem(w)}\n`);
    out.write(`${options.configFile}: configuration is valid\n`);
    return PART_EXIT.ok;
  }

  const log = createLogger({ level: config.log.level, part: options.part, host: config.host, ...(options.logDestination && { destination: options.logDestination }) });
  const stopping = options.stopSignal ?? signalController().signal;
  for (const w of warnings) log.warn(`config: ${formatConfigProblem(w)}`);
  const metrics = new PartMetrics(options.part);
  let metricsServer: MetricsServer | undefined;
  let nc: NatsConnection | undefined;
  let link: { readonly up: boolean } | undefined;
  let service: PartService | undefined;
  let running: RunningPart | undefined;
  let code: number = PART_EXIT.ok;
  try {
    if (config.metrics.listen) metricsServer = await serveMetrics(config.metrics.listen, metrics.registry, log);
    const subjects = subjectsFor(config.prefix);
    log.info({ servers: config.nats.servers, version: VERSION }, `starting fleetban ${options.part}`);
    try {
      nc = await connectNats(config.nats, { name: `${subjects.serviceName(options.part)}@${config.host}`, log, mode: 'service', signal: stopping });
      link = followLink(nc);
    } catch (err) {
      if (!stopping.aborted) throw err;
    }
    if (nc) {
      const streamsShort = await ensureStreamsIfAllowed(nc, config, log, metrics);
      let current: RunningPart | undefined;
      service = await startPartService(nc, {
        subjects,
        part: options.part,
        host: config.host,
        version: VERSION,
        description: options.description,
        log,
        stats: () => withStreamsShort(current?.stats() ?? { starting: true }, streamsShort),
      });
      running = current = await options.start({ config, log, metrics, nc, subjects, service, stopping });
      log.info(`fleetban ${options.part} running`);
      notifySupervisor({ fleetban: 'running', part: options.part });
      if (!stopping.aborted) await new Promise((resolve) => stopping.addEventListener('abort', resolve, { once: true }));
      log.info(`stopping fleetban ${options.part}`);
    }
  } catch (err) {
    log.fatal({ err }, `fleetban ${options.part} failed: ${errorMessage(err)}`);
    code = /connect/i.test(errorMessage(err)) ? PART_EXIT.unavailable : PART_EXIT.software;
  } finally {
    await running?.stop().catch((err: unknown) => log.error({ err }, 'error while stopping'));
    const unfinished = running?.unfinished?.();
    if (unfinished !== undefined && code === PART_EXIT.ok) {
      log.error({ unfinished }, `fleetban ${options.part} stopped with its work not done: ${unfinished}`);
      code = PART_EXIT.unavailable;
    }
    const flush = link?.up === true ? STOP_FLUSH_MS : 0;
    if (service) await within(service.stop(), flush);
    if (nc) await closeNats(nc, flush);
    await metricsServer?.close();
    log.flush?.();
  }
  return code;
}

/** Whether the connection is up, from its status events. */
function followLink(nc: NatsConnection): { readonly up: boolean } {
  const link = { up: true };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') link.up = false;
      else if (s.type === 'reconnect') link.up = true;
    }
  })().catch(() => undefined);
  return link;
}

/** Drains the connection for at most `ms`, then closes it; buffered messages beyond that are dropped. */
async function closeNats(nc: NatsConnection, ms: number): Promise<void> {
  if (ms > 0) await within(drainNats(nc), ms);
  if (!nc.isClosed()) await within(nc.close(), 500);
}

/** Waits for `work`, but no longer than `ms`; its failure is ignored (stopping goes on). */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * Creating streams needs JetStream API permissions that a least-privilege
 * shipper or enforcer does not have; those parts rely on the streams that a
 * scorer or an operator created. A stream that forgets sooner than this
 * config needs is logged (warn) and shown by
 * `fleetban_<part>_stream_retention_short{stream}`.
 */
async function ensureStreamsIfAllowed(nc: NatsConnection, config: Config, log: Logger, metrics: PartMetrics): Promise<string[]> {
  try {
    const { checks } = await ensureStreams(nc, config, log);
    const short = metrics.gauge('stream_retention_short', 'Streams that keep messages for less than this config needs (1); fix with fleetban streams --apply', ['stream']);
    for (const check of checks) short.set({ stream: check.name }, check.retentionShort ? 1 : 0);
    return checks.filter((check) => check.retentionShort).map((check) => check.name);
  } catch (err) {
    if (!/permission|authoriz/i.test(errorMessage(err))) throw err;
    log.warn({ err: errorMessage(err) }, 'not allowed to create or update streams; using them as they are');
    return [];
  }
}

/**
 * A part's stats with `streamsShort` (streams that forget sooner than its
 * config needs) added, so `fleetban services` shows it beside the part's own figures.
 */
export function withStreamsShort(stats: unknown, streamsShort: readonly string[]): unknown {
  if (streamsShort.length === 0 || !stats || typeof stats !== 'object') return stats;
  return { ...stats, streamsShort };
}

function signalController(): AbortController {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return controller;
}
