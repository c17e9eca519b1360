import { link, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage, FleetbanError } from '../../shared/errors.ts';
import { timerDelay } from '../../shared/time/index.ts';

/** The positions file could not be read or written. */
export class PositionsError extends FleetbanError {}

export interface PositionEvents {
  positionsFailed(file: string, err: unknown): void;
  positionsWritten(file: string): void;
  positionsUnreadable(file: string, err: unknown, movedTo: string | undefined, fallback: 'backup' | 'start'): void;
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

  /**
   * Opens the store and returns what the previous run saved, by stream key.
   * A file that cannot be parsed is moved aside and the previous good copy
   * (`<file>.bak`) is used; when there is none either, `lost` is true and
   * the sources read from the start, not the end: reading lines again is
   * safe (same message ids, findtime), never reading them is not.
   */
  static async open(file: string, events: PositionEvents): Promise<{ store: PositionStore; saved: Map<string, unknown>; lost: boolean }> {
    await mkdir(dirname(file), { recursive: true, mode: 0o750 });
    const store = new PositionStore(file, events);
    const current = await readPositions(file);
    if (current.ok) {
      store.written = current.text;
      return { store, saved: current.saved, lost: false };
    }
    const backup = await readPositions(`${file}.bak`);
    if (current.missing && !backup.ok && backup.missing) return { store, saved: new Map(), lost: false };
    let movedTo: string | undefined;
    if (!current.missing) {
      // Kept aside for a post-mortem.
      const aside = `${file}.unreadable-${Date.now()}`;
      movedTo = await rename(file, aside).then(() => aside, () => undefined);
    }
    const reason = current.missing ? new Error('missing, but a previous copy exists') : current.error;
    events.positionsUnreadable(file, reason, movedTo, backup.ok ? 'backup' : 'start');
    if (backup.ok) return { store, saved: backup.saved, lost: false };
    return { store, saved: new Map(), lost: true };
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
      // The file being replaced is the last good copy: kept as .bak (a hard
      // link, so it is never half written) for when the new one is damaged.
      await link(this.file, `${this.file}.bak.tmp`).then(
        () => rename(`${this.file}.bak.tmp`, `${this.file}.bak`),
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT' && err.code !== 'EEXIST') throw err;
          if (err.code === 'EEXIST') return rm(`${this.file}.bak.tmp`, { force: true });
        },
      );
      await rename(tmp, this.file);
      await syncDir(dirname(this.file));
      this.written = text;
      this.events.positionsWritten(this.file);
    } catch (err) {
      this.events.positionsFailed(this.file, err);
      throw new PositionsError(`cannot write positions ${this.file}: ${errorMessage(err)}`, { cause: err });
    }
  }
}

type Read = { ok: true; text: string; saved: Map<string, unknown> } | { ok: false; missing: boolean; error?: unknown };

async function readPositions(file: string): Promise<Read> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, missing: true };
    throw new PositionsError(`cannot read positions ${file}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    const data = JSON.parse(text) as { v?: unknown; streams?: unknown };
    if (data.v !== VERSION || typeof data.streams !== 'object' || data.streams === null) throw new Error(`not a version ${VERSION} positions file`);
    return { ok: true, text, saved: new Map(Object.entries(data.streams)) };
  } catch (error) {
    return { ok: false, missing: false, error };
  }
}

/** Makes a rename in `dir` durable (best effort: some file systems refuse fsync on a directory). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
