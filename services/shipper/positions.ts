import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage, FleetbanError } from '../../shared/errors.ts';
import { timerDelay } from '../../shared/time/index.ts';

/** The positions file could not be read or written. */
export class PositionsError extends FleetbanError {}

export interface PositionEvents {
  positionsFailed(file: string, err: unknown): void;
  positionsWritten(file: string): void;
  positionsUnreadable(file: string, err: unknown, movedTo: string | undefined): void;
}

const VERSION = 1;

/**
 * The read positions of one jail, in one JSON file in the state directory.
 * Each live stream registers a function that gives its checkpoint (the
 * position of its oldest line not yet safe); a write takes all of them at
 * once and replaces the file atomically (temporary file, fsync, rename), so a
 * crash leaves either the old positions or the new ones, never half.
 */
export class PositionStore {
  private readonly live = new Map<string, () => unknown>();
  private written = '';
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly file: string,
    private readonly events: PositionEvents,
  ) {}

  /** Opens the store and returns what the previous run saved, by stream key. */
  static async open(file: string, events: PositionEvents): Promise<{ store: PositionStore; saved: Map<string, unknown> }> {
    await mkdir(dirname(file), { recursive: true, mode: 0o750 });
    const store = new PositionStore(file, events);
    const saved = new Map<string, unknown>();
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new PositionsError(`cannot read positions ${file}: ${errorMessage(err)}`, { cause: err });
    }
    if (text !== undefined) {
      try {
        const data = JSON.parse(text) as { v?: unknown; streams?: unknown };
        if (data.v !== VERSION || typeof data.streams !== 'object' || data.streams === null) throw new Error(`not a version ${VERSION} positions file`);
        for (const [key, value] of Object.entries(data.streams)) saved.set(key, value);
        store.written = text;
      } catch (err) {
        // Kept aside for a post-mortem; starting without positions re-reads
        // nothing old (files seen for the first time start at their end).
        const aside = `${file}.unreadable-${Date.now()}`;
        const moved = await rename(file, aside).then(() => aside, () => undefined);
        events.positionsUnreadable(file, err, moved);
      }
    }
    return { store, saved };
  }

  /** A stream's checkpoint, read at every write. */
  track(key: string, checkpoint: () => unknown): void {
    this.live.set(key, checkpoint);
  }

  /** Stops saving a stream, unless another stream (a newer generation) took its key. */
  forget(key: string, checkpoint?: () => unknown): void {
    if (checkpoint === undefined || this.live.get(key) === checkpoint) this.live.delete(key);
  }

  /** Writes every `intervalMs` when something moved. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), timerDelay(intervalMs));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Writes the current checkpoints (after any write in progress); resolves once they are on disk. */
  flush(): Promise<void> {
    const next = this.chain.then(() => this.write());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async write(): Promise<void> {
    const streams: Record<string, unknown> = {};
    for (const [key, checkpoint] of this.live) streams[key] = checkpoint();
    const text = `${JSON.stringify({ v: VERSION, streams })}\n`;
    if (text === this.written) return;
    const tmp = `${this.file}.tmp`;
    try {
      const handle = await open(tmp, 'w', 0o640);
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.file);
      this.written = text;
      this.events.positionsWritten(this.file);
    } catch (err) {
      this.events.positionsFailed(this.file, err);
      throw new PositionsError(`cannot write positions ${this.file}: ${errorMessage(err)}`, { cause: err });
    }
  }
}
