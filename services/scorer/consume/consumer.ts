import type { NatsConnection } from '@nats-io/nats-core';
import { nanos } from '@nats-io/nats-core';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type Consumer, type ConsumerConfig, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { errorMessage } from '../../../shared/errors.ts';
import type { RedisHealth } from '../health.ts';
import type { ScorerTelemetry } from '../telemetry.ts';

/** How long a message waits before it comes back when Redis or NATS could not take it. */
export const RETRY_DELAY_MS = 2000;

export interface DurableSpec {
  stream: string;
  name: string;
  ackWaitMs: number;
  maxAckPending: number;
}

/**
 * Creates the durable pull consumer, or brings its settings up to date. Every
 * replica calls this at start; the same config makes the create idempotent.
 * No filter subject: each stream holds exactly what the consumer wants, and
 * nats-server 2.9 allows only one filter per consumer anyway.
 */
export async function ensureDurable(nc: NatsConnection, spec: DurableSpec): Promise<Consumer> {
  const jsm = await jetstreamManager(nc);
  const config: Partial<ConsumerConfig> = {
    durable_name: spec.name,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(spec.ackWaitMs),
    max_ack_pending: spec.maxAckPending,
    max_deliver: -1,
    // A new consumer starts with what the stream holds: failures published
    // before the first scorer started still count, and manual decisions are
    // mirrored from the first one.
    deliver_policy: DeliverPolicy.All,
  };
  try {
    await jsm.consumers.add(spec.stream, config);
  } catch (err) {
    if (!/already exists|already in use/i.test(errorMessage(err))) throw err;
    await jsm.consumers.update(spec.stream, spec.name, { ack_wait: config.ack_wait!, max_ack_pending: spec.maxAckPending, max_deliver: -1 });
  }
  return jetstream(nc).consumers.get(spec.stream, spec.name);
}

/** Counts the units of work under way and lets a caller wait for a free slot or for all to finish. */
export class Slots {
  private used = 0;
  private waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  get inUse(): number {
    return this.used;
  }

  async acquire(): Promise<void> {
    while (this.used >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.used++;
  }

  release(): void {
    this.used--;
    if (this.waiting.length > 0) for (const wake of this.waiting.splice(0)) wake();
  }

  async idle(): Promise<void> {
    while (this.used > 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
}

export interface PullLoopOptions {
  /** Creates (or re-creates) the consumer. */
  consumer: () => Promise<Consumer>;
  /** Messages handled at once. */
  maxInFlight: number;
  /** Messages asked for in one pull; defaults to maxInFlight. */
  batch?: number;
  handle: (msg: JsMsg) => Promise<void>;
  health: RedisHealth;
  telemetry: ScorerTelemetry;
  what: string;
}

/** How long `stop()` waits for the messages under way before it gives up on them (they come back after ack_wait). */
export const STOP_GRACE_MS = 3000;

/**
 * Pulls messages and hands each to `handle`, at most `maxInFlight` at once.
 * While Redis is down it stops pulling (what it holds goes back with a delay)
 * and waits for Redis; when the pull ends for any other reason it starts again.
 * Only `stop()` ends it, within a bound whatever Redis and NATS do.
 */
export class PullLoop {
  private stopped = false;
  private messages?: ConsumerMessages;
  private readonly slots: Slots;
  private done?: Promise<void>;
  private readonly release = () => this.slots.release();
  private wakeOnStop!: () => void;
  /** Resolves when `stop()` is called: every wait of the loop races it. */
  private readonly stopCalled = new Promise<void>((resolve) => (this.wakeOnStop = resolve));

  constructor(private readonly options: PullLoopOptions) {
    this.slots = new Slots(options.maxInFlight);
  }

  get inFlight(): number {
    return this.slots.inUse;
  }

  start(): void {
    const stopOnDown = this.options.health.onDown(() => this.messages?.stop());
    this.done = this.run().finally(stopOnDown);
  }

  private async run(): Promise<void> {
    const { health, telemetry } = this.options;
    let consumer: Consumer | undefined;
    let attempt = 0;
    while (!this.stopped) {
      await Promise.race([health.whenUp(), this.stopCalled]);
      if (this.stopped) break;
      try {
        consumer ??= await this.options.consumer();
        this.messages = await consumer.consume({ max_messages: this.options.batch ?? this.options.maxInFlight });
        attempt = 0;
      } catch (err) {
        consumer = undefined;
        telemetry.consumerError(`cannot pull ${this.options.what}`, err);
        await Promise.race([sleep(Math.min(500 * ++attempt, 5000)), this.stopCalled]);
        continue;
      }
      // stop() or an outage may have come while consume() was starting:
      // this pull must not outlive them (it would pull and give back for ever).
      if (this.stopped || !health.up) this.messages.stop();
      try {
        for await (const msg of this.messages) {
          if (this.stopped || !health.up) {
            msg.nak(RETRY_DELAY_MS);
            continue;
          }
          await Promise.race([this.slots.acquire(), this.stopCalled]);
          if (this.stopped) {
            msg.nak(RETRY_DELAY_MS);
            continue;
          }
          this.options.handle(msg).then(this.release, this.release);
        }
      } catch (err) {
        telemetry.consumerError(`pulling ${this.options.what} stopped`, err);
        consumer = undefined;
      }
      if (!this.stopped) await this.slots.idle();
    }
  }

  /**
   * Stops pulling and waits for the messages under way, at most `graceMs`:
   * one that waits on a frozen Redis is left unacknowledged, so JetStream
   * gives it to another replica (or this one, restarted) after ack_wait.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.stopped = true;
    this.wakeOnStop();
    this.messages?.stop();
    const gaveUp = sleep(graceMs).then(() => false);
    const finished = await Promise.race([Promise.all([this.done, this.slots.idle()]).then(() => true), gaveUp]);
    if (!finished) this.options.telemetry.stopGaveUp(this.options.what, this.slots.inUse);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
