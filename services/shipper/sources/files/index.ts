import { open, stat, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { JailConfig } from '../../../../shared/config/index.ts';
import type { RotationKind } from '../../telemetry.ts';
import type { Source, SourceContext, SourceKind, Stream } from '../types.ts';
import { expand, matchPath, parsePattern, type PathPattern } from './glob.ts';
import { endOfLastLine, fingerprintOf, FileTail, identityOf, nextGeneration, sameBytesBefore, type FileCheckpoint } from './tail.ts';
import { timerDelay } from '../../../../shared/time/index.ts';

/** Closed files remembered per path, for a file moved away and back later. */
const MAX_REMEMBERED = 256;

/** A logpath entry: a path or glob, and where a file seen for the first time at start begins. */
export interface FilePattern {
  pattern: string;
  /** fail2ban's `logpath = FILE tail|head`; fleetban starts at the end unless `head` is given. */
  begin: 'tail' | 'head';
}

export interface FilesSpec {
  patterns: FilePattern[];
  /** `backend: polling`: no file-system events, only the periodic check. */
  polling: boolean;
}

/**
 * Tails the jail's logpath: chokidar's events and a periodic check both
 * lead to the same comparison of device, inode and size with what is open,
 * so no outcome depends on one event arriving. A path that leads to a new
 * file is a rotation (the old file is read to its end and on while it still
 * grows), unless the new file is a copy of the old one (same first line, at
 * least as long, the old one deleted or ending the same: an editor's save,
 * `sed -i`, a file moved away and back), where reading goes on at the same
 * offset under the same message ids, as fail2ban keeps its position; a
 * file that shrank or whose first line changed was truncated or replaced
 * in place (read again from its start under a new generation).
 */
class FilesSource implements Source {
  readonly name = 'files';
  readonly finite = false;
  private readonly patterns: Array<PathPattern & { begin: 'tail' | 'head' }>;
  private readonly active = new Map<string, FileTail>();
  private readonly draining = new Set<FileTail>();
  private readonly pendingPaths = new Set<string>();
  private pendingFull = false;
  private verifyNext = false;
  private working: Promise<void> | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly unclaimed: Map<string, FileCheckpoint>;
  private readonly knownPaths: Set<string>;
  /** Files read to their end and closed, by path: if the path leads to one again (moved back), it resumes. */
  private readonly closed = new Map<string, FileCheckpoint>();
  /** At start: files of saved positions that still exist in their directory (not replaced while down). */
  private present = new Set<string>();

  constructor(
    private readonly spec: FilesSpec,
    private readonly ctx: SourceContext,
  ) {
    this.patterns = spec.patterns.map((p) => ({ ...parsePattern(p.pattern), begin: p.begin }));
    this.unclaimed = new Map();
    for (const [key, value] of ctx.saved) if (key.startsWith('f:') && isCheckpoint(value)) this.unclaimed.set(key, value);
    this.knownPaths = new Set([...this.unclaimed.values()].map((c) => c.path));
  }

  async start(): Promise<void> {
    this.present = await this.presentFiles();
    for (const path of await this.matchingPaths()) await this.openPath(path, true);
    await this.resumeRotatedAway();
    this.unclaimed.clear();
    if (!this.spec.polling) this.startWatching();
    this.timer = setInterval(() => {
      this.verifyNext = true;
      this.schedule();
    }, timerDelay(this.ctx.shipper.checkInterval));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.watcher?.close();
    const tails = [...this.active.values(), ...this.draining];
    for (const tail of tails) tail.stop();
    await this.working?.catch(() => undefined);
    await Promise.all(tails.map((t) => t.shutdown()));
  }

  ended(): Promise<void> {
    return new Promise(() => undefined);
  }

  streams(): Array<{ stream: Stream; behind: number }> {
    return [...this.active.values(), ...this.draining].map((t) => ({ stream: t.stream, behind: t.behind }));
  }

  private startWatching(): void {
    const bases = [...new Set(this.patterns.map((p) => p.base))];
    const depth = Math.max(...this.patterns.map((p) => p.segments.length)) - 1;
    this.watcher = watch(bases, {
      ignoreInitial: true,
      persistent: false,
      depth,
      // Only the files the patterns name, and the directories on the way to them.
      ignored: (path: string) => !this.patterns.some((p) => matchPath(p, path) !== false),
    });
    this.watcher.on('all', (event, path) => (event === 'change' && this.active.has(path) ? this.schedule(path) : this.schedule()));
    this.watcher.on('error', (err) => this.ctx.telemetry.sourceFailed(this.ctx.jail.name, 'files', err));
  }

  /** Coalesces checks: one runs at a time; a full check covers any single-path check asked for meanwhile. */
  private schedule(path?: string): void {
    if (this.stopped) return;
    if (path === undefined) this.pendingFull = true;
    else this.pendingPaths.add(path);
    this.working ??= this.work().finally(() => {
      this.working = undefined;
    });
  }

  private async work(): Promise<void> {
    while (!this.stopped && (this.pendingFull || this.pendingPaths.size > 0)) {
      try {
        if (this.pendingFull) {
          this.pendingFull = false;
          this.pendingPaths.clear();
          await this.fullCheck();
        } else {
          const paths = [...this.pendingPaths];
          this.pendingPaths.clear();
          for (const path of paths) await this.checkPath(path);
        }
      } catch (err) {
        this.ctx.telemetry.sourceFailed(this.ctx.jail.name, 'files', err);
      }
    }
  }

  private async fullCheck(): Promise<void> {
    const verify = this.verifyNext;
    this.verifyNext = false;
    const paths = new Set(await this.matchingPaths());
    for (const path of [...this.active.keys()]) await this.checkPath(path);
    for (const path of paths) if (!this.active.has(path)) await this.openPath(path, false);
    for (const tail of this.active.values()) void (verify ? tail.verify() : tail.pump());
    const quiet = Date.now() - this.ctx.shipper.rotateWait;
    // Pumps are not awaited: while publishing is paused the checks go on, so
    // a rotation is still noticed while its old file is held open.
    for (const tail of [...this.draining]) {
      if (!tail.busy && tail.lastGrowth < quiet && tail.behind === 0) {
        this.draining.delete(tail);
        await tail.finish();
        this.remember(tail);
        this.ctx.telemetry.fileClosed(this.ctx.jail.name, tail.path, 'rotated away and read to its end');
      } else void tail.pump();
    }
  }

  /** Compares what the path leads to with the open file: same device and inode, or a rotation. */
  private async checkPath(path: string): Promise<void> {
    const tail = this.active.get(path);
    if (!tail) return;
    const info = await stat(path, { bigint: true }).catch(() => undefined);
    if (info && identityOf(info) === tail.identity) {
      void tail.pump();
      return;
    }
    // An editor's save, `sed -i`, `cp f x && mv x f`: the same content in a new file.
    if (info?.isFile() && (await this.handOver(tail, path))) return;
    this.active.delete(path);
    const kind = (await tail.isDeleted()) ? 'deleted' : 'renamed';
    tail.drain();
    this.draining.add(tail);
    this.ctx.telemetry.fileRotated(this.ctx.jail.name, path, kind);
    void tail.pump();
    if (info?.isFile()) await this.openPath(path, false);
  }

  /**
   * Opens a file and decides where it starts: its saved position when it is
   * the same instance; its end when it is seen for the first time at start
   * (unless `head`); otherwise its start (it appeared while running, or
   * replaced a file we knew).
   */
  private async openPath(path: string, atStart: boolean): Promise<void> {
    if (this.stopped || this.active.has(path)) return;
    if (!atStart && (await this.takeBack(path))) return;
    const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
      // Gone again is normal; unreadable (permissions) is the operator's to fix, so it is said.
      if (err.code !== 'ENOENT') this.ctx.telemetry.sourceFailed(this.ctx.jail.name, `file ${path}`, err);
      return undefined;
    });
    if (!handle) return;
    try {
      const info = await handle.stat({ bigint: true });
      if (!info.isFile()) {
        await handle.close();
        return;
      }
      const identity = identityOf(info);
      const size = Number(info.size);
      const fp = await fingerprintOf(handle);
      const saved = this.unclaimed.get(`f:${identity}`);
      this.unclaimed.delete(`f:${identity}`);
      let from: 'saved' | 'start' | 'end';
      let offset: number;
      let gen: string;
      let ids = identity;
      const copied = saved && saved.offset <= size && (saved.fp === undefined || saved.fp === fp) ? undefined : this.copiedFrom(path, fp, size, atStart);
      if (saved && !copied && saved.offset <= size && (saved.fp === undefined || saved.fp === fp)) {
        [from, offset, gen, ids] = ['saved', saved.offset, saved.gen, saved.ids ?? identity];
      } else if (copied) {
        // The file at this path was replaced by a copy of itself (or moved away and back): resume, same ids.
        [from, offset, gen, ids] = ['saved', copied.offset, copied.gen, copied.ids ?? copied.id];
      } else if (atStart && !this.knownPaths.has(path) && !this.ctx.positionsLost && this.beginOf(path) === 'tail') {
        [from, offset, gen] = ['end', await endOfLastLine(handle, size), nextGeneration(saved?.gen)];
      } else {
        [from, offset, gen] = ['start', 0, nextGeneration(saved?.gen)];
      }
      const tail = new FileTail(this.tailContext(), path, handle, identity, gen, fp, offset, ids);
      tail.size = size;
      await this.ctx.sink.open(tail.stream, offset);
      this.active.set(path, tail);
      this.ctx.telemetry.fileOpened(this.ctx.jail.name, path, from, offset);
      void tail.pump();
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * A file the previous run was reading that was rotated away while the
   * shipper was down: found in its directory by device and inode, and read to
   * its end, so lines written just before the rotation are not lost.
   */
  private async resumeRotatedAway(): Promise<void> {
    const byDir = new Map<string, FileCheckpoint[]>();
    for (const c of this.unclaimed.values()) byDir.set(dirname(c.path), [...(byDir.get(dirname(c.path)) ?? []), c]);
    for (const [dir, checkpoints] of byDir) {
      const names = await readdir(dir).catch(() => []);
      for (const name of names) {
        const path = join(dir, name);
        const info = await stat(path, { bigint: true }).catch(() => undefined);
        const saved = info?.isFile() ? checkpoints.find((c) => c.id === identityOf(info)) : undefined;
        if (!saved || Number(info!.size) < saved.offset) continue;
        const handle = await open(path, 'r').catch(() => undefined);
        if (!handle) continue;
        if (saved.fp !== undefined && (await fingerprintOf(handle)) !== saved.fp) {
          await handle.close();
          continue;
        }
        this.unclaimed.delete(`f:${saved.id}`);
        const tail = new FileTail(this.tailContext(), saved.path, handle, saved.id, saved.gen, saved.fp, saved.offset, saved.ids ?? saved.id);
        tail.size = Number(info!.size);
        await this.ctx.sink.open(tail.stream, saved.offset);
        tail.drain();
        this.draining.add(tail);
        this.ctx.telemetry.fileOpened(this.ctx.jail.name, path, 'saved', saved.offset);
        void tail.pump();
      }
    }
  }

  /**
   * The path leads again to a file being read to its end (moved away and
   * back), or to a copy of one: it is the path's file again, read on from
   * where it is. True when one was taken back.
   */
  private async takeBack(path: string): Promise<boolean> {
    const info = await stat(path, { bigint: true }).catch(() => undefined);
    if (!info?.isFile()) return false;
    const same = [...this.draining].find((t) => t.identity === identityOf(info));
    if (same) {
      this.draining.delete(same);
      this.active.set(path, same);
      same.reactivate();
      this.ctx.telemetry.fileOpened(this.ctx.jail.name, path, 'saved', same.offset);
      return true;
    }
    for (const tail of this.draining) if (tail.path === path && (await this.handOver(tail, path))) return true;
    return false;
  }

  /**
   * Reading goes on in the file now at `path` when it is a copy of what
   * `tail` reads: same first line, at least as long as what was read, and
   * either the old file is deleted (cp + mv, sed -i) or the bytes before
   * the position are the same (an editor that keeps a backup). A rotation
   * whose new file happens to begin with a fixed header is none of these.
   */
  private async handOver(tail: FileTail, path: string): Promise<boolean> {
    if (tail.fp === undefined) return false;
    const handle = await open(path, 'r').catch(() => undefined);
    if (!handle) return false;
    try {
      const info = await handle.stat({ bigint: true });
      const copy =
        info.isFile() &&
        Number(info.size) >= tail.offset &&
        (await fingerprintOf(handle)) === tail.fp &&
        ((await tail.isDeleted()) || (await sameBytesBefore(tail.file, handle, tail.offset)));
      if (copy) {
        const previousKey = tail.stream.key;
        tail.adopt(handle, identityOf(info));
        this.draining.delete(tail);
        this.active.set(path, tail);
        await this.ctx.sink.moved(tail.stream, previousKey);
        this.ctx.telemetry.fileRotated(this.ctx.jail.name, path, 'copied');
        return true;
      }
    } catch (err) {
      this.ctx.telemetry.sourceFailed(this.ctx.jail.name, `file ${path}`, err);
    }
    await handle.close().catch(() => undefined);
    return false;
  }

  /**
   * What the file now at `path` continues: at start, a saved position of
   * this path whose file is gone from its directory (replaced while the
   * shipper was down); while running, a file of this path read to its end
   * and closed. It must begin with the same first line and be at least as
   * long as what was read.
   */
  private copiedFrom(path: string, fp: string | undefined, size: number, atStart: boolean): FileCheckpoint | undefined {
    if (fp === undefined) return undefined;
    const fits = (c: FileCheckpoint | undefined) => c !== undefined && c.path === path && c.fp === fp && c.offset <= size;
    if (atStart) {
      const found = [...this.unclaimed.entries()].find(([, c]) => fits(c) && !this.present.has(c.id));
      if (found) this.unclaimed.delete(found[0]);
      return found?.[1];
    }
    const closed = this.closed.get(path);
    if (!fits(closed)) return undefined;
    this.closed.delete(path);
    return closed;
  }

  private remember(tail: FileTail): void {
    this.closed.delete(tail.path);
    this.closed.set(tail.path, tail.stream.checkpoint(tail.offset) as FileCheckpoint);
    if (this.closed.size > MAX_REMEMBERED) this.closed.delete(this.closed.keys().next().value!);
  }

  /** The files in the directories of saved positions, by `<dev>-<ino>`. */
  private async presentFiles(): Promise<Set<string>> {
    const found = new Set<string>();
    for (const dir of new Set([...this.unclaimed.values()].map((c) => dirname(c.path)))) {
      for (const name of await readdir(dir).catch(() => [])) {
        const info = await stat(join(dir, name), { bigint: true }).catch(() => undefined);
        if (info?.isFile()) found.add(identityOf(info));
      }
    }
    return found;
  }

  private tailContext() {
    return {
      sink: this.ctx.sink,
      maxLineBytes: this.ctx.shipper.maxLineLength * 4,
      onRotated: (path: string, kind: RotationKind) => this.ctx.telemetry.fileRotated(this.ctx.jail.name, path, kind),
      onError: (path: string, err: unknown) => this.ctx.telemetry.sourceFailed(this.ctx.jail.name, `file ${path}`, err),
    };
  }

  private beginOf(path: string): 'tail' | 'head' {
    return this.patterns.find((p) => matchPath(p, path) === 'complete')?.begin ?? 'tail';
  }

  private async matchingPaths(): Promise<string[]> {
    const all = await Promise.all(this.patterns.map((p) => expand(p)));
    return [...new Set(all.flat())];
  }
}

function isCheckpoint(value: unknown): value is FileCheckpoint {
  const c = value as FileCheckpoint;
  return typeof c === 'object' && c !== null && typeof c.path === 'string' && typeof c.id === 'string' && typeof c.gen === 'string' && Number.isSafeInteger(c.offset) && c.offset >= 0 && (c.ids === undefined || typeof c.ids === 'string');
}

/** Reads `logpath` as fail2ban does: paths and globs, each optionally followed by `head` or `tail`; `-` is stdin. */
export function filePatterns(logpath: readonly string[]): FilePattern[] {
  const out: FilePattern[] = [];
  for (const item of logpath) {
    if (item === 'head' || item === 'tail') {
      const last = out[out.length - 1];
      if (last) last.begin = item;
    } else if (item !== '-') out.push({ pattern: item, begin: 'tail' });
  }
  return out;
}

export const filesSource = {
  name: 'files',
  select(jail: JailConfig): FilesSpec | undefined {
    if (jail.backend === 'systemd') return undefined;
    const patterns = filePatterns(jail.logpath);
    return patterns.length > 0 ? { patterns, polling: jail.backend === 'polling' } : undefined;
  },
  create: (spec, context) => new FilesSource(spec, context),
} satisfies SourceKind<FilesSpec>;
