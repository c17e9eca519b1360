import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { filesSource } from '../../services/shipper/sources/files/index.ts';
import type { LineSink, Source, SourceLine, Stream } from '../../services/shipper/sources/index.ts';
import { ShipperTelemetry } from '../../services/shipper/telemetry.ts';
import { PartMetrics } from '../../shared/telemetry/index.ts';
import { quietLogger, tempDir, testConfig } from '../harness/index.ts';

/** Records every line with the id part it would get, as the pipeline would see them. */
class RecordingSink implements LineSink {
  readonly seen: Array<{ text: string; where: string; label: string }> = [];
  readonly opened: Array<{ label: string; start: unknown }> = [];
  readonly closed: string[] = [];
  readonly moves: string[] = [];
  readonly ends = new Map<Stream, unknown>();
  async open(stream: Stream, start: unknown) {
    this.opened.push({ label: stream.label, start });
  }
  async lines(stream: Stream, lines: readonly SourceLine[], end: unknown) {
    for (const line of lines) this.seen.push({ text: line.text, where: stream.where(line), label: stream.label });
    this.ends.set(stream, end);
  }
  async moved(_stream: Stream, previousKey: string) {
    this.moves.push(previousKey);
  }
  close(stream: Stream) {
    this.closed.push(stream.label);
  }
  texts(): string[] {
    return this.seen.map((s) => s.text);
  }
}

const dirs: Array<{ remove(): void }> = [];
after(() => dirs.forEach((d) => d.remove()));

function setup(logpath: string[], options: { saved?: Map<string, unknown>; backend?: string } = {}) {
  const config = testConfig({
    jails: { t: { logpath, ...(options.backend && { backend: options.backend }) } },
    shipper: { checkInterval: '0.2s', rotateWait: '0.5s' },
  });
  const jail = config.jails.t!;
  const sink = new RecordingSink();
  const telemetry = new ShipperTelemetry(quietLogger(), new PartMetrics('shipper', { processMetrics: false }));
  const spec = filesSource.select(jail)!;
  const source: Source = filesSource.create(spec, {
    jail,
    filter: { journalmatch: [], journalLine: () => '' },
    shipper: config.shipper,
    host: 'test-host',
    saved: options.saved ?? new Map(),
    sink,
    log: quietLogger(),
    telemetry,
  });
  return { sink, source };
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function lines(prefix: string, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += `${prefix} ${i}\n`;
  return out;
}
function expected(prefix: string, from: number, to: number): string[] {
  return lines(prefix, from, to).trimEnd().split('\n');
}

function newDir(): string {
  const dir = tempDir('fleetban-files');
  dirs.push(dir);
  return dir.path;
}

describe('tailing files', () => {
  test('a file present at start begins at its end; one that appears later matching the glob begins at its start', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'a.log'), lines('old', 0, 5));
    const { sink, source } = setup([join(dir, '*.log')]);
    await source.start();
    try {
      appendFileSync(join(dir, 'a.log'), lines('a', 0, 3));
      writeFileSync(join(dir, 'b.log'), lines('b', 0, 2));
      writeFileSync(join(dir, 'b.txt'), lines('not matched', 0, 2));
      await until('a and b lines', () => sink.seen.length >= 5);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(sink.texts().sort(), [...expected('a', 0, 3), ...expected('b', 0, 2)].sort());
    } finally {
      await source.stop();
    }
  });

  test('rename rotation: the old file is read to its end, also what is written to it after the rename, then the new file from its start', async () => {
    const dir = newDir();
    const path = join(dir, 'auth.log');
    writeFileSync(path, '');
    const { sink, source } = setup([path]);
    await source.start();
    try {
      appendFileSync(path, lines('before', 0, 50));
      renameSync(path, `${path}.1`);
      appendFileSync(`${path}.1`, lines('late', 0, 5));
      writeFileSync(path, lines('after', 0, 50));
      await until('every line', () => sink.seen.length >= 105);
      await until('the old file closed', () => sink.closed.length === 1);
      const texts = sink.texts();
      assert.deepEqual(texts.filter((t) => !t.startsWith('after')), [...expected('before', 0, 50), ...expected('late', 0, 5)]);
      assert.deepEqual(texts.filter((t) => t.startsWith('after')), expected('after', 0, 50));
      assert.equal(new Set(sink.seen.map((s) => s.where)).size, 105);
    } finally {
      await source.stop();
    }
  });

  test('copytruncate: lines before the copy are read once, lines after the truncation are read from offset 0 under new ids', async () => {
    const dir = newDir();
    const path = join(dir, 'app.log');
    writeFileSync(path, '');
    const { sink, source } = setup([path]);
    await source.start();
    try {
      appendFileSync(path, lines('first', 0, 20));
      await until('first lines', () => sink.seen.length === 20);
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      appendFileSync(path, lines('second', 0, 5));
      await until('second lines', () => sink.seen.length >= 25);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(sink.texts(), [...expected('first', 0, 20), ...expected('second', 0, 5)]);
      const firstWhere = sink.seen[0]!.where;
      const secondWhere = sink.seen[20]!.where;
      assert.match(firstWhere, /\.0$/);
      assert.match(secondWhere, /\.0$/);
      assert.notEqual(firstWhere, secondWhere, 'the same offset in a new generation has a new id');
    } finally {
      await source.stop();
    }
  });

  test('a file truncated and grown past the old position before the shipper looks is noticed by its first line', async () => {
    const dir = newDir();
    const path = join(dir, 'app.log');
    writeFileSync(path, '');
    const { sink, source } = setup([path], { backend: 'polling' });
    await source.start();
    try {
      appendFileSync(path, lines('first', 0, 3));
      await until('first lines', () => sink.seen.length === 3);
      // Replace the content in one write: shrink and regrow without the shipper seeing the short file.
      writeFileSync(path, lines('second-generation-longer-line', 0, 10));
      await until('second lines', () => sink.seen.length >= 13);
      assert.deepEqual(sink.texts().slice(3), expected('second-generation-longer-line', 0, 10));
    } finally {
      await source.stop();
    }
  });

  test('delete and recreate: the deleted file is finished, the new one read from its start', async () => {
    const dir = newDir();
    const path = join(dir, 'x.log');
    writeFileSync(path, '');
    const { sink, source } = setup([path]);
    await source.start();
    try {
      appendFileSync(path, lines('one', 0, 10));
      await until('first lines', () => sink.seen.length === 10);
      rmSync(path);
      await new Promise((r) => setTimeout(r, 300));
      writeFileSync(path, lines('two', 0, 10));
      await until('second lines', () => sink.seen.length >= 20);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(sink.texts(), [...expected('one', 0, 10), ...expected('two', 0, 10)]);
    } finally {
      await source.stop();
    }
  });

  test('a line written in two parts is read once, whole, when its newline arrives', async () => {
    const dir = newDir();
    const path = join(dir, 'x.log');
    writeFileSync(path, '');
    const { sink, source } = setup([path]);
    await source.start();
    try {
      appendFileSync(path, 'Failed password for root ');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(sink.seen.length, 0);
      appendFileSync(path, 'from 192.0.2.10\n');
      await until('the line', () => sink.seen.length === 1);
      assert.deepEqual(sink.texts(), ['Failed password for root from 192.0.2.10']);
      assert.equal(sink.ends.values().next().value, 41);
    } finally {
      await source.stop();
    }
  });

  test('a saved position of the same file resumes there; a file with another first line starts over', async () => {
    const dir = newDir();
    const path = join(dir, 'x.log');
    writeFileSync(path, lines('l', 0, 10));
    const first = setup([path], {});
    await first.source.start();
    const opened = first.sink.opened[0]!;
    await first.source.stop();
    assert.equal(opened.start, 40);
    // Take what the stream would save at offset 20 (after line 4) and start a new run with it.
    const streams = first.source.streams();
    assert.equal(streams.length, 1);
    const checkpoint = streams[0]!.stream.checkpoint(20);
    const second = setup([path], { saved: new Map([[streams[0]!.stream.key, checkpoint]]) });
    await second.source.start();
    try {
      await until('resumed lines', () => second.sink.seen.length === 5);
      assert.deepEqual(second.sink.texts(), expected('l', 5, 10));
    } finally {
      await second.source.stop();
    }
    writeFileSync(path, lines('other', 0, 10));
    const third = setup([path], { saved: new Map([[streams[0]!.stream.key, checkpoint]]) });
    await third.source.start();
    try {
      await until('all lines of the new content', () => third.sink.seen.length === 10);
      assert.deepEqual(third.sink.texts(), expected('other', 0, 10));
    } finally {
      await third.source.stop();
    }
  });

  test('a file rotated away while the shipper was down is found by its inode and finished', async () => {
    const dir = newDir();
    const path = join(dir, 'auth.log');
    writeFileSync(path, lines('l', 0, 10));
    const first = setup([path]);
    await first.source.start();
    const stream = first.source.streams()[0]!.stream;
    await first.source.stop();
    const checkpoint = stream.checkpoint(40);
    appendFileSync(path, lines('unread', 0, 3));
    renameSync(path, `${path}.1`);
    writeFileSync(path, lines('new', 0, 2));
    const second = setup([path], { saved: new Map([[stream.key, checkpoint]]) });
    await second.source.start();
    try {
      await until('both files', () => second.sink.seen.length >= 5);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(second.sink.texts().filter((t) => !t.startsWith('new')), expected('unread', 0, 3));
      assert.deepEqual(second.sink.texts().filter((t) => t.startsWith('new')), expected('new', 0, 2));
    } finally {
      await second.source.stop();
    }
  });

  test('a glob whose directory does not exist yet picks up files when the directory and files appear', async () => {
    const dir = newDir();
    const { sink, source } = setup([join(dir, 'sites', '*', 'access.log')]);
    await source.start();
    try {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(dir, 'sites', 'one'), { recursive: true });
      writeFileSync(join(dir, 'sites', 'one', 'access.log'), lines('one', 0, 3));
      mkdirSync(join(dir, 'sites', 'two'), { recursive: true });
      writeFileSync(join(dir, 'sites', 'two', 'access.log'), lines('two', 0, 2));
      writeFileSync(join(dir, 'sites', 'two', 'error.log'), lines('error', 0, 2));
      await until('both new files read from their start', () => sink.seen.length >= 5);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(sink.texts().sort(), [...expected('one', 0, 3), ...expected('two', 0, 2)].sort());
    } finally {
      await source.stop();
    }
  });
});
