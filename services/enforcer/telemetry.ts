import type { EnforcerBackendName } from '../../shared/config/index.ts';
import { errorMessage } from '../../shared/errors.ts';
import { OncePerKey, type Logger, type PartMetrics } from '../../shared/telemetry/index.ts';
import type { GuardRefusal } from './core/guard.ts';

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
    lastCommit: undefined as undefined | { backend: string; added: number; deleted: number; ms: number; at: string },
  };
  private readonly once = new OncePerKey();
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
    // A full set is warned about once per kernel set or list (its detail names it), not once per ban.
    const key = reason === 'set_full' ? `${reason} ${set} ${detail}` : `${reason} ${set} ${target}`;
    if (this.once.first(key)) this.log.warn({ reason, jail: set, target, detail }, reason === 'set_full' ? 'kernel set full: ban not applied (will retry)' : 'ban refused before the firewall');
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

  commitFailed(backend: EnforcerBackendName, err: unknown): void {
    this.tally.commitErrors++;
    this.m.commitErrors.inc({ backend });
    this.log.error({ backend, err: errorMessage(err) }, 'firewall batch failed; re-reading the kernel and retrying');
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
    latency: metrics.histogram('apply_latency_seconds', 'From a live decision to its kernel change', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    commitSeconds: metrics.histogram('commit_duration_seconds', 'One batch through the firewall tool', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], ['backend']),
    sequence: metrics.gauge('stream_sequence', 'Last decisions-stream sequence processed'),
  };
}
