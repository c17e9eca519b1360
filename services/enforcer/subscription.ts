import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { errorMessage } from '../../shared/errors.ts';
import { decisionCodec, type Decision, type Subjects } from '../../shared/schema/index.ts';
import type { Logger } from '../../shared/telemetry/index.ts';

export interface DecisionHandlers {
  /** A valid decision, in stream order. */
  decision(decision: Decision, seq: number): void;
  /** A message that failed validation, or whose subject disagrees with its body; it never reaches a firewall. */
  invalid(subject: string, reason: string, seq: number): void;
  /** Everything that was in the stream when the enforcer started has been read. */
  caughtUp(decisions: number): void;
}

export interface DecisionFeed {
  readonly lastSeq: number;
  readonly caughtUp: boolean;
  /** A consumer is delivering; false from a disconnect until a new consumer is in place. */
  readonly following: boolean;
  stop(): Promise<void>;
}

/**
 * Reads the decisions stream from its first message with an ordered
 * consumer (ephemeral, in order, no acks): the whole history is needed to
 * know the current ban set.
 *
 * After a reconnect this loop replaces the consumer itself, from the sequence
 * after the last one handled, retrying within a few seconds. nats.js would
 * recover its own, but when the server restarted, the consumer (kept in
 * memory) is gone, and if JetStream is not ready yet when the connection comes
 * back, nats.js waits a whole pull expiry (30 s) before it looks again: the
 * enforcer then applied nothing for about 40 s. The same happens on the
 * consumer's own alarms (heartbeats missed, consumer or stream not found).
 */
/** How long a JetStream API request (consumer create, stream info) may take on a first try; later tries double it, to 8x. */
const API_TIMEOUT_MS = 2000;

/** How long one pull waits on the server; heartbeats come every half of it. */
const PULL_EXPIRES_MS = 10_000;

/** Consumer alarms after which the consumer is replaced rather than left to nats.js's own, slow, recovery. */
const CONSUMER_LOST = new Set([
  'heartbeats_missed', 'consumer_not_found', 'stream_not_found', 'consumer_deleted', 'no_responders',
]);

export async function followDecisions(nc: NatsConnection, subjects: Subjects, log: Logger, handlers: DecisionHandlers): Promise<DecisionFeed> {
  const stream = subjects.decisionsStream;
  let lastSeq = 0;
  let seen = 0;
  let caughtUp = false;
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  let following = false;
  /** The connection came back: the next try is a first try again (short wait, short timeout). */
  let reconnected = false;
  /** Abandons the try in flight: its request may have been sent while the connection was down. */
  let interrupt: (() => void) | undefined;
  // Each waiting loop can be woken: both on stop, the consumer loop also when the connection comes back.
  const wakers = new Set<() => void>();
  const pause = (ms: number) => new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      wakers.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    wakers.add(wake);
  });
  const wakeAll = () => {
    for (const wake of [...wakers]) wake();
  };

  const markCaughtUp = () => {
    if (caughtUp) return;
    caughtUp = true;
    handlers.caughtUp(seen);
  };

  const handle = (subject: string, data: Uint8Array, seq: number) => {
    lastSeq = seq;
    const decoded = decisionCodec.decode(data);
    if (!decoded.ok) return handlers.invalid(subject, decoded.reason, seq);
    const d = decoded.value;
    if (subjects.jailOf(subject) !== d.jail || subject !== subjects.decision(d.action, d.jail)) {
      return handlers.invalid(subject, `a ${d.action} for jail ${d.jail} on subject ${subject}`, seq);
    }
    seen++;
    handlers.decision(d, seq);
  };

  // The stream may hold nothing, or its last messages may expire while we read: then "pending 0" never comes.
  const watchReplay = async () => {
    const jsm = await jetstreamManager(nc);
    while (!caughtUp && !stopped) {
      try {
        const info = await jsm.streams.info(stream);
        if (info.state.messages === 0 || info.state.last_seq <= lastSeq) markCaughtUp();
      } catch (err) {
        log.debug({ stream, err: errorMessage(err) }, 'cannot read the decisions stream yet');
      }
      await pause(500);
    }
  };

  /** Ends the current consumer: the loop below starts a new one after the last sequence handled. */
  const replace = (why: string) => {
    if (!messages || stopped) return;
    log.info({ stream, why, lastSeq }, 'replacing the decisions consumer');
    following = false;
    messages.stop();
  };

  const watchConsumer = async (current: ConsumerMessages) => {
    for await (const event of current.status()) {
      if (CONSUMER_LOST.has(event.type) && messages === current) replace(event.type);
    }
  };

  const watchConnection = async () => {
    for await (const event of nc.status()) {
      if (stopped) break;
      if (event.type === 'disconnect') following = false;
      else if (event.type === 'reconnect') {
        reconnected = true;
        interrupt?.();
        replace('reconnected');
        // A loop waiting to retry after a failure retries now that the server is back.
        wakeAll();
      }
    }
  };

  const open = async (attempt: number): Promise<ConsumerMessages> => {
    // A slow server gets longer API timeouts on later tries.
    const js = jetstream(nc, { timeout: API_TIMEOUT_MS * 2 ** Math.min(attempt, 3) });
    const from = lastSeq > 0
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 }
      : { deliver_policy: DeliverPolicy.All };
    const consumer = await js.consumers.get(stream, from);
    // A short expiry makes heartbeats (half of it) and their alarm come sooner than the default 30 s.
    return consumer.consume({ max_messages: 2000, expires: PULL_EXPIRES_MS });
  };

  const run = async () => {
    for (let attempt = 0; !stopped; attempt++) {
      if (reconnected) {
        reconnected = false;
        attempt = 0;
      }
      try {
        const opening = open(attempt);
        const interrupted = new Promise<undefined>((resolve) => (interrupt = () => resolve(undefined)));
        const current = await Promise.race([opening, interrupted]);
        interrupt = undefined;
        if (!current) {
          // Reconnected (or stopping) while this try waited on a request sent before: drop it and try again now.
          opening.then((late) => late.stop(), () => undefined);
          continue;
        }
        messages = current;
        if (stopped) current.stop();
        void watchConsumer(current);
        following = true;
        attempt = 0;
        for await (const m of current) {
          handle(m.subject, m.data, m.seq);
          if (!caughtUp && m.info.pending === 0) markCaughtUp();
        }
      } catch (err) {
        if (stopped) break;
        if (attempt === 0 || attempt % 30 === 0) log.warn({ stream, err: errorMessage(err), lastSeq }, 'cannot follow the decisions stream; retrying');
      }
      following = false;
      if (!stopped) await pause(Math.min(250 * 2 ** attempt, 2000));
    }
  };

  const running = run();
  void watchReplay();
  void watchConnection();
  return {
    get lastSeq() {
      return lastSeq;
    },
    get caughtUp() {
      return caughtUp;
    },
    get following() {
      return following;
    },
    async stop() {
      stopped = true;
      interrupt?.();
      messages?.stop();
      wakeAll();
      await running;
    },
  };
}
