import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildFilter } from '../../shared/filter/filter.ts';
import { BACKTRACK_LIMIT, regexGuardActive } from '../../shared/filter/regex/guard.ts';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

/**
 * A log line is attacker-controlled. These filters have regexes that
 * backtrack exponentially on a crafted line (0.5 s at 30 characters, doubling
 * every two more: hours at 60, unguarded); the engine must give up on the
 * line and go on.
 */
const CATASTROPHIC = [
  // Nested quantifiers.
  '^\\s*user (?:\\w+\\s?)+ from <HOST>$',
  // The same with a lookahead, which V8's linear-time engine cannot run.
  '^\\s*user (?:(?=\\w)\\w+\\s?)+ from <HOST>$',
];

describe('catastrophic backtracking', () => {
  test('regexes in this runtime carry a backtrack limit', () => {
    assert.equal(regexGuardActive(), true);
    assert.ok(BACKTRACK_LIMIT >= 10_000);
  });

  for (const regex of CATASTROPHIC) {
    test(`a line crafted against ${regex} is given up on, and the next line still matches`, () => {
      const m = buildFilter({ name: 't', failregex: [regex], ignoreregex: [], journalmatch: [], files: [] }, { timezone: 'UTC' }).matcher();
      const evil = `2025-05-30 10:00:01 user ${'a'.repeat(60)}!`;
      const started = Date.now();
      // Several times, so that a stall could not hide behind one lucky run.
      for (let i = 0; i < 5; i++) assert.deepEqual(m.push(evil, NOW), []);
      // Unguarded, one push takes hours; the bound is generous for a loaded machine.
      assert.ok(Date.now() - started < 20_000, `five crafted lines took ${Date.now() - started} ms`);
      assert.equal(m.push('2025-05-30 10:00:02 user alice from 192.0.2.8', NOW)[0]?.ip, '192.0.2.8');
    });
  }

  test('a very long line is cut before matching, so its cost is bounded too', () => {
    const m = buildFilter({ name: 't', failregex: ['^\\s*user \\S+ from <HOST>$'], ignoreregex: [], journalmatch: [], files: [] }, { timezone: 'UTC', maxLineLength: 100 }).matcher();
    assert.deepEqual(m.push(`2025-05-30 10:00:01 user ${'x'.repeat(1_000_000)} from 192.0.2.1`, NOW), []);
  });
});
