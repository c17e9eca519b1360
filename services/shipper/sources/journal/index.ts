import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { JailConfig } from '../../../../shared/config/index.ts';
import { errorMessage } from '../../../../shared/errors.ts';
import { journalWhere } from '../../ids.ts';
import { LineSplitter } from '../lines.ts';
import type { Source, SourceContext, SourceKind, SourceLine, Stream } from '../types.ts';
import { followArgs, lastEntryArgs, MAX_ENTRY_BYTES, parseJournalLine, type JournalctlOptions } from './parse.ts';

export { matchArgs } from './parse.ts';
export { readJournal, JournalReadError } from './read.ts';
export type { JournalEntry, JournalReadOptions } from './parse.ts';

/** The journal source takes everything from the jail's filter (journalmatch, the line format). */
export type JournalSpec = Record<string, never>;

/** A saved journal position: the cursor of the last entry that is safe, or null for "from the oldest entry". */
interface JournalCheckpoint {
  cursor: string | null;
}

const RESTART_BACKOFF = { base: 500, max: 30_000 };

/**
 * Follows journald through `journalctl --follow --output=json`, from the
 * saved cursor (`--after-cursor`). journalctl is one child process; while
 * publishing waits, its output is not read, so it blocks on the pipe and the
 * journal holds the entries. A journalctl that exits is started again from
 * the last entry read, with a growing pause.
 */
class JournalSource implements Source {
  readonly name = 'journal';
  readonly finite = false;
  private readonly options: JournalctlOptions;
  private readonly stream: Stream<string | null>;
  private child: ChildProcess | undefined;
  private lastRead: string | null = null;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly wake = new AbortController();

  constructor(private readonly ctx: SourceContext) {
    this.options = { match: ctx.filter.journalmatch, ...(ctx.shipper.journal.directory && { directory: ctx.shipper.journal.directory }) };
    this.stream = {
      key: 'journal',
      label: 'journal',
      durable: true,
      where: (line: SourceLine<string | null>) => journalWhere(line.cursor ?? ''),
      checkpoint: (resume): JournalCheckpoint => ({ cursor: resume }),
    };
  }

  async start(): Promise<void> {
    const saved = this.ctx.saved.get('journal') as JournalCheckpoint | undefined;
    let start: string | null;
    if (saved && (typeof saved.cursor === 'string' || saved.cursor === null)) start = saved.cursor;
    // Positions lost: from the oldest entry; the gate drops what is older than findtime.
    else start = this.ctx.positionsLost ? null : await this.newestCursor();
    this.lastRead = start;
    await this.ctx.sink.open(this.stream, start);
    this.loop = this.follow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    const child = this.child;
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    await this.loop;
  }

  ended(): Promise<void> {
    return new Promise(() => undefined);
  }

  streams(): Array<{ stream: Stream; behind: number }> {
    return [{ stream: this.stream, behind: 0 }];
  }

  /** The newest matching entry's cursor: a jail seen for the first time starts after it. */
  private newestCursor(): Promise<string | null> {
    return new Promise((resolve, reject) => {
      execFile(this.ctx.shipper.journal.command, lastEntryArgs(this.options), { maxBuffer: 4 * MAX_ENTRY_BYTES }, (err, stdout, stderr) => {
        if (err) return reject(new Error(`journalctl failed: ${String(stderr).trim() || errorMessage(err)}`, { cause: err }));
        const line = String(stdout).split('\n').find((l) => l.trim() !== '');
        if (line === undefined) return resolve(null);
        const parsed = parseJournalLine(line);
        resolve(parsed.ok ? parsed.cursor : null);
      });
    });
  }

  private async follow(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const started = Date.now();
      const reason = await this.runOnce().catch((err: unknown) => `failed: ${errorMessage(err)}`);
      if (this.stopped) return;
      if (Date.now() - started > 60_000) attempt = 0;
      this.ctx.telemetry.sourceRestarted(this.ctx.jail.name, 'journal', reason);
      await pause(Math.min(RESTART_BACKOFF.base * 2 ** Math.min(attempt, 10), RESTART_BACKOFF.max), this.wake.signal);
    }
  }

  /** One journalctl run; resolves with why it ended. */
  private async runOnce(): Promise<string> {
    const child = spawn(this.ctx.shipper.journal.command, followArgs(this.options, this.lastRead), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-2000);
    });
    const exited = new Promise<string>((resolve) => {
      child.once('error', (err) => resolve(`could not start ${this.ctx.shipper.journal.command}: ${err.message}`));
      child.once('exit', (code, signal) => resolve(`journalctl exited (${signal ?? code})${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
    const splitter = new LineSplitter(MAX_ENTRY_BYTES);
    // Async iteration pulls one chunk at a time: a slow sink leaves the pipe full and journalctl waiting.
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      if (this.stopped) break;
      const lines: SourceLine<string | null>[] = [];
      for (const raw of splitter.push(chunk)) {
        const parsed = parseJournalLine(raw.text);
        if (!parsed.ok) {
          this.ctx.telemetry.entrySkipped(this.ctx.jail.name, 'journal', raw.end - raw.start > MAX_ENTRY_BYTES ? 'entry too large' : parsed.reason);
          continue;
        }
        lines.push({ text: this.ctx.filter.journalLine(parsed.entry), at: this.lastRead, cursor: parsed.cursor, ...(parsed.time !== undefined && { time: parsed.time }) });
        this.lastRead = parsed.cursor;
      }
      if (lines.length > 0) await this.ctx.sink.lines(this.stream, lines, this.lastRead);
    }
    return exited;
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** A jail reads the journal with `backend: systemd`; its filter supplies the match and the line format. */
export const journalSource = {
  name: 'journal',
  select: (jail: JailConfig): JournalSpec | undefined => (jail.backend === 'systemd' ? {} : undefined),
  create: (_spec, context) => new JournalSource(context),
} satisfies SourceKind<JournalSpec>;
