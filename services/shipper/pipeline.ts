import { errorMessage } from '../../shared/errors.ts';
import { failureCodec } from '../../shared/schema/index.ts';
import { gate, type GateContext } from './gate.ts';
import { failureId } from './ids.ts';
import type { Matcher, MatcherFactory } from './matching.ts';
import type { PositionStore } from './positions.ts';
import { PublisherStoppedError, type Publisher } from './publisher.ts';
import type { LineSink, SourceLine, Stream } from './sources/types.ts';
import { AckTracker } from './tracker.ts';

/** What the pipeline reports; ShipperTelemetry implements it. */
export interface PipelineEvents {
  read(jail: string, lines: number, matched: number): void;
  acknowledged(jail: string, duplicate: boolean, latencyMs: number): void;
  failureDropped(jail: string, reason: 'allowlisted' | 'too_old' | 'no_address' | 'invalid', ip?: string): void;
  sourceFailed(jail: string, source: string, err: unknown): void;
}

interface StreamState {
  matcher: Matcher;
  tracker: AckTracker<unknown>;
  checkpoint: () => unknown;
  closing: boolean;
}

export interface PipelineOptions {
  gate: GateContext;
  subject: string;
  filter: MatcherFactory;
  publisher: Publisher;
  store: PositionStore;
  events: PipelineEvents;
  /** The clock at read: a line older than findtime by it is not published. */
  now?: () => number;
}

/** Counts for the service API's stats. */
export interface PipelineStats {
  linesRead: number;
  failuresFound: number;
  published: number;
  duplicates: number;
  dropped: number;
  inFlight: number;
}

/**
 * One jail's path from lines to JetStream: the filter's matcher per stream,
 * the gate (allowlist, findtime), the publisher, and the acknowledgement
 * tracking that decides which read positions are safe to save.
 */
export class JailPipeline implements LineSink {
  private readonly streams = new Map<Stream, StreamState>();
  private readonly now: () => number;
  readonly stats: PipelineStats = { linesRead: 0, failuresFound: 0, published: 0, duplicates: 0, dropped: 0, inFlight: 0 };

  constructor(private readonly options: PipelineOptions) {
    this.now = options.now ?? Date.now;
  }

  get jail(): string {
    return this.options.gate.jail;
  }

  async open(stream: Stream, start: unknown): Promise<void> {
    const tracker = new AckTracker<unknown>(start, this.options.filter.maxlines);
    const state: StreamState = { matcher: this.options.filter.matcher(), tracker, checkpoint: () => stream.checkpoint(tracker.safe()), closing: false };
    this.streams.set(stream, state);
    if (!stream.durable) return;
    this.options.store.track(stream.key, state.checkpoint);
    await this.options.store.flush();
  }

  async lines(stream: Stream, lines: readonly SourceLine[], end: unknown): Promise<void> {
    const state = this.streams.get(stream);
    if (!state) throw new Error(`lines for a stream that is not open: ${stream.label}`);
    const { gate: gateContext, events, publisher, subject } = this.options;
    const jail = gateContext.jail;
    const now = this.now();
    let matchedLines = 0;
    for (const line of lines) {
      const seq = state.tracker.read(line.at);
      const matches = state.matcher.push(line.text, now, line.time);
      if (matches.length === 0) continue;
      matchedLines++;
      this.stats.failuresFound += matches.length;
      const where = stream.where(line);
      for (let index = 0; index < matches.length; index++) {
        const id = failureId(jail, gateContext.host, where, index);
        const result = gate(gateContext, matches[index]!, { id, source: stream.label, now });
        if (!result.publish) {
          this.stats.dropped++;
          events.failureDropped(jail, result.reason, result.ip);
          continue;
        }
        let data: Uint8Array;
        try {
          data = failureCodec.encode(result.event);
        } catch (err) {
          this.stats.dropped++;
          events.failureDropped(jail, 'invalid', result.event.ip);
          events.sourceFailed(jail, stream.label, err);
          continue;
        }
        state.tracker.hold(seq, line.at);
        const { acked } = publisher.tryPublish(subject, data, id) ?? (await publisher.publish(subject, data, id));
        this.stats.inFlight++;
        acked.then(
          (duplicate) => {
            this.stats.inFlight--;
            if (duplicate) this.stats.duplicates++;
            else this.stats.published++;
            state.tracker.release(seq);
            events.acknowledged(jail, duplicate, this.now() - now);
            if (state.closing && !state.tracker.waiting) this.forget(stream, state);
          },
          (err: unknown) => {
            // Stopped before the acknowledgement: the line stays unsafe, so the next run reads it again.
            this.stats.inFlight--;
            if (!(err instanceof PublisherStoppedError)) events.sourceFailed(jail, stream.label, new Error(`publish failed: ${errorMessage(err)}`));
          },
        );
      }
    }
    state.tracker.readTo(end);
    this.stats.linesRead += lines.length;
    events.read(jail, lines.length, matchedLines);
  }

  async moved(stream: Stream, previousKey: string): Promise<void> {
    const state = this.streams.get(stream);
    if (!state || !stream.durable || previousKey === stream.key) return;
    this.options.store.forget(previousKey, state.checkpoint);
    this.options.store.track(stream.key, state.checkpoint);
    await this.options.store.flush();
  }

  close(stream: Stream): void {
    const state = this.streams.get(stream);
    if (!state) return;
    state.closing = true;
    if (!state.tracker.waiting) this.forget(stream, state);
  }

  private forget(stream: Stream, state: StreamState): void {
    this.streams.delete(stream);
    if (stream.durable) this.options.store.forget(stream.key, state.checkpoint);
  }
}
