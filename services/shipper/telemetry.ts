import type { Counter, Gauge, Histogram } from 'prom-client';
import { errorMessage } from '../../shared/errors.ts';
import { OncePerKey, type Logger, type PartMetrics } from '../../shared/telemetry/index.ts';
import type { DropReason } from './gate.ts';

/** How a tailed file changed under the shipper. */
export type RotationKind = 'renamed' | 'deleted' | 'truncated' | 'replaced' | 'copied';

/** Events of sources: one function each, which logs and counts. */
export interface SourceTelemetry {
  fileOpened(jail: string, path: string, from: 'start' | 'end' | 'saved', offset: number): void;
  fileRotated(jail: string, path: string, kind: RotationKind): void;
  fileClosed(jail: string, path: string, reason: string): void;
  sourceFailed(jail: string, source: string, err: unknown): void;
  sourceRestarted(jail: string, source: string, reason: string): void;
  /** A journal entry that journalctl printed but that could not be used. */
  entrySkipped(jail: string, source: string, reason: string): void;
}

/**
 * The shipper's log lines and metrics. Metric names follow
 * `fleetban_shipper_<what>_<unit>`; a recurring problem is logged once per
 * kind until it clears and counted every time.
 */
export class ShipperTelemetry implements SourceTelemetry {
  private readonly once = new OncePerKey();
  private readonly linesRead: Counter<'jail'>;
  private readonly linesMatched: Counter<'jail'>;
  private readonly published: Counter<'jail'>;
  private readonly duplicates: Counter<'jail'>;
  private readonly dropped: Counter<'jail' | 'reason'>;
  private readonly publishErrors: Counter<never>;
  private readonly pausedSeconds: Counter<never>;
  private readonly rotations: Counter<'jail' | 'kind'>;
  private readonly restarts: Counter<'jail' | 'source'>;
  private readonly skipped: Counter<'jail' | 'source'>;
  private readonly positionErrors: Counter<never>;
  private readonly positionsLost: Counter<'fallback'>;
  private readonly latency: Histogram<never>;
  readonly inFlight: Gauge<never>;
  readonly paused: Gauge<never>;
  readonly behind: Gauge<'jail' | 'path'>;
  private pausedSince: number | undefined;
  private failingSince: number | undefined;
  private failedAttempts = 0;
  private readonly positionsFailing = new Set<string>();

  constructor(
    private readonly log: Logger,
    metrics: PartMetrics,
    behindCollector?: () => Array<{ jail: string; path: string; bytes: number }>,
  ) {
    this.linesRead = metrics.counter('lines_read_total', 'Log lines read', ['jail']);
    this.linesMatched = metrics.counter('lines_matched_total', 'Log lines in which the filter found a failure', ['jail']);
    this.published = metrics.counter('failures_published_total', 'Failure events acknowledged by JetStream', ['jail']);
    this.duplicates = metrics.counter('failures_duplicate_total', 'Failure events JetStream acknowledged as duplicates: lines read again (after a crash, say); a retry whose first copy was stored counts as published', ['jail']);
    this.dropped = metrics.counter('failures_dropped_total', 'Failures found but not published, by reason', ['jail', 'reason']);
    this.publishErrors = metrics.counter('publish_errors_total', 'Publish attempts that failed (each is retried)');
    this.pausedSeconds = metrics.counter('reading_paused_seconds_total', 'Time reading waited for publish acknowledgements');
    this.rotations = metrics.counter('rotations_total', 'Tailed files rotated, truncated or deleted', ['jail', 'kind']);
    this.restarts = metrics.counter('source_restarts_total', 'Sources restarted after they stopped (journalctl)', ['jail', 'source']);
    this.skipped = metrics.counter('entries_skipped_total', 'Entries a source could not use (bad journal JSON, oversized)', ['jail', 'source']);
    this.positionErrors = metrics.counter('position_write_errors_total', 'Failed writes of the read positions');
    this.positionsLost = metrics.counter('positions_unreadable_total', 'Saved read positions found damaged at start, by what was used instead (backup, start)', ['fallback']);
    this.latency = metrics.histogram('publish_latency_seconds', 'From reading a line to JetStream acknowledging its failure', [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300]);
    this.inFlight = metrics.gauge('publishes_in_flight', 'Publishes awaiting acknowledgement');
    this.paused = metrics.gauge('reading_paused', '1 while reading waits because too many publishes are in flight');
    const collect = behindCollector;
    this.behind = metrics.gauge('file_behind_bytes', 'Bytes written to a tailed file and not read yet', ['jail', 'path'], collect && function (this: Gauge<'jail' | 'path'>) {
      this.reset();
      // A rotated file still being read and its successor share a path: their bytes add up.
      for (const f of collect()) this.inc({ jail: f.jail, path: f.path }, f.bytes);
    });
  }

  jailStarted(jail: string, filter: string, sources: readonly string[]): void {
    this.log.info({ jail, filter, sources }, 'shipping jail');
  }

  read(jail: string, lines: number, matched: number): void {
    this.linesRead.inc({ jail }, lines);
    if (matched > 0) this.linesMatched.inc({ jail }, matched);
  }

  acknowledged(jail: string, duplicate: boolean, latencyMs: number): void {
    if (duplicate) this.duplicates.inc({ jail });
    else this.published.inc({ jail });
    this.latency.observe(latencyMs / 1000);
  }

  inFlightChanged(inFlight: number): void {
    this.inFlight.set(inFlight);
  }

  failureDropped(jail: string, reason: DropReason, ip?: string): void {
    this.dropped.inc({ jail, reason });
    if (reason !== 'too_old' && this.once.first(`drop:${jail}:${reason}:${ip ?? ''}`)) {
      this.log.info({ jail, reason, ip }, reason === 'allowlisted' ? 'failure from an allowlisted address not published' : 'failure without an address not published');
    }
  }

  publishFailed(err: unknown, attempt: number, connected: boolean): void {
    this.publishErrors.inc();
    this.failedAttempts++;
    if (this.failingSince === undefined) {
      this.failingSince = Date.now();
      this.log.warn({ err: errorMessage(err), attempt, connected }, 'publishing failed; retrying with the same message ids until JetStream acknowledges');
    }
  }

  publishRecovered(): void {
    if (this.failingSince === undefined) return;
    this.log.info({ failedAttempts: this.failedAttempts, ms: Date.now() - this.failingSince }, 'publishing recovered');
    this.failingSince = undefined;
    this.failedAttempts = 0;
  }

  /** Reading waits for a free publish slot; logged when the wait is long, measured always. */
  readingPaused(inFlight: number, connected: boolean): void {
    if (this.pausedSince !== undefined) return;
    this.pausedSince = Date.now();
    this.paused.set(1);
    this.log.warn({ inFlight, connected }, connected ? 'JetStream is slow: reading paused until publishes are acknowledged' : 'NATS unreachable: reading paused; the logs hold the lines until it is back');
  }

  readingResumed(): void {
    if (this.pausedSince === undefined) return;
    const ms = Date.now() - this.pausedSince;
    this.pausedSince = undefined;
    this.paused.set(0);
    this.pausedSeconds.inc(ms / 1000);
    this.log.info({ ms }, 'reading resumed');
  }

  positionsFailed(file: string, err: unknown): void {
    this.positionErrors.inc();
    if (!this.positionsFailing.has(file)) this.log.error({ file, err: errorMessage(err) }, 'cannot write read positions; retrying');
    this.positionsFailing.add(file);
  }

  positionsWritten(file: string): void {
    if (this.positionsFailing.delete(file)) this.log.info({ file }, 'read positions written again');
  }

  positionsUnreadable(file: string, err: unknown, movedTo: string | undefined, fallback: 'backup' | 'start'): void {
    this.positionsLost.inc({ fallback });
    const then = fallback === 'backup' ? 'using the previous copy (.bak): some lines may be read again' : 'no good copy either: every log is read again from its start (same message ids; lines older than findtime are not counted)';
    this.log.error({ file, err: errorMessage(err), movedTo, fallback }, `saved read positions unreadable; ${then}`);
  }

  fileOpened(jail: string, path: string, from: 'start' | 'end' | 'saved', offset: number): void {
    this.log.info({ jail, path, from, offset }, 'tailing file');
  }

  fileRotated(jail: string, path: string, kind: RotationKind): void {
    this.rotations.inc({ jail, kind });
    this.log.info({ jail, path, kind }, `file ${kind}`);
  }

  fileClosed(jail: string, path: string, reason: string): void {
    this.log.info({ jail, path, reason }, 'stopped reading file');
  }

  sourceFailed(jail: string, source: string, err: unknown): void {
    if (this.once.first(`source:${jail}:${source}:${errorMessage(err)}`)) this.log.error({ jail, source, err: errorMessage(err) }, 'source failed');
  }

  sourceRestarted(jail: string, source: string, reason: string): void {
    this.restarts.inc({ jail, source });
    this.log.warn({ jail, source, reason }, 'source restarted');
  }

  entrySkipped(jail: string, source: string, reason: string): void {
    this.skipped.inc({ jail, source });
    if (this.once.first(`skip:${jail}:${source}:${reason}`)) this.log.warn({ jail, source, reason }, 'entry skipped');
  }
}
