import type { Config, JailConfig } from '../../../shared/config/index.ts';
import type { Logger } from '../../../shared/telemetry/index.ts';
import type { SourceTelemetry } from '../telemetry.ts';

/**
 * One sequence of lines with its own read position: a file instance (device,
 * inode, generation), the journal, or stdin. `P` is the source's position:
 * a byte offset for files and stdin, a journal cursor for the journal.
 */
export interface Stream<P = unknown> {
  /** Key of the stream's saved position; stays the same across generations of one file. */
  readonly key: string;
  /** The event's `source` field: the file's path, `journal` or `stdin`. */
  readonly label: string;
  /** Whether positions of this stream are saved (stdin's are not). */
  readonly durable: boolean;
  /** Where a line was read, as a message-id part (see ids.ts): the same bytes always give the same text. */
  where(line: SourceLine<P>): string;
  /** What is saved for this stream when reading must resume at `resume`. */
  checkpoint(resume: P): unknown;
}

/** One line and where it was read. */
export interface SourceLine<P = unknown> {
  text: string;
  /** Where reading resumes to read this line again. */
  at: P;
  /** Journal entries carry their cursor, the identity of the entry. */
  cursor?: string;
  /** The entry's own time, epoch ms, where the source knows it (the journal); it wins over a date in the text. */
  time?: number;
}

/**
 * Where a source hands its lines. Every call resolves only when the lines
 * are handed on to publishing, so a source that awaits it reads no faster
 * than JetStream acknowledges: the log itself is the buffer.
 */
export interface LineSink {
  /**
   * A new stream (or a new generation of one). Resolves once its starting
   * position is saved, so every message id it produces can be produced again
   * after a crash.
   */
  open(stream: Stream, start: unknown): Promise<void>;
  /** Lines in read order; `end` is the position after the last of them. */
  lines(stream: Stream, lines: readonly SourceLine[], end: unknown): Promise<void>;
  /**
   * The stream's key changed (its file was replaced by a copy of itself and
   * reading goes on in the copy): its saved position moves to the new key.
   */
  moved(stream: Stream, previousKey: string): Promise<void>;
  /** The stream ends; its saved position is dropped once its publishes are acknowledged. */
  close(stream: Stream): void;
}

/** What a source may need from the jail's filter. */
export interface SourceFilter {
  /** journalctl matches: terms of a group are ANDed, groups ORed. */
  readonly journalmatch: readonly (readonly string[])[];
  /** The line fail2ban's systemd backend builds from a journal entry. */
  journalLine(entry: Record<string, unknown>): string;
}

/** What a source gets from the shipper. */
export interface SourceContext {
  jail: JailConfig;
  filter: SourceFilter;
  shipper: Config['shipper'];
  /** This host's name, part of every message id. */
  host: string;
  /** Positions saved by the previous run, by stream key. */
  saved: ReadonlyMap<string, unknown>;
  /**
   * The saved positions were lost (unreadable, no good copy): read what is
   * there from its start rather than its end, so that nothing written while
   * the shipper was down is missed.
   */
  positionsLost?: boolean;
  sink: LineSink;
  log: Logger;
  telemetry: SourceTelemetry;
}

/** A running source. */
export interface Source {
  readonly name: string;
  /** Starts reading; resolves once the initial set of streams is open. */
  start(): Promise<void>;
  /** Stops reading and closes files and child processes; lines already handed on stay handed on. */
  stop(): Promise<void>;
  /** Whether the source can end by itself (stdin at end of input) and has ended. */
  readonly finite: boolean;
  ended(): Promise<void>;
  /** Streams and how far behind each is, for stats and metrics. */
  streams(): Array<{ stream: Stream; behind: number }>;
}

/** A kind of source, registered by name in sources/index.ts. */
export interface SourceKind<Spec = unknown> {
  readonly name: string;
  /** The spec this kind takes from a jail, or undefined when the jail does not use it. */
  select(jail: JailConfig): Spec | undefined;
  create(spec: Spec, context: SourceContext): Source;
}
