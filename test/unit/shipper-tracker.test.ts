import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AckTracker } from '../../services/shipper/tracker.ts';

describe('the safe read position', () => {
  test('with nothing in flight it is the end of what was read', () => {
    const t = new AckTracker<number>(0);
    t.read(0);
    t.read(10);
    t.readTo(20);
    assert.equal(t.safe(), 20);
  });

  test('a line with a publish in flight holds the position at its start until acknowledged', () => {
    const t = new AckTracker<number>(0);
    t.read(0);
    const s = t.read(10);
    t.hold(s, 10);
    t.read(20);
    t.readTo(30);
    assert.equal(t.safe(), 10);
    t.release(s);
    assert.equal(t.safe(), 30);
  });

  test('acknowledgements out of order advance only the contiguous acknowledged prefix', () => {
    const t = new AckTracker<number>(0);
    const seqs = [0, 10, 20, 30].map((at) => {
      const s = t.read(at);
      t.hold(s, at);
      return s;
    });
    t.readTo(40);
    t.release(seqs[2]!);
    t.release(seqs[1]!);
    assert.equal(t.safe(), 0);
    t.release(seqs[0]!);
    assert.equal(t.safe(), 30);
    t.release(seqs[3]!);
    assert.equal(t.safe(), 40);
    assert.equal(t.waiting, false);
  });

  test('a line with two failures is safe only when both are acknowledged, even when one was acknowledged before the other was sent', () => {
    const t = new AckTracker<number>(0);
    const first = t.read(0);
    t.hold(first, 0);
    t.release(first);
    const s = t.read(5);
    t.hold(s, 5);
    t.release(s);
    t.hold(s, 5);
    t.readTo(9);
    assert.equal(t.safe(), 5);
    assert.equal(t.pending, 1);
    t.release(s);
    assert.equal(t.safe(), 9);
  });

  test('with multi-line filters the last maxlines-1 lines stay unsafe, so the filter sees them again after a crash', () => {
    const t = new AckTracker<number>(0, 3);
    for (const at of [0, 10, 20, 30]) t.read(at);
    t.readTo(40);
    assert.equal(t.safe(), 20);
  });

  test('many acknowledgements keep memory compact', () => {
    const t = new AckTracker<number>(0);
    for (let i = 0; i < 100_000; i++) {
      const s = t.read(i);
      t.hold(s, i);
      t.release(s);
    }
    t.readTo(100_000);
    assert.equal(t.safe(), 100_000);
    assert.equal(t.waiting, false);
  });
});
