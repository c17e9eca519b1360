import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { errorMessage } from '../../shared/errors.ts';
import { decisionCodec, type Decision, type Subjects } from '../../shared/schema/index.ts';
import { CliError, EXIT } from './command.ts';

/** How long to wait for JetStream to store a decision. */
const ACK_TIMEOUT_MS = 5000;

/** A decision JetStream has stored. */
export interface Published {
  decision: Decision;
  stream: string;
  seq: number;
  /** JetStream had a message with this id already (the same command retried). */
  duplicate: boolean;
}

/**
 * Publishes a manual decision on `<prefix>.ban|unban.<jail>` and waits for
 * JetStream's acknowledgement: once this resolves, the decision is in the
 * stream and every enforcer, running or started later, applies it. The
 * decision's id is its `Nats-Msg-Id`, and the publish expects the decisions
 * stream, so a subject captured by another stream is an error.
 */
export async function publishDecision(nc: NatsConnection, subjects: Subjects, decision: Decision): Promise<Published> {
  const subject = subjects.decision(decision.action, decision.jail);
  try {
    const ack = await jetstream(nc).publish(subject, decisionCodec.encode(decision), {
      msgID: decision.id,
      timeout: ACK_TIMEOUT_MS,
      expect: { streamName: subjects.decisionsStream },
    });
    return { decision, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    throw new CliError(
      `JetStream did not acknowledge the ${decision.action} of ${decision.target} on ${subject}: ${errorMessage(err)}. ` +
        'It may or may not be stored; running the command again is safe',
      EXIT.unavailable,
      { cause: err },
    );
  }
}
