import { jetstream } from '@nats-io/jetstream';
import { hostAddresses } from '../../shared/ip/index.ts';
import { closeRedis, createRedis, type RedisClient } from '../../shared/redis/index.ts';
import type { PartContext, RunningPart } from '../../shared/runtime/index.ts';
import { ensureDurable, PullLoop } from './consume/consumer.ts';
import { decisionHandler } from './consume/decisions.ts';
import { failureHandler } from './consume/failures.ts';
import { DecisionPublisher } from './consume/publish.ts';
import { allJailRules } from './core/rules.ts';
import { RedisHealth } from './health.ts';
import { JailFigures } from './redis/figures.ts';
import { KeyLayout } from './redis/keys.ts';
import { SCRIPTS } from './redis/scripts.ts';
import { isUnavailable, ScoreStore, withDeadline } from './redis/store.ts';
import { readStatus } from './status.ts';
import { ScorerTelemetry } from './telemetry.ts';
import { timerDelay } from '../../shared/time/index.ts';

/** At stop: how long the last figures write and the Redis goodbye may take. */
const LAST_FLUSH_MS = 2000;
const CLOSE_MS = 1000;

/** QUIT waits for a reply that a frozen Redis never sends; then the socket is just closed. */
async function closeRedisWithin(client: RedisClient, ms: number): Promise<void> {
  await withDeadline(closeRedis(client), 'QUIT', ms).catch(() => client.disconnect());
}

/**
 * The scorer, once NATS and the streams are there: Redis, the two durable
 * consumers (failures, decisions), the status figures and the `status`
 * endpoint. Holds no state of its own; any number of replicas can run.
 */
export async function startScorer(ctx: PartContext): Promise<RunningPart> {
  const { config, log, subjects } = ctx;
  const now = () => Date.now();
  const telemetry = new ScorerTelemetry(log, ctx.metrics);
  const rules = allJailRules(config, hostAddresses());
  const client = await createRedis(config.redis, { name: `${subjects.serviceName('scorer')}@${config.host}`, log, mode: 'service', autoPipelining: true });
  const health = new RedisHealth(client, telemetry, ctx.stopping);
  // Redis may be down at start: the scorer runs anyway and waits for it, as it does for an outage later.
  await client.connect().then(
    () => Promise.all(SCRIPTS.map((s) => s.load(client))),
    (err: unknown) => health.markDown(err),
  ).catch((err: unknown) => (isUnavailable(err) ? health.markDown(err) : telemetry.scriptError(err)));

  const keys = new KeyLayout(config.redis.keyPrefix);
  const store = new ScoreStore(client, keys);
  const figures = new JailFigures(client, keys);
  const publisher = new DecisionPublisher(jetstream(ctx.nc), subjects);
  const scorer = config.scorer;

  const failures = new PullLoop({
    what: 'failures',
    consumer: () => ensureDurable(ctx.nc, { stream: subjects.failuresStream, name: scorer.consumer, ackWaitMs: scorer.ackWait, maxAckPending: scorer.maxAckPending }),
    maxInFlight: scorer.maxInFlight,
    handle: failureHandler({ subjects, rules, store, figures, publisher, health, telemetry, host: config.host, now }),
    health,
    telemetry,
  });
  // Decisions are mirrored one at a time, in stream order, so that an unban
  // is never overtaken by the ban it lifts.
  const decisions = new PullLoop({
    what: 'decisions',
    consumer: () => ensureDurable(ctx.nc, { stream: subjects.decisionsStream, name: `${scorer.consumer}-decisions`, ackWaitMs: scorer.ackWait, maxAckPending: scorer.maxAckPending }),
    maxInFlight: 1,
    batch: 256,
    handle: decisionHandler({ subjects, client, keys, store, figures, health, telemetry, now }),
    health,
    telemetry,
  });

  const flushFigures = () =>
    figures.flush(now()).catch((err: unknown) => {
      if (isUnavailable(err)) health.markDown(err);
      telemetry.figuresFailed(err);
    });
  const flusher = setInterval(() => void flushFigures(), timerDelay(scorer.statusFlush));
  ctx.service.endpoint('status', (request) => readStatus({ client, keys, store, figures, rules, host: config.host, now }, request));
  failures.start();
  decisions.start();
  log.info({ jails: [...rules.keys()], consumer: scorer.consumer, maxInFlight: scorer.maxInFlight }, 'scorer consuming failures');

  return {
    stats: () => {
      const memory = process.memoryUsage();
      return { jails: rules.size, redis: health.up ? 'up' : 'down', inFlight: failures.inFlight, ...telemetry.snapshot(), rssBytes: memory.rss, heapUsedBytes: memory.heapUsed };
    },
    // Bounded whatever Redis does: a frozen Redis answers nothing, and what
    // was not acknowledged comes back to another replica after ack_wait.
    async stop() {
      await Promise.all([failures.stop(), decisions.stop()]);
      clearInterval(flusher);
      await withDeadline(flushFigures(), 'the last status figures', LAST_FLUSH_MS).catch(() => undefined);
      await closeRedisWithin(client, CLOSE_MS);
    },
  };
}
