import { join } from 'node:path';
import { selects, type Config, type JailConfig } from '../../shared/config/index.ts';
import { errorMessage, FleetbanError } from '../../shared/errors.ts';
import { hostAddresses } from '../../shared/ip/index.ts';
import type { PartContext, RunningPart } from '../../shared/runtime/index.ts';
import { jailAllowlist } from './gate.ts';
import { connectionState, jetstreamTarget } from './jetstream.ts';
import type { MatcherFactory } from './matching.ts';
import { JailPipeline } from './pipeline.ts';
import { PositionStore } from './positions.ts';
import { Publisher, type ConnectionState, type PublishTarget } from './publisher.ts';
import { sourcesFor, type Source, type SourceFilter } from './sources/index.ts';
import { ShipperTelemetry } from './telemetry.ts';

/** A jail's filter as the shipper uses it: matchers for lines, and what the journal source needs. */
export interface JailFilter extends MatcherFactory, SourceFilter {
  readonly name: string;
}

export interface ShipperDependencies {
  /** Loads the jail's filter (filter.ts adapts the filter engine). */
  loadFilter(jail: JailConfig, config: Config): Promise<JailFilter>;
  /** Defaults to JetStream over the part's connection; tests pass their own. */
  target?: PublishTarget;
  connection?: ConnectionState;
  /** This host's addresses for `ignoreself`; read from the interfaces by default. */
  ownAddresses?: readonly string[];
  /** Called once when every source has ended by itself (stdin at end of input) and everything is acknowledged. */
  onIdle?: () => void;
}

/** The shipper's configuration cannot work as given (found at start, beyond the schema). */
export class ShipperSetupError extends FleetbanError {}

interface RunningJail {
  jail: JailConfig;
  filter: string;
  pipeline: JailPipeline;
  store: PositionStore;
  sources: Source[];
}

/** Which jails this host ships: enabled and selected by `shipper.jails`. */
export function shippedJails(config: Config): JailConfig[] {
  return Object.values(config.jails).filter((j) => j.enabled && selects(config.shipper.jails, j.name));
}

/**
 * Starts shipping: per jail its filter, its saved positions, its sources and
 * its pipeline; one publisher (and so one bound on publishes in flight) for
 * all of them. A jail whose filter or source cannot start is reported and
 * left out; the others ship.
 */
export async function startShipper(ctx: PartContext, deps: ShipperDependencies): Promise<RunningPart> {
  const { config, log, metrics, nc, subjects, service } = ctx;
  const jails = shippedJails(config);
  const stdinJails = jails.filter((j) => j.backend !== 'systemd' && j.logpath.includes('-'));
  if (stdinJails.length > 1) throw new ShipperSetupError(`only one jail can read stdin (logpath "-"); ${stdinJails.map((j) => j.name).join(', ')} do`);

  const running: RunningJail[] = [];
  const failed: Record<string, string> = {};
  const telemetry = new ShipperTelemetry(log, metrics, () =>
    running.flatMap((r) => r.sources.flatMap((s) => s.streams().filter((x) => x.stream.durable && x.stream.key.startsWith('f:')).map((x) => ({ jail: r.jail.name, path: x.stream.label, bytes: x.behind })))),
  );
  const target = deps.target ?? jetstreamTarget(nc, config.nats.inboxPrefix);
  const connection = deps.connection ?? connectionState(nc);
  const publisher = new Publisher(target, connection, telemetry, {
    maxInFlight: config.shipper.maxInFlight,
    timeout: config.shipper.publishTimeout,
  });
  const own = deps.ownAddresses ?? hostAddresses();

  for (const jail of jails) {
    try {
      running.push(await startJail(jail));
    } catch (err) {
      failed[jail.name] = errorMessage(err);
      log.error({ jail: jail.name, err: errorMessage(err) }, 'jail not shipped');
    }
  }
  if (jails.length === 0) log.warn('no jail selected for this host: nothing to ship');
  // Running with every jail broken would look healthy while shipping nothing.
  else if (running.length === 0) throw new ShipperSetupError(`no jail could start: ${Object.entries(failed).map(([j, e]) => `${j}: ${e}`).join('; ')}`);

  async function startJail(jail: JailConfig): Promise<RunningJail> {
    const filter = await deps.loadFilter(jail, config);
    const { store, saved, lost } = await PositionStore.open(join(config.stateDir, 'shipper', `${jail.name}.json`), telemetry);
    const pipeline = new JailPipeline({
      gate: { jail: jail.name, findtime: jail.findtime, host: config.host, allowlist: jailAllowlist(jail, own) },
      subject: subjects.fail(jail.name),
      filter,
      publisher,
      store,
      events: telemetry,
    });
    const sources = sourcesFor(jail, { jail, filter, shipper: config.shipper, host: config.host, saved, positionsLost: lost, sink: pipeline, log, telemetry });
    if (sources.length === 0) throw new ShipperSetupError('no logpath and not `backend: systemd`: nothing to read');
    for (const source of sources) await source.start();
    store.start(config.shipper.positionInterval);
    telemetry.jailStarted(jail.name, filter.name, sources.map((s) => s.name));
    return { jail, filter: filter.name, pipeline, store, sources };
  }

  const sources = running.flatMap((r) => r.sources);
  // A finite source (stdin) is done only when it has ended and every failure
  // from it is acknowledged: the pipe cannot be read again.
  const finite = sources.length > 0 && sources.every((s) => s.finite);
  let finished = !finite;
  if (finite) {
    void Promise.all(sources.map((s) => s.ended())).then(async () => {
      if (publisher.pending > 0) {
        log.warn({ inFlight: publisher.pending }, 'end of input: waiting until every failure is acknowledged (SIGTERM gives up, exit 69)');
      }
      // No time limit: NATS may come back; only a stop request gives up.
      finished = await publisher.drain(Infinity, ctx.stopping);
      if (finished) deps.onIdle?.();
    });
  }
  const streams = () =>
    running.flatMap((r) => r.sources.flatMap((s) => s.streams().map((x) => ({ jail: r.jail.name, source: s.name, stream: x.stream.label, behind: x.behind }))));
  service.endpoint('streams', () => streams());

  return {
    stats: () => ({
      inFlight: publisher.pending,
      jails: Object.fromEntries(running.map((r) => [r.jail.name, { filter: r.filter, ...r.pipeline.stats }])),
      ...(Object.keys(failed).length > 0 && { failed }),
      streams: streams(),
    }),
    async stop() {
      // Stop reading, give what is in flight its time, then save the positions
      // of what was acknowledged: anything else is read again next run.
      const stopping = sources.map((s) => s.stop());
      // Without a connection nothing can be acknowledged: no point waiting (finding: 20 s stops).
      const wait = connection.connected ? config.shipper.stopTimeout : 0;
      if (!(await publisher.drain(wait))) log.warn({ inFlight: publisher.pending }, 'stopping with publishes unacknowledged; their lines are read again at the next start');
      publisher.stop();
      await Promise.all(stopping.map((p) => p.catch((err: unknown) => log.error({ err: errorMessage(err) }, 'source did not stop cleanly'))));
      for (const r of running) {
        r.store.stop();
        await r.store.flush().catch((err: unknown) => log.error({ jail: r.jail.name, err: errorMessage(err) }, 'cannot save read positions at stop'));
      }
      if ('close' in target && typeof target.close === 'function') target.close();
    },
    unfinished: () => (finished ? undefined : `stdin not read to its end and acknowledged (${publisher.pending} failures unacknowledged)`),
  };
}
