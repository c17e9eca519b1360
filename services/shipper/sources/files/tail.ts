import { createHash } from 'node:crypto';
import { fstatSync, type BigIntStats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { fileWhere } from '../../ids.ts';
import type { RotationKind } from '../../telemetry.ts';
import { LineSplitter } from '../lines.ts';
import type { LineSink, SourceLine, Stream } from '../types.ts';

/** What is saved for a file: enough to recognise the same file instance after a restart. */
export interface FileCheckpoint {
  path: string;
  /** `<dev>-<ino>`. */
  id: string;
  /** Distinguishes instances that share device and inode over time (truncation, inode reuse). */
  gen: string;
  /** Digest of the first line: a file truncated and grown again, or a new file on a reused inode, differs. */
  fp?: string;
  offset: number;
  /**
   * The `<dev>-<ino>` in message ids, when it is not `id`: the file replaced
   * one it is a copy of (an editor's save, `sed -i`), and carries on its ids.
   */
  ids?: string;
}

export function identityOf(info: Pick<BigIntStats, 'dev' | 'ino'>): string {
  return `${info.dev}-${info.ino}`;
}

/** A generation newer than `previous` (base-36 milliseconds, so ids stay short and never repeat). */
export function nextGeneration(previous?: string): string {
  const before = previous === undefined ? 0 : parseInt(previous, 36) || 0;
  return Math.max(Date.now(), before + 1).toString(36);
}

const FINGERPRINT_BYTES = 1024;
const CHUNK = 64 * 1024;
/**
 * chokidar drops a file's `change` events for 50 ms after one it emitted, so
 * after a read that found data the file is looked at again every
 * FOLLOW_UP_MS until it has been quiet for FOLLOW_UP_WINDOW_MS: a write in
 * the dropped window is read promptly instead of at the next periodic check.
 * A quiet file costs nothing.
 */
const FOLLOW_UP_MS = 10;
const FOLLOW_UP_WINDOW_MS = 60;

/** Digest of the file's first line (or first 1 KiB); undefined until there is one. */
export async function fingerprintOf(handle: FileHandle): Promise<string | undefined> {
  const buf = Buffer.alloc(FINGERPRINT_BYTES);
  const { bytesRead } = await handle.read(buf, 0, FINGERPRINT_BYTES, 0);
  const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
  if (nl < 0 && bytesRead < FINGERPRINT_BYTES) return undefined;
  return createHash('sha256').update(buf.subarray(0, nl < 0 ? bytesRead : nl + 1)).digest('base64url').slice(0, 16);
}

/** Where a file seen for the first time starts when it is tailed from its end: after its last complete line. */
export async function endOfLastLine(handle: FileHandle, size: number): Promise<number> {
  if (size === 0) return 0;
  const length = Math.min(size, CHUNK);
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, size - length);
  const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
  return nl < 0 ? size : size - length + nl + 1;
}

export interface TailContext {
  sink: LineSink;
  maxLineBytes: number;
  onRotated(path: string, kind: RotationKind): void;
  onError(path: string, err: unknown): void;
}

/**
 * One generation of one file's content, as a stream of lines. Its message
 * ids name the file it was first read from (`ids`), also after the path
 * was replaced by a copy: the same bytes keep the same ids. Its saved
 * position is keyed by the file read now.
 */
class FileStream implements Stream<number> {
  readonly durable = true;

  constructor(
    private readonly tail: FileTail,
    readonly label: string,
    readonly ids: string,
    readonly gen: string,
  ) {}

  get key(): string {
    return `f:${this.tail.identity}`;
  }

  where(line: SourceLine<number>): string {
    return fileWhere(this.ids, this.gen, line.at);
  }

  checkpoint(resume: number): FileCheckpoint {
    const id = this.tail.identity;
    return { path: this.label, id, gen: this.gen, ...(this.tail.fp !== undefined && { fp: this.tail.fp }), offset: resume, ...(this.ids !== id && { ids: this.ids }) };
  }
}

/** Whether the `bytes` before `end` are the same in both files (both at least `end` long). */
export async function sameBytesBefore(a: FileHandle, b: FileHandle, end: number, bytes = 1024): Promise<boolean> {
  const length = Math.min(bytes, end);
  if (length === 0) return true;
  const [x, y] = [Buffer.alloc(length), Buffer.alloc(length)];
  const [rx, ry] = await Promise.all([a.read(x, 0, length, end - length), b.read(y, 0, length, end - length)]);
  return rx.bytesRead === length && ry.bytesRead === length && x.equals(y);
}

/**
 * Reads one open file from its position to its end, whenever asked (a
 * file-system event or the periodic check), one read at a time: reading waits
 * while the sink waits for publish slots. Holds the descriptor, so a file
 * renamed or deleted under it is still read to its end.
 */
export class FileTail {
  stream: FileStream;
  fp: string | undefined;
  /** Size at the last look. */
  size = 0;
  /** When the file last grew (or was opened): a rotated file is closed once it is quiet. */
  lastGrowth = Date.now();
  draining = false;
  private splitter: LineSplitter;
  private pumping: Promise<void> | undefined;
  private again = false;
  private verifyNext = false;
  private stopped = false;
  private followUp: NodeJS.Timeout | undefined;
  private readonly buf = Buffer.alloc(CHUNK);
  /** A copy of this file that replaced it at its path: read from the next read on. */
  private next: { handle: FileHandle; identity: string } | undefined;

  constructor(
    private readonly ctx: TailContext,
    readonly path: string,
    private handle: FileHandle,
    /** `<dev>-<ino>` of the file read now. */
    public identity: string,
    gen: string,
    fp: string | undefined,
    start: number,
    /** `<dev>-<ino>` in message ids: of the file first read, when this one is a copy of it. */
    ids: string = identity,
  ) {
    this.fp = fp;
    this.stream = new FileStream(this, path, ids, gen);
    this.splitter = new LineSplitter(ctx.maxLineBytes, start);
  }

  /** Bytes written and not read yet (a fresh look at the size: reading may be paused). */
  get behind(): number {
    if (!this.stopped) {
      try {
        this.size = fstatSync(this.handle.fd).size;
      } catch {
        // closed meanwhile: the last size stands
      }
    }
    return Math.max(0, this.size - this.splitter.readTo);
  }

  /** Whether a read is under way (or waiting to hand its lines on). */
  get busy(): boolean {
    return this.pumping !== undefined;
  }

  get offset(): number {
    return this.splitter.readTo;
  }

  /** Reads what is there; a call while reading makes the current read go on to the new end. */
  pump(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    this.pumping = (async () => {
      do {
        this.again = false;
        try {
          await this.readAvailable();
        } catch (err) {
          if (!this.stopped) this.ctx.onError(this.path, err);
        }
      } while (this.again && !this.stopped);
      if (!this.stopped && Date.now() - this.lastGrowth < FOLLOW_UP_WINDOW_MS) {
        this.followUp ??= setTimeout(() => {
          this.followUp = undefined;
          void this.pump();
        }, FOLLOW_UP_MS);
      }
    })().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  /**
   * The periodic look: a different first line means the file was replaced
   * in place (copytruncate and grown again past our position); it is read
   * again from its start under a new generation.
   */
  verify(): Promise<void> {
    if (!this.draining) this.verifyNext = true;
    return this.pump();
  }

  /**
   * The path now leads to a copy of this file (same first line, at least as
   * long): go on reading there at the same offset, under the same ids, and
   * stop reading this one. The switch happens between two reads.
   */
  adopt(handle: FileHandle, identity: string): void {
    void this.next?.handle.close().catch(() => undefined);
    this.next = { handle, identity };
    this.identity = identity;
    this.draining = false;
    this.lastGrowth = Date.now();
    void this.pump();
  }

  /** The path leads here again (moved away and back): read as the path's file again. */
  reactivate(): void {
    this.draining = false;
    void this.pump();
  }

  /** The file read now (for comparisons; not to be closed by the caller). */
  get file(): FileHandle {
    return this.next?.handle ?? this.handle;
  }

  private switchFile(): void {
    if (!this.next) return;
    const old = this.handle;
    this.handle = this.next.handle;
    this.next = undefined;
    void old.close().catch(() => undefined);
  }

  /** The path no longer leads here: read to the end, and on until the file is quiet. */
  drain(): void {
    this.draining = true;
    this.lastGrowth = Date.now();
  }

  async isDeleted(): Promise<boolean> {
    const info = await this.handle.stat().catch(() => undefined);
    return info === undefined || info.nlink === 0;
  }

  /** Hands on a last line without newline (the file will not grow again) and ends the stream. */
  async finish(): Promise<void> {
    await this.pump();
    const wasStopped = this.stopped;
    this.stop();
    const last = this.splitter.flush();
    if (last && !wasStopped) await this.ctx.sink.lines(this.stream, [{ text: last.text, at: last.start }], last.end);
    this.ctx.sink.close(this.stream);
    this.switchFile();
    await this.handle.close().catch(() => undefined);
  }

  /** Stops reading; what was handed on stays handed on. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.followUp);
  }

  /** Closes the descriptor at shutdown; the stream's position stays saved for the next run. */
  async shutdown(): Promise<void> {
    this.stop();
    await this.pumping;
    this.switchFile();
    await this.handle.close().catch(() => undefined);
  }

  private async readAvailable(): Promise<void> {
    this.switchFile();
    const info = await this.handle.stat();
    this.size = info.size;
    if (info.size < this.splitter.readTo) await this.restart('truncated');
    else if (this.verifyNext || (info.size > this.splitter.readTo && !this.draining)) {
      // Before reading new bytes: if the first line changed, the file was
      // replaced in place and grew past our position; the new bytes at our
      // old offset would be the middle of some other line.
      this.verifyNext = false;
      const fp = await fingerprintOf(this.handle);
      if (this.fp !== undefined && fp !== this.fp) await this.restart('replaced');
      else this.fp ??= fp;
    }
    while (!this.stopped) {
      this.switchFile();
      const { bytesRead } = await this.handle.read(this.buf, 0, CHUNK, this.splitter.readTo);
      if (bytesRead === 0) break;
      this.lastGrowth = Date.now();
      this.size = Math.max(this.size, this.splitter.readTo + bytesRead);
      const lines = this.splitter.push(this.buf.subarray(0, bytesRead));
      if (this.fp === undefined) this.fp = await fingerprintOf(this.handle);
      if (lines.length === 0) continue;
      const out: SourceLine<number>[] = new Array(lines.length);
      for (let i = 0; i < lines.length; i++) out[i] = { text: lines[i]!.text, at: lines[i]!.start };
      await this.ctx.sink.lines(this.stream, out, this.splitter.resumeAt);
    }
  }

  /** Same file, new content from offset 0: a new generation, so its message ids differ from the old content's. */
  private async restart(kind: RotationKind): Promise<void> {
    const old = this.stream;
    this.ctx.sink.close(old);
    this.splitter.reset(0);
    this.fp = await fingerprintOf(this.handle);
    this.stream = new FileStream(this, this.path, this.identity, nextGeneration(old.gen));
    await this.ctx.sink.open(this.stream, 0);
    this.ctx.onRotated(this.path, kind);
  }
}
