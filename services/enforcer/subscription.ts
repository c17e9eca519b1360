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
  stop(): Promise<void>;
}

/**
 * Reads the decisions stream from its first message with an ordered
 * consumer (ephemeral, in order, no acks): the whole history is needed to
 * know the current ban set. nats.js recreates an ordered consumer after the
 * last sequence it delivered when the connection or the server comes back, so
 * after an outage the feed catches up from where it was; if the consumer ends
 * anyway, this loop starts a new one from the same place.
 */
export async function followDecisions(nc: NatsConnection, subjects: Subjects, log: Logger, handlers: DecisionHandlers): Promise<DecisionFeed> {
  const js = jetstream(nc);
  const stream = subjects.decisionsStream;
  let lastSeq = 0;
  let seen = 0;
  let caughtUp = false;
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  let wake: (() => void) | undefined;
  const pause = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });

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

  const run = async () => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        const consumer = await js.consumers.get(stream, lastSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 } : { deliver_policy: DeliverPolicy.All });
        messages = await consumer.consume({ max_messages: 2000 });
        if (stopped) messages.stop();
        attempt = 0;
        for await (const m of messages) {
          handle(m.subject, m.data, m.seq);
          if (!caughtUp && m.info.pending === 0) markCaughtUp();
        }
      } catch (err) {
        if (stopped) break;
        if (attempt === 0 || attempt % 30 === 0) log.warn({ stream, err: errorMessage(err), lastSeq }, 'cannot follow the decisions stream; retrying');
      }
      if (!stopped) await pause(Math.min(1000 * (attempt + 1), 5000));
    }
  };

  const running = run();
  void watchReplay();
  return {
    get lastSeq() {
      return lastSeq;
    },
    get caughtUp() {
      return caughtUp;
    },
    async stop() {
      stopped = true;
      messages?.stop();
      wake?.();
      await running;
    },
  };
}
