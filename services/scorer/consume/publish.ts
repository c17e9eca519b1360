import type { JetStreamClient } from '@nats-io/jetstream';
import { decisionCodec, type BanDecision, type Subjects } from '../../../shared/schema/index.ts';
import { failuresWithin } from '../../../shared/time/index.ts';
import type { JailRules } from '../core/rules.ts';
import type { BanRecord } from '../core/window.ts';

/** How long to wait for JetStream to store a decision. */
const PUBLISH_TIMEOUT_MS = 5000;

/** The decision for a scorer ban: the same bytes for every replica and every redelivery, apart from `by`. */
export function banDecision(ban: BanRecord, target: string, rules: Pick<JailRules, 'name' | 'findtime'>, host: string): BanDecision {
  return {
    v: 1,
    id: ban.id,
    action: 'ban',
    jail: rules.name,
    target,
    time: ban.start,
    duration: ban.duration,
    origin: 'scorer',
    reason: failuresWithin(ban.failures, rules.findtime),
    failures: ban.failures,
    banCount: ban.banCount,
    by: host,
  };
}

/**
 * Publishes ban decisions to the decisions stream with `Nats-Msg-Id` = the
 * ban's id, so that a decision published again (a redelivered failure that
 * finds its ban already recorded) is dropped by JetStream.
 */
export class DecisionPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly subjects: Subjects,
  ) {}

  /** Resolves once JetStream has stored it; `duplicate` when it had it already. */
  async publish(decision: BanDecision): Promise<{ duplicate: boolean }> {
    const ack = await this.js.publish(this.subjects.decision('ban', decision.jail), decisionCodec.encode(decision), {
      msgID: decision.id,
      timeout: PUBLISH_TIMEOUT_MS,
    });
    return { duplicate: ack.duplicate };
  }
}
