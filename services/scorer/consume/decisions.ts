import type { JsMsg } from '@nats-io/jetstream';
import { errorMessage } from '../../../shared/errors.ts';
import type { RedisClient } from '../../../shared/redis/index.ts';
import { decisionCodec, type Decision, type Subjects } from '../../../shared/schema/index.ts';
import { PERMANENT } from '../../../shared/time/index.ts';
import type { ManualDecision } from '../core/window.ts';
import type { RedisHealth } from '../health.ts';
import type { JailFigures } from '../redis/figures.ts';
import type { KeyLayout } from '../redis/keys.ts';
import { isUnavailable, StoreError, withDeadline, type ScoreStore } from '../redis/store.ts';
import type { ScorerTelemetry } from '../telemetry.ts';
import { RETRY_DELAY_MS } from './consumer.ts';

export interface DecisionHandlerDeps {
  subjects: Subjects;
  client: RedisClient;
  keys: KeyLayout;
  store: ScoreStore;
  figures: JailFigures;
  health: RedisHealth;
  telemetry: ScorerTelemetry;
  /** Wall clock: what is left of a manual ban, for the TTL of its key. */
  now: () => number;
}

/** The decision as the core mirrors it; undefined for a scorer's own decision. */
export function manualDecision(d: Decision): ManualDecision | undefined {
  if (d.origin !== 'manual') return undefined;
  if (d.action === 'unban') return { action: 'unban', id: d.id, jail: d.jail, time: d.time };
  return { action: 'ban', id: d.id, jail: d.jail, time: d.time, duration: d.duration, ...(d.reason !== undefined && { reason: d.reason }), ...(d.by !== undefined && { by: d.by }) };
}

/**
 * Mirrors manual bans and unbans (from `fleetban ban` / `unban`) into Redis,
 * so that windows, bans and status agree with what the operator did. The
 * scorers' own decisions are already in Redis and are skipped.
 */
export function decisionHandler(deps: DecisionHandlerDeps): (msg: JsMsg) => Promise<void> {
  const { subjects, store, figures, health, telemetry } = deps;
  return async (msg) => {
    if (msg.info.redelivered) telemetry.redelivered('decisions');
    const decoded = decisionCodec.decode(msg.data);
    if (!decoded.ok) {
      telemetry.rejectedMessage(msg.subject, 'malformed', decoded.reason);
      msg.ack();
      return;
    }
    const d = decoded.value;
    if (subjects.jailOf(msg.subject) !== d.jail || !msg.subject.startsWith(`${subjects.prefix}.${d.action}.`)) {
      telemetry.rejectedMessage(msg.subject, 'subject', `${d.action} for jail "${d.jail}" on subject ${msg.subject}`);
      msg.ack();
      return;
    }
    const manual = manualDecision(d);
    if (!manual) {
      telemetry.decisionMirrored(d.action, 'own', d.target, d.jail);
      msg.ack();
      return;
    }
    // A decision dated ahead (the operator's clock) keeps its key no longer than the ban itself.
    const ttl = manual.action === 'ban' && manual.duration !== PERMANENT ? Math.min(manual.duration, manual.time + manual.duration - deps.now()) : PERMANENT;
    if (manual.action === 'ban' && manual.duration !== PERMANENT && ttl <= 0) {
      telemetry.decisionMirrored('ban', 'expired', d.target, d.jail);
      msg.ack();
      return;
    }
    try {
      if (manual.action === 'ban') {
        const end = manual.duration === PERMANENT ? '+inf' : manual.time + manual.duration;
        await withDeadline(deps.client.zadd(deps.keys.liveJails(), 'GT', end, d.jail), 'ZADD').catch((err: unknown) => {
          throw new StoreError(`cannot record jail ${d.jail}: ${errorMessage(err)}`, { cause: err });
        });
      }
      const { outcome, figures: counters } = await store.mirror(d.target, manual, ttl);
      figures.report(d.jail, d.target, counters, deps.now());
      if (outcome.kind === 'recorded' && manual.action === 'ban') figures.banHolds(d.jail, d.target, manual.time, manual.duration);
      if (outcome.kind === 'cleared') figures.unbanned(d.jail, d.target);
      if (outcome.kind === 'none') figures.windowCleared(d.jail, d.target);
      telemetry.decisionMirrored(manual.action, outcome.kind, d.target, d.jail);
    } catch (err) {
      if (isUnavailable(err)) health.markDown(err);
      else telemetry.scriptError(err);
      msg.nak(RETRY_DELAY_MS);
      return;
    }
    // Acknowledged once the figures hold it, as failures are.
    figures.afterFlush(() => msg.ack());
  };
}
