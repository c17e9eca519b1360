import { jetstream, JetStreamApiCodes, JetStreamApiError, jetstreamManager, type ConsumerMessages, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { millis, type NatsConnection } from '@nats-io/nats-core';
import { BanSet } from '../../shared/decisions/index.ts';
import { errorMessage } from '../../shared/errors.ts';
import { decisionCodec, type Subjects } from '../../shared/schema/index.ts';
import { CliError, EXIT } from './command.ts';

/** What a command needs to know about the decisions stream. */
export interface DecisionsStream {
  name: string;
  /** How long the stream keeps a message, in ms; 0 keeps it forever. */
  maxAgeMs: number;
  messages: number;
  firstSeq: number;
  lastSeq: number;
}

/** The JetStream manager without the account-info round trip (`$JS.API.INFO`) nats.js makes by default. */
export function streamManager(nc: NatsConnection): Promise<JetStreamManager> {
  return jetstreamManager(nc, { checkAPI: false });
}

/**
 * `$JS.API.STREAM.INFO.<stream>`: the decisions stream as the server has it.
 * Commands never create streams: every part does at start, and a CLI user
 * need not be allowed to.
 */
export async function decisionsStream(nc: NatsConnection, subjects: Subjects): Promise<DecisionsStream> {
  const name = subjects.decisionsStream;
  let info: StreamInfo;
  try {
    info = await (await streamManager(nc)).streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
      throw new CliError(`the decisions stream ${name} does not exist on this NATS: no fleetban part has run against it yet (each creates the streams when it starts)`, EXIT.unavailable, { cause: err });
    }
    if (/no responders/i.test(errorMessage(err))) {
      throw new CliError(`JetStream does not answer on this NATS (is nats-server running with -js?): ${errorMessage(err)}`, EXIT.unavailable, { cause: err });
    }
    throw new CliError(`cannot read the decisions stream ${name}: ${errorMessage(err)}`, EXIT.unavailable, { cause: err });
  }
  return { name, maxAgeMs: millis(info.config.max_age), messages: info.state.messages, firstSeq: info.state.first_seq, lastSeq: info.state.last_seq };
}

export interface FoldedStream {
  stream: DecisionsStream;
  /** Every ban and unban read, folded in stream order. */
  bans: BanSet;
  read: number;
  /** Messages that failed validation or whose subject disagrees with them; never folded. */
  invalid: number;
}

/**
 * Reads the whole decisions stream with an ordered consumer (ephemeral, no
 * acks, deleted afterwards) and folds it into the current ban set, exactly as
 * an enforcer does at start, so the answer needs neither Redis nor a scorer.
 * Reading stops at the last message that was in the stream when it began, or
 * when the consumer has nothing pending. If nothing arrives for `idleMs`, the
 * stream is asked again: when the messages not yet read have expired meanwhile
 * the fold is complete; otherwise reading stalled, and a partial answer is
 * never given.
 */
export async function foldDecisionsStream(nc: NatsConnection, subjects: Subjects, options: { idleMs?: number } = {}): Promise<FoldedStream> {
  const stream = await decisionsStream(nc, subjects);
  const bans = new BanSet();
  const result: FoldedStream = { stream, bans, read: 0, invalid: 0 };
  if (stream.messages === 0) return result;
  const consumer = await jetstream(nc).consumers.get(stream.name);
  let messages: ConsumerMessages | undefined;
  let lastSeq = 0;
  let complete = false;
  try {
    messages = await consumer.consume({ max_messages: 1000 });
    const idleMs = options.idleMs ?? 10_000;
    let idle = setTimeout(() => messages?.stop(), idleMs);
    for await (const m of messages) {
      clearTimeout(idle);
      result.read++;
      lastSeq = m.seq;
      const decoded = decisionCodec.decode(m.data);
      if (decoded.ok && subjects.jailOf(m.subject) === decoded.value.jail && m.subject === subjects.decision(decoded.value.action, decoded.value.jail)) {
        bans.apply(decoded.value);
      } else {
        result.invalid++;
      }
      if (m.seq >= stream.lastSeq || m.info.pending === 0) {
        complete = true;
        break;
      }
      idle = setTimeout(() => messages?.stop(), idleMs);
    }
    clearTimeout(idle);
  } finally {
    messages?.stop();
    // The server would drop the ephemeral consumer after its inactivity threshold; do not leave it that long.
    await consumer.delete().catch(() => undefined);
  }
  if (!complete) {
    const now = await decisionsStream(nc, subjects);
    if (now.messages > 0 && now.firstSeq <= stream.lastSeq) {
      throw new CliError(`reading ${stream.name} stalled at message ${lastSeq} of ${stream.lastSeq}; try again`, EXIT.unavailable);
    }
  }
  return result;
}
