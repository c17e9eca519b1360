import type { Readable } from 'node:stream';
import type { JailConfig } from '../../../../shared/config/index.ts';
import { stdinWhere } from '../../ids.ts';
import { LineSplitter } from '../lines.ts';
import type { Source, SourceContext, SourceKind, SourceLine, Stream } from '../types.ts';

export interface StdinSpec {
  input: Readable;
}

/**
 * Lines from standard input (`logpath: "-"`), for piping and tests. Nothing
 * is saved: a pipe cannot be read again. Message ids carry the run's start
 * time, so two runs never share an id. Reading follows the pipeline's pace:
 * the next chunk is pulled only when the last one is handed on.
 */
class StdinSource implements Source {
  readonly name = 'stdin';
  readonly finite = true;
  private readonly run = Date.now().toString(36);
  private readonly stream: Stream<number>;
  private readonly splitter: LineSplitter;
  private done: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly spec: StdinSpec,
    private readonly ctx: SourceContext,
  ) {
    const run = this.run;
    this.stream = {
      key: 'stdin',
      label: 'stdin',
      durable: false,
      where: (line: SourceLine<number>) => stdinWhere(run, line.at),
      checkpoint: () => null,
    };
    this.splitter = new LineSplitter(ctx.shipper.maxLineLength * 4);
  }

  async start(): Promise<void> {
    await this.ctx.sink.open(this.stream, 0);
    this.done = this.read().catch((err: unknown) => {
      if (!this.stopped) this.ctx.telemetry.sourceFailed(this.ctx.jail.name, 'stdin', err);
    });
  }

  private async read(): Promise<void> {
    for await (const chunk of this.spec.input as AsyncIterable<Buffer | string>) {
      if (this.stopped) break;
      await this.hand(this.splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    }
    const last = this.stopped ? undefined : this.splitter.flush();
    if (last) await this.hand([last]);
    this.ctx.sink.close(this.stream);
  }

  private async hand(lines: Array<{ text: string; start: number }>): Promise<void> {
    if (lines.length === 0) return;
    await this.ctx.sink.lines(this.stream, lines.map((l) => ({ text: l.text, at: l.start })), this.splitter.resumeAt);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.spec.input.pause();
  }

  ended(): Promise<void> {
    return this.done;
  }

  streams(): Array<{ stream: Stream; behind: number }> {
    return [{ stream: this.stream, behind: 0 }];
  }
}

export const stdinSource = {
  name: 'stdin',
  select: (jail: JailConfig): StdinSpec | undefined => (jail.backend !== 'systemd' && jail.logpath.includes('-') ? { input: process.stdin } : undefined),
  create: (spec, context) => new StdinSource(spec, context),
} satisfies SourceKind<StdinSpec>;
