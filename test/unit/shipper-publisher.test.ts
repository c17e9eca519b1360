import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Publisher, PublisherStoppedError, type ConnectionState, type PublisherEvents } from '../../services/shipper/publisher.ts';

/** A JetStream stand-in whose acknowledgements the test releases by hand. */
class FakeJetStream {
  readonly attempts: string[] = [];
  private readonly open: Array<{ id: string; resolve: (v: { duplicate: boolean }) => void; reject: (e: Error) => void }> = [];
  async publish(_subject: string, _data: Uint8Array, options: { msgID: string }) {
    this.attempts.push(options.msgID);
    return new Promise<{ duplicate: boolean }>((resolve, reject) => this.open.push({ id: options.msgID, resolve, reject }));
  }
  get waiting(): string[] {
    return this.open.map((o) => o.id);
  }
  ack(id: string, duplicate = false): void {
    const i = this.open.findIndex((o) => o.id === id);
    this.open.splice(i, 1)[0]!.resolve({ duplicate });
  }
  fail(id: string): void {
    const i = this.open.findIndex((o) => o.id === id);
    this.open.splice(i, 1)[0]!.reject(new Error('TimeoutError'));
  }
}

class FakeConnection implements ConnectionState {
  connected = true;
  private wake: Array<() => void> = [];
  whenConnected(signal: AbortSignal): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake.push(resolve);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  up(): void {
    this.connected = true;
    for (const w of this.wake.splice(0)) w();
  }
}

function recorder(): PublisherEvents & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    publishFailed: (_e, attempt, connected) => log.push(`failed ${attempt} ${connected ? 'up' : 'down'}`),
    publishRecovered: () => log.push('recovered'),
    readingPaused: (n) => log.push(`paused ${n}`),
    readingResumed: () => log.push('resumed'),
    inFlightChanged: () => undefined,
  };
}

const tick = () => new Promise((r) => setTimeout(r, 5));
const data = new Uint8Array([1]);

describe('publishing with a bounded number in flight', () => {
  test('a publish beyond maxInFlight waits for an acknowledgement, and acknowledgements may come in any order', async () => {
    const js = new FakeJetStream();
    const p = new Publisher(js, new FakeConnection(), recorder(), { maxInFlight: 2, timeout: 1000 });
    const a = await p.publish('s', data, 'a');
    const b = await p.publish('s', data, 'b');
    let cStarted = false;
    const c = p.publish('s', data, 'c').then((r) => ((cStarted = true), r));
    await tick();
    assert.equal(cStarted, false);
    assert.deepEqual(js.waiting, ['a', 'b']);
    js.ack('b', true);
    assert.equal(await b.acked, true);
    const cc = await c;
    assert.deepEqual(js.waiting, ['a', 'c']);
    js.ack('c');
    js.ack('a');
    assert.equal(await a.acked, false);
    assert.equal(await cc.acked, false);
    assert.equal(p.pending, 0);
  });

  test('a failed publish is sent again with the same message id until acknowledged', async () => {
    const js = new FakeJetStream();
    const events = recorder();
    const p = new Publisher(js, new FakeConnection(), events, { maxInFlight: 4, timeout: 1000, backoff: { base: 1, max: 1 } });
    const { acked } = await p.publish('s', data, 'x');
    js.fail('x');
    await tick();
    js.fail('x');
    await tick();
    js.ack('x');
    assert.equal(await acked, false);
    assert.deepEqual(js.attempts, ['x', 'x', 'x']);
    assert.deepEqual(events.log, ['failed 0 up', 'failed 1 up', 'recovered']);
  });

  test('a retry that JetStream calls a duplicate (its first copy was stored) counts as published; a first send it calls a duplicate does not', async () => {
    const js = new FakeJetStream();
    const p = new Publisher(js, new FakeConnection(), recorder(), { maxInFlight: 4, timeout: 1000, backoff: { base: 1, max: 1 } });
    const retried = await p.publish('s', data, 'x');
    js.fail('x');
    await tick();
    js.ack('x', true);
    assert.equal(await retried.acked, false, 'published');
    const readAgain = await p.publish('s', data, 'y');
    js.ack('y', true);
    assert.equal(await readAgain.acked, true, 'a duplicate');
  });

  test('while disconnected nothing is sent again; the retry waits for the connection', async () => {
    const js = new FakeJetStream();
    const conn = new FakeConnection();
    const events = recorder();
    const p = new Publisher(js, conn, events, { maxInFlight: 4, timeout: 1000, backoff: { base: 1, max: 1 } });
    const { acked } = await p.publish('s', data, 'x');
    conn.connected = false;
    js.fail('x');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(js.attempts, ['x']);
    conn.up();
    await tick();
    assert.deepEqual(js.attempts, ['x', 'x']);
    js.ack('x');
    assert.equal(await acked, false);
    assert.deepEqual(events.log, ['failed 0 down', 'recovered']);
  });

  test('a long wait for a slot is reported as a pause, and its end as resumed', async () => {
    const js = new FakeJetStream();
    const events = recorder();
    const p = new Publisher(js, new FakeConnection(), events, { maxInFlight: 1, timeout: 1000, pauseReportAfter: 10 });
    await p.publish('s', data, 'a');
    const waiting = p.publish('s', data, 'b');
    await new Promise((r) => setTimeout(r, 40));
    assert.deepEqual(events.log, ['paused 1']);
    js.ack('a');
    await waiting;
    assert.deepEqual(events.log, ['paused 1', 'resumed']);
  });

  test('drain waits for every acknowledgement; stop ends the waits, and an acknowledgement already on its way still counts', async () => {
    const js = new FakeJetStream();
    const p = new Publisher(js, new FakeConnection(), recorder(), { maxInFlight: 1, timeout: 1000 });
    const a = await p.publish('s', data, 'a');
    assert.equal(await p.drain(20), false);
    const waiter = p.publish('s', data, 'b');
    p.stop();
    await assert.rejects(waiter, PublisherStoppedError);
    js.ack('a');
    assert.equal(await a.acked, false);
    await assert.rejects(p.publish('s', data, 'c'), PublisherStoppedError);
    assert.deepEqual(js.attempts, ['a']);
  });
  test('a drain with no time limit (Infinity, or a length beyond what Node timers hold) waits for the acknowledgement', async () => {
    for (const limit of [Infinity, Number.MAX_SAFE_INTEGER]) {
      const js = new FakeJetStream();
      const p = new Publisher(js, new FakeConnection(), recorder(), { maxInFlight: 2, timeout: 1000 });
      await p.publish('s', data, 'a');
      let settled: boolean | undefined;
      void p.drain(limit).then((idle) => (settled = idle));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(settled, undefined, `drain(${limit}) gave up before the acknowledgement`);
      js.ack('a');
      await tick();
      assert.equal(settled, true);
      p.stop();
    }
  });

  test('a drain gives up when its signal is aborted or the publisher stops, and leaves nothing waiting', async () => {
    const js = new FakeJetStream();
    const p = new Publisher(js, new FakeConnection(), recorder(), { maxInFlight: 2, timeout: 1000 });
    await p.publish('s', data, 'a');
    const stop = new AbortController();
    const waiting = p.drain(Infinity, stop.signal);
    stop.abort();
    assert.equal(await waiting, false);
    const second = p.drain(Infinity);
    p.stop();
    assert.equal(await second, false);
  });
});
