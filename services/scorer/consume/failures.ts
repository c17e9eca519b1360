import type { JsMsg } from '@nats-io/jetstream';
import { failureCodec, type Subjects } from '../../../shared/schema/index.ts';
import { PERMANENT } from '../../../shared/time/index.ts';
import type { JailRules } from '../core/rules.ts';
import { failureTimes, targetOf, type BanRecord } from '../core/window.ts';
import type { RedisHealth } from '../health.ts';
import type { JailFigures } from '../redis/figures.ts';
import { isUnavailable, type ScoreStore } from '../redis/store.ts';
import type { ScorerTelemetry } from '../telemetry.ts';
import { RETRY_DELAY_MS } from './consumer.ts';
import { banDecision, type DecisionPublisher } from './publish.ts';

export interface FailureHandlerDeps {
  subjects: Subjects;
  rules: ReadonlyMap<string, JailRules>;
  store: ScoreStore;
  figures: JailFigures;
  publisher: DecisionPublisher;
  health: RedisHealth;
  telemetry: ScorerTelemetry;
  host: string;
  /** Wall clock, only to skip publishing bans that ended before they were decided. */
  now: () => number;
}

/**
 * Handles one failure message: validate, check the allowlist, run the window
 * script, publish a ban decision when there is one, and only then acknowledge.
 * A message that cannot be handled now (Redis or NATS unavailable) is given
 * back with a delay; a malformed one is counted, logged once and acknowledged.
 */
export function failureHandler(deps: FailureHandlerDeps): (msg: JsMsg) => Promise<void> {
  const { subjects, rules, store, figures, health, telemetry } = deps;
  const targets = new TargetCache();
  return async (msg) => {
    if (msg.info.redelivered) telemetry.redelivered('failures');
    const decoded = failureCodec.decode(msg.data);
    if (!decoded.ok) {
      telemetry.rejectedMessage(msg.subject, 'malformed', decoded.reason);
      msg.ack();
      return;
    }
    const event = decoded.value;
    if (subjects.jailOf(msg.subject) !== event.jail) {
      telemetry.rejectedMessage(msg.subject, 'subject', `jail "${event.jail}" on subject ${msg.subject}`);
      msg.ack();
      return;
    }
    const jail = rules.get(event.jail);
    if (!jail) {
      telemetry.rejectedMessage(msg.subject, 'unknown-jail', `jail "${event.jail}" is not enabled in this scorer's config`);
      msg.ack();
      return;
    }
    const where = targets.of(event.ip, jail);
    if ('ignored' in where) {
      telemetry.failure(jail.name, 'ignored');
      msg.ack();
      return;
    }
    const target = where.target;
    // The receiver's clock bounds the log's: JetStream's time of the message,
    // the same on every delivery, and never later than this scorer's clock.
    const received = Math.min(msg.time.getTime(), deps.now());
    const counted = { ...event, received };
    const windowEnd = failureTimes(counted).at + jail.findtime;

    let scored;
    const started = performance.now();
    try {
      scored = await store.score(counted, target, jail);
    } catch (err) {
      if (isUnavailable(err)) health.markDown(err);
      else telemetry.scriptError(err);
      msg.nak(RETRY_DELAY_MS);
      return;
    }
    telemetry.scriptTime((performance.now() - started) / 1000);
    const { outcome } = scored;
    telemetry.failure(jail.name, outcome.kind);
    if (scored.formulaError !== undefined) telemetry.formulaFailed(jail.name, scored.formulaError);
    // Every delivery reports the target's counters again, and the message is
    // acknowledged only once they are in the status figures: a scorer killed
    // in between leaves it to a redelivery, which reports them once more.
    figures.report(jail.name, target, scored.figures, deps.now());
    if (outcome.kind !== 'ban' && outcome.kind !== 'replay') {
      const again = outcome.kind === 'duplicate' && msg.info.redelivered && outcome.failures > 0;
      if (scored.added || again) figures.failing(jail.name, target, windowEnd);
      figures.afterFlush(() => msg.ack());
      return;
    }

    const published = await publish(deps, outcome.ban, target, jail);
    if (published === 'failed') {
      msg.nak(RETRY_DELAY_MS);
      return;
    }
    figures.banHolds(jail.name, target, outcome.ban.start, outcome.ban.duration);
    figures.afterFlush(() => msg.ack());
  };
}

/**
 * Publishes the decision for a ban: `first` when JetStream stored it now,
 * `again` when it had it already, `old` when the ban ended before it was
 * decided (not published), `failed` when it must be tried again.
 */
async function publish(deps: FailureHandlerDeps, ban: BanRecord, target: string, jail: JailRules): Promise<'first' | 'again' | 'old' | 'failed'> {
  const decision = banDecision(ban, target, jail, deps.host);
  if (ban.duration !== PERMANENT && ban.start + ban.duration <= deps.now()) {
    deps.telemetry.oldBan(decision);
    return 'old';
  }
  try {
    const { duplicate } = await deps.publisher.publish(decision);
    deps.telemetry.banPublished(decision, duplicate);
    return duplicate ? 'again' : 'first';
  } catch (err) {
    deps.telemetry.publishFailed(decision, err);
    return 'failed';
  }
}

/**
 * Remembers what an address bans in each jail (its IPv6 network, or the
 * allowlist entry that protects it): attackers repeat, and parsing an
 * address and walking the allowlist costs more than the rest of a failure.
 */
class TargetCache {
  private readonly known = new Map<string, ReturnType<typeof targetOf>>();

  constructor(private readonly limit = 100_000) {}

  of(ip: string, jail: JailRules): ReturnType<typeof targetOf> {
    const key = `${jail.name} ${ip}`;
    let found = this.known.get(key);
    if (!found) {
      if (this.known.size >= this.limit) this.known.clear();
      found = targetOf({ ip }, jail);
      this.known.set(key, found);
    }
    return found;
  }
}
