import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_TIMER_MS, timerDelay } from '../../shared/time/index.ts';

describe('timer delays', () => {
  test('a delay longer than Node timers hold is capped instead of firing at once; negative and NaN are 0', () => {
    assert.equal(timerDelay(1000), 1000);
    assert.equal(timerDelay(Number.MAX_SAFE_INTEGER), MAX_TIMER_MS);
    assert.equal(timerDelay(Infinity), MAX_TIMER_MS);
    assert.equal(timerDelay(5 * 7 * 86_400_000), MAX_TIMER_MS);
    assert.equal(timerDelay(-5), 0);
    assert.equal(timerDelay(Number.NaN), 0);
  });

  test('a capped delay really waits (Node fires an overflowing timer after 1 ms)', async () => {
    let fired = false;
    const timer = setTimeout(() => (fired = true), timerDelay(Number.MAX_SAFE_INTEGER));
    await new Promise((r) => setTimeout(r, 30));
    clearTimeout(timer);
    assert.equal(fired, false);
  });
});
