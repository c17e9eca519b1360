import { errorMessage } from '../../shared/errors.ts';
import type { BanDecision } from '../../shared/schema/index.ts';
import { OncePerKey, type Logger, type PartMetrics } from '../../shared/telemetry/index.ts';
import { formatDuration } from '../../shared/time/index.ts';
import type { MirrorOutcome, Outcome } from './core/window.ts';

/** Why a message was acknowledged without being used. */
export type RejectReason = 'malformed' | 'subject' | 'unknown-jail';

/**
 * Everything the scorer reports, one method per event: each logs (rarely,
 * for things that repeat) and counts. Metric names follow
 * `fleetban_scorer_<what>_<unit>`.
 */
export class ScorerTelemetry {
  private readonly failures;
  private readonly bans;
  private readonly scriptSeconds;
  private readonly redeliveries;
  private readonly rejected;
  private readonly redisUp;
  private readonly redisErrors;
  private readonly publishErrors;
  private readonly mirrored;
  private readonly formulaErrors;
  private readonly once = new OncePerKey();
  private readonly failureChildren = new Map<string, { inc(): void }>();
  private readonly counts = { failures: 0, bans: 0, republished: 0, rejected: 0, redeliveries: 0, mirrored: 0 };

  constructor(
    private readonly log: Logger,
    metrics: PartMetrics,
  ) {
    this.failures = metrics.counter('failures_total', 'Failures processed, by jail and outcome (counted, duplicate, stale, banned, ban, replay, ignored)', ['jail', 'outcome']);
    this.bans = metrics.counter('bans_total', 'Ban decisions published (first publish of each ban)', ['jail']);
    this.scriptSeconds = metrics.histogram('script_seconds', 'Time of the failure script in Redis, round trip', [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
    this.redeliveries = metrics.counter('redeliveries_total', 'Messages that JetStream delivered again (a replica died or did not acknowledge in time)', ['stream']);
    this.rejected = metrics.counter('rejected_total', 'Messages acknowledged without use: malformed, wrong subject, unknown jail', ['reason']);
    this.redisUp = metrics.gauge('redis_up', '1 while Redis answers, 0 while the scorer waits for it');
    this.redisUp.set(1);
    this.redisErrors = metrics.counter('redis_errors_total', 'Redis calls that failed; the message was left for redelivery', ['kind']);
    this.publishErrors = metrics.counter('publish_errors_total', 'Decisions that could not be published; the failure was left for redelivery');
    this.mirrored = metrics.counter('decisions_mirrored_total', 'Manual decisions mirrored into Redis, by action and outcome', ['action', 'outcome']);
    this.formulaErrors = metrics.counter('formula_errors_total', 'Bans whose bantime.formula failed; the plain bantime was used', ['jail']);
  }

  failure(jail: string, outcome: Outcome['kind']): void {
    this.counts.failures++;
    // One labelled child per (jail, outcome), looked up once: this runs for every failure.
    const key = `${jail} ${outcome}`;
    let child = this.failureChildren.get(key);
    if (!child) this.failureChildren.set(key, (child = this.failures.labels({ jail, outcome })));
    child.inc();
  }

  scriptTime(seconds: number): void {
    this.scriptSeconds.observe(seconds);
  }

  banPublished(decision: BanDecision, duplicate: boolean): void {
    if (duplicate) {
      this.counts.republished++;
      this.log.debug({ id: decision.id }, 'decision was published before; JetStream dropped the copy');
      return;
    }
    this.counts.bans++;
    this.bans.inc({ jail: decision.jail });
    this.log.info(
      { jail: decision.jail, target: decision.target, duration: decision.duration, failures: decision.failures, banCount: decision.banCount, id: decision.id },
      `ban ${decision.target} in ${decision.jail} for ${formatDuration(decision.duration)}`,
    );
  }

  oldBan(decision: BanDecision): void {
    this.log.info({ jail: decision.jail, target: decision.target, id: decision.id }, 'ban ended before it was decided (old log lines); recorded, not published');
  }

  redelivered(stream: 'failures' | 'decisions'): void {
    this.counts.redeliveries++;
    this.redeliveries.inc({ stream });
  }

  rejectedMessage(subject: string, reason: RejectReason, detail: string): void {
    this.counts.rejected++;
    this.rejected.inc({ reason });
    // One line per subject and kind of problem, however often it repeats.
    if (this.once.first(`${reason}|${subject}|${detail.split(':')[0]}`)) this.log.warn({ subject, reason, detail }, 'message rejected and acknowledged');
  }

  redisDown(err: unknown): void {
    this.redisUp.set(0);
    this.redisErrors.inc({ kind: 'unavailable' });
    this.log.error({ err: errorMessage(err) }, 'Redis unavailable: not acknowledging failures until it answers again');
  }

  redisBack(downMs: number): void {
    this.redisUp.set(1);
    this.log.info({ downMs }, 'Redis answers again; consuming');
  }

  scriptError(err: unknown): void {
    this.redisErrors.inc({ kind: 'script' });
    if (this.once.first(`script|${errorMessage(err).slice(0, 80)}`)) this.log.error({ err: errorMessage(err) }, 'Redis script error; message left for redelivery');
  }

  publishFailed(decision: BanDecision, err: unknown): void {
    this.publishErrors.inc();
    this.log.warn({ id: decision.id, err: errorMessage(err) }, 'cannot publish decision; the failure will be redelivered and the decision republished');
  }

  formulaFailed(jail: string, message: string): void {
    this.formulaErrors.inc({ jail });
    if (this.once.first(`formula|${jail}|${message}`)) this.log.warn({ jail, err: message }, 'bantime.formula failed; using the plain bantime, as fail2ban does');
  }

  decisionMirrored(action: 'ban' | 'unban', outcome: MirrorOutcome['kind'] | 'expired' | 'own', target: string, jail: string): void {
    this.counts.mirrored++;
    this.mirrored.inc({ action, outcome });
    if (outcome === 'recorded' || outcome === 'cleared') this.log.info({ action, target, jail }, `mirrored manual ${action} of ${target} in ${jail}`);
  }

  figuresFailed(err: unknown): void {
    this.redisErrors.inc({ kind: 'figures' });
    if (this.once.first(`figures|${errorMessage(err).slice(0, 80)}`)) this.log.warn({ err: errorMessage(err) }, 'cannot write the status figures yet; keeping them for the next try');
  }

  stopGaveUp(what: string, inFlight: number): void {
    this.log.warn({ what, inFlight }, `stopping without waiting longer for ${inFlight} ${what} under way; JetStream delivers them again`);
  }

  consumerError(what: string, err: unknown): void {
    this.log.warn({ err: errorMessage(err) }, `${what}; retrying`);
  }

  /** Key figures for `$SRV.STATS` and the `stats` endpoint. */
  snapshot(): Readonly<typeof this.counts> {
    return { ...this.counts };
  }
}
