import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExpiringCache } from '../../shared/filter/cache.ts';

describe('the connection cache (fail2ban\'s Utils.Cache)', () => {
  test('entries expire after their time, on the caller\'s clock', () => {
    const c = new ExpiringCache<string>(10, 1000);
    c.set('a', 'x', 0);
    assert.equal(c.get('a', 999), 'x');
    assert.equal(c.get('a', 1000), undefined);
  });

  test('when full, expired entries go first, then the oldest valid one', () => {
    const c = new ExpiringCache<number>(3, 1000);
    c.set('old', 1, 0);
    c.set('b', 2, 500);
    c.set('c', 3, 600);
    c.set('d', 4, 1200); // 'old' has expired: it goes, and so does 'b', the oldest valid one
    assert.deepEqual(['old', 'b', 'c', 'd'].map((k) => c.get(k, 1200)), [undefined, undefined, 3, 4]);
  });

  test('setting a key again keeps its place in line and renews it', () => {
    const c = new ExpiringCache<number>(2, 1000);
    c.set('a', 1, 0);
    c.set('b', 2, 0);
    c.set('a', 10, 100); // full: 'a', the oldest, is dropped first, then set anew at the end
    c.set('c', 3, 200); // full again: 'b' is now the oldest
    assert.deepEqual(['a', 'b', 'c'].map((k) => c.get(k, 300)), [10, undefined, 3]);
  });

  test('a removed key leaves no trace in the order', () => {
    const c = new ExpiringCache<number>(2, 1000);
    c.set('a', 1, 0);
    c.unset('a');
    c.set('a', 2, 10);
    c.set('b', 3, 20);
    c.set('c', 4, 30);
    assert.deepEqual(['a', 'b', 'c'].map((k) => c.get(k, 40)), [undefined, 3, 4]);
  });
});
