import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { jailAllowlist } from '../../services/shipper/gate.ts';
import type { MatcherFactory } from '../../services/shipper/matching.ts';
import { JailPipeline, type PipelineEvents } from '../../services/shipper/pipeline.ts';
import { PositionStore } from '../../services/shipper/positions.ts';
import { Publisher, type PublishTarget } from '../../services/shipper/publisher.ts';
import type { SourceLine, Stream } from '../../services/shipper/sources/index.ts';
import { failureCodec, type FailureEvent } from '../../shared/schema/index.ts';
import { tempDir } from '../harness/index.ts';

const NOW = Date.parse('2025-01-01T12:00:00Z');

/** A filter that finds `from <ip>` and takes the time the source gives, else from `at <ms>` when the line has one. */
const fakeFilter: MatcherFactory = {
  maxlines: 1,
  matcher: () => ({
    push(line: string, now: number, time?: number) {
      const ip = /from (\S+)/.exec(line)?.[1];
      if (!ip) return [];
      const at = /at (\d+)/.exec(line)?.[1];
      return [{ ip, time: time ?? (at ? Number(at) : now), lines: [line] }];
    },
  }),
};

class ManualJetStream implements PublishTarget {
  readonly sent: Array<{ subject: string; event: FailureEvent; id: string; ack: () => void }> = [];
  publish(subject: string, data: Uint8Array, options: { msgID: string }) {
    return new Promise<{ duplicate: boolean }>((resolve) => {
      const decoded = failureCodec.decode(data);
      assert.ok(decoded.ok);
      this.sent.push({ subject, event: decoded.value, id: options.msgID, ack: () => resolve({ duplicate: false }) });
    });
  }
}

const noEvents: PipelineEvents & { dropped: string[] } = {
  dropped: [],
  read: () => undefined,
  acknowledged: () => undefined,
  failureDropped(_jail, reason, ip) {
    this.dropped.push(`${reason} ${ip ?? ''}`);
  },
  sourceFailed: () => undefined,
};

const stream: Stream<number> = {
  key: 'f:1-2',
  label: '/var/log/auth.log',
  durable: true,
  where: (line) => `f1-2.g.${line.at}`,
  checkpoint: (offset) => ({ offset }),
};

const dirs: Array<{ remove(): void }> = [];
after(() => dirs.forEach((d) => d.remove()));

async function setup() {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir.path, 'sshd.json');
  const { store } = await PositionStore.open(file, { positionsFailed: () => undefined, positionsWritten: () => undefined, positionsUnreadable: () => undefined });
  const js = new ManualJetStream();
  const publisher = new Publisher(js, { connected: true, whenConnected: async () => undefined }, { publishFailed: () => undefined, publishRecovered: () => undefined, readingPaused: () => undefined, readingResumed: () => undefined, inFlightChanged: () => undefined }, { maxInFlight: 10, timeout: 1000 });
  const pipeline = new JailPipeline({
    gate: { jail: 'sshd', findtime: 600_000, host: 'web-1', allowlist: jailAllowlist({ ignoreip: ['192.0.2.99'], ignoreself: false }, []) },
    subject: 'fleetban.fail.sshd',
    filter: fakeFilter,
    publisher,
    store,
    events: noEvents,
    now: () => NOW,
  });
  const saved = async () => {
    await store.flush();
    return (JSON.parse(readFileSync(file, 'utf8')) as { streams: Record<string, { offset: number }> }).streams['f:1-2']?.offset;
  };
  return { js, pipeline, saved };
}

const at = (text: string, offset: number): SourceLine<number> => ({ text, at: offset });

describe('a jail pipeline', () => {
  test('each failure is published on the jail subject with the id of where its line was read', async () => {
    const { js, pipeline } = await setup();
    await pipeline.open(stream, 0);
    await pipeline.lines(stream, [at('ok line', 0), at('Failed from 192.0.2.10', 8), at('Failed from 2001:db8::10', 31)], 56);
    assert.deepEqual(js.sent.map((s) => [s.subject, s.id, s.event.ip, s.event.source]), [
      ['fleetban.fail.sshd', 'sshd@web-1:f1-2.g.8', '192.0.2.10', '/var/log/auth.log'],
      ['fleetban.fail.sshd', 'sshd@web-1:f1-2.g.31', '2001:db8::10', '/var/log/auth.log'],
    ]);
    assert.equal(js.sent[0]!.event.id, js.sent[0]!.id);
  });

  test('the saved position moves only over lines whose publishes are all acknowledged, in order', async () => {
    const { js, pipeline, saved } = await setup();
    await pipeline.open(stream, 0);
    assert.equal(await saved(), 0);
    await pipeline.lines(stream, [at('a from 192.0.2.10', 0), at('b from 192.0.2.11', 20), at('nothing', 40)], 48);
    assert.equal(await saved(), 0);
    js.sent[1]!.ack();
    await new Promise((r) => setImmediate(r));
    assert.equal(await saved(), 0);
    js.sent[0]!.ack();
    await new Promise((r) => setImmediate(r));
    assert.equal(await saved(), 48);
  });

  test('allowlisted and too old failures are not published and do not hold the position', async () => {
    const { js, pipeline, saved } = await setup();
    await pipeline.open(stream, 0);
    await pipeline.lines(stream, [at('x from 192.0.2.99', 0), at(`y from 192.0.2.10 at ${NOW - 600_001}`, 20), at('z from 127.0.0.1', 60)], 80);
    assert.equal(js.sent.length, 0);
    assert.deepEqual(noEvents.dropped.slice(-3), ['allowlisted 192.0.2.99', 'too_old 192.0.2.10', 'allowlisted 127.0.0.1']);
    assert.equal(await saved(), 80);
  });

  test('the time a source knows (a journal entry) is handed to the filter with the line', async () => {
    const { js, pipeline } = await setup();
    await pipeline.open(stream, 0);
    await pipeline.lines(stream, [{ text: 'from 192.0.2.10', at: 0, time: NOW - 5000 }], 16);
    assert.equal(js.sent[0]!.event.time, NOW - 5000);
  });

  test('a closed stream keeps its saved position until its last publish is acknowledged', async () => {
    const { js, pipeline, saved } = await setup();
    await pipeline.open(stream, 0);
    await pipeline.lines(stream, [at('a from 192.0.2.10', 0)], 20);
    pipeline.close(stream);
    assert.equal(await saved(), 0);
    js.sent[0]!.ack();
    await new Promise((r) => setImmediate(r));
    assert.equal(await saved(), undefined);
  });
});
