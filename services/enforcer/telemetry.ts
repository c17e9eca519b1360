import type { EnforcerBackendName } from '../../shared/config/index.ts';
import { errorMessage } from '../../shared/errors.ts';
import { OncePerKey, type Logger, type PartMetrics } from '../../shared/telemetry/index.ts';
import type { GuardRefusal } from './core/guard.ts';
import type { PlannedChange } from './core/state.ts';
import { errorCause, LogThrottle } from './throttle.ts';

type Counts = Map<string, { backend: EnforcerBackendName; set: string; entries: number }>;

/** Refusals: by the guard, or because the kernel set is full. */
export type RefusalReason = GuardRefusal | 'set_full';

/**
 * The enforcer's events: one function each, which logs and counts. A
 * recurring problem (the same bad subject, the same allowlisted address, the
 * same full set) is logged once and counted every time.
 */
export class EnforcerTelemetry {
  /** Plain tallies for `$SRV.STATS`, next to the Prometheus metrics. */
  readonly tally = {
    decisions: { ban: 0, unban: 0 },
    invalid: 0,
    ignored: 0,
    refused: {} as Record<string, number>,
    added: 0,
    deleted: 0,
    commitErrors: 0,
    /** Entries that failed in a batch of their own (each retry counts again). */
    failedEntries: 0,
    /** Adds whose timeout is the backend's cap, shorter than the ban (they are refreshed). */
    capped: 0,
    lastCommit: undefined as undefined | { backend: string; added: number; deleted: number; ms: number; at: string },
    lastCommitError: undefined as undefined | { backend: string; error: string; at: string },
  };
  private readonly once = new OncePerKey();
  private readonly throttle = new LogThrottle();
  private readonly m: ReturnType<typeof enforcerMetrics>;

  constructor(
    private readonly log: Logger,
    metrics: PartMetrics,
    counts: () => Counts,
  ) {
    this.m = enforcerMetrics(metrics, counts);
  }

  decisionReceived(action: 'ban' | 'unban', seq: number): void {
    this.tally.decisions[action]++;
    this.m.decisions.inc({ action });
    this.m.sequence.set(seq);
  }

  decisionInvalid(subject: string, reason: string, seq: number): void {
    this.tally.invalid++;
    this.m.invalid.inc();
    this.m.sequence.set(seq);
    if (this.once.first(`invalid ${subject} ${reason}`)) this.log.warn({ subject, reason, seq }, 'invalid decision skipped');
  }

  decisionIgnored(why: string): void {
    this.tally.ignored++;
    this.m.ignored.inc();
    this.log.debug({ why }, 'decision ignored');
  }

  refused(reason: RefusalReason, set: string, target: string, detail: string): void {
    this.tally.refused[reason] = (this.tally.refused[reason] ?? 0) + 1;
    this.m.refused.inc({ reason, jail: set });
    // Once per cause, not per ban: a full set per kernel set or list (its detail names it), else per reason and jail.
    const logNow = this.throttle.take(reason === 'set_full' ? `${reason} ${set} ${detail}` : `${reason} ${set}`);
    if (!logNow) return;
    const more = logNow.suppressed > 0 ? { alsoRefused: logNow.suppressed } : {};
    const msg = reason === 'set_full' ? 'kernel set full: ban not applied (will retry)' : 'ban refused before the firewall';
    this.log.warn({ reason, jail: set, target, detail, ...more }, msg);
  }

  /** Adds given the backend's longest timeout because their ban is longer; refreshed before it runs out. */
  capped(backend: EnforcerBackendName, capMs: number, count: number): void {
    this.tally.capped += count;
    this.m.capped.inc({ backend }, count);
    if (this.once.first(`capped ${backend}`)) {
      const msg = 'bans longer than the backend takes get its longest timeout and are refreshed before it runs out';
      this.log.info({ backend, capMs, count }, msg);
    }
  }

  committed(backend: EnforcerBackendName, added: number, deleted: number, ms: number, phase: 'start' | 'live'): void {
    this.tally.added += added;
    this.tally.deleted += deleted;
    this.tally.lastCommit = { backend, added, deleted, ms, at: new Date().toISOString() };
    this.m.bansApplied.inc({ backend }, added);
    this.m.unbansApplied.inc({ backend }, deleted);
    this.m.commitSeconds.observe({ backend }, ms / 1000);
    if (phase === 'start') this.log.info({ backend, added, deleted, ms }, 'ban set applied in one batch');
    else this.log.debug({ backend, added, deleted, ms }, 'batch applied');
  }

  /** A batch the firewall refused; the applier splits it to find the entries at fault. */
  commitFailed(backend: EnforcerBackendName, err: unknown, entries: number): void {
    const error = errorMessage(err);
    this.tally.commitErrors++;
    this.tally.lastCommitError = { backend, error, at: new Date().toISOString() };
    this.m.commitErrors.inc({ backend });
    const logNow = this.throttle.take(`commit ${backend} ${errorCause(error)}`);
    if (!logNow) return;
    const more = logNow.suppressed > 0 ? { alsoFailedBefore: logNow.suppressed } : {};
    this.log.warn({ backend, entries, err: error, ...more }, 'firewall batch failed; committing its parts apart');
  }

  /** Entries that failed alone: they wait for a retry (with back-off) and are logged once per cause. */
  entriesFailed(
    backend: EnforcerBackendName,
    failed: ReadonlyArray<{ change: PlannedChange; err: unknown }>,
    batches: number,
  ): void {
    this.tally.failedEntries += failed.length;
    this.m.failedEntries.inc({ backend }, failed.length);
    const byCause = new Map<string, { error: string; targets: string[]; count: number }>();
    for (const { change, err } of failed) {
      const error = errorMessage(err);
      const cause = errorCause(error);
      const row = byCause.get(cause) ?? { error, targets: [], count: 0 };
      row.count++;
      if (row.targets.length < 5) row.targets.push(`${change.op} ${change.set} ${change.target.text}`);
      byCause.set(cause, row);
    }
    for (const [cause, { error, targets, count }] of byCause) {
      const logNow = this.throttle.take(`failed ${backend} ${cause}`);
      if (!logNow) continue;
      const more = logNow.suppressed > 0 ? { alsoFailedBefore: logNow.suppressed } : {};
      this.log.error(
        { backend, cause, err: error, entries: count, examples: targets, batches, ...more },
        'firewall refused these entries; the rest of the batch was applied, these are retried with back-off',
      );
    }
  }

  roundFailed(err: unknown): void {
    this.log.error({ err }, 'applying decisions failed');
  }

  resyncFailed(backend: EnforcerBackendName, err: unknown): void {
    this.log.error({ backend, err: errorMessage(err) }, 'cannot read the kernel sets');
  }

  applied(latencyMs: number): void {
    this.m.latency.observe(Math.max(0, latencyMs) / 1000);
  }

  replayed(decisions: number, ms: number): void {
    this.log.info({ decisions, ms }, 'decisions stream replayed');
  }

  kernelLoaded(backend: EnforcerBackendName, entries: number): void {
    this.log.info({ backend, entries }, 'read the kernel sets');
  }
}

function enforcerMetrics(metrics: PartMetrics, counts: () => Counts) {
  metrics.gauge('entries', 'Entries in the kernel sets, per backend and jail', ['backend', 'jail'], function collect() {
    this.reset();
    for (const row of counts().values()) this.set({ backend: row.backend, jail: row.set }, row.entries);
  });
  return {
    decisions: metrics.counter('decisions_total', 'Valid decisions received, by action', ['action']),
    invalid: metrics.counter('decisions_invalid_total', 'Messages on the decision subjects that failed validation'),
    ignored: metrics.counter('decisions_ignored_total', 'Decisions for jails this host does not enforce, or unbans of addresses not banned'),
    refused: metrics.counter('decisions_refused_total', 'Bans refused before any firewall call, by reason', ['reason', 'jail']),
    bansApplied: metrics.counter('bans_applied_total', 'Entries added or refreshed in the kernel', ['backend']),
    unbansApplied: metrics.counter('unbans_applied_total', 'Entries removed from the kernel', ['backend']),
    commitErrors: metrics.counter('commit_errors_total', 'Batches the firewall refused', ['backend']),
    failedEntries: metrics.counter('entries_failed_total', 'Entries the firewall refused in a batch of their own (each try counts)', [
      'backend',
    ]),
    capped: metrics.counter('entries_capped_total', 'Adds given the backend\'s longest timeout, shorter than their ban (refreshed)', [
      'backend',
    ]),
    latency: metrics.histogram('apply_latency_seconds', 'From a live decision to its kernel change', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    commitSeconds: metrics.histogram('commit_duration_seconds', 'One batch through the firewall tool', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], ['backend']),
    sequence: metrics.gauge('stream_sequence', 'Last decisions-stream sequence processed'),
  };
}
