import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PyRegex } from '../../shared/filter/regex/compile.ts';
import { failBuilder } from '../../shared/filter/faildata.ts';

/**
 * What fail2ban does, written the slow way: start from the prefregex's
 * groupdict without `content`, then dict.update with the failregex's
 * groupdict (a key both have keeps its first place and takes the new value),
 * then pop the held group. The generated builder must give the same keys in
 * the same order with the same values.
 */
function reference(pre: PyRegex | undefined, preText: string | undefined, own: PyRegex, text: string, hold?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (pre && preText !== undefined) {
    const m = pre.search(preText);
    assert.ok(m, `prefregex must match ${preText}`);
    for (const [k, v] of Object.entries(m.groupdict())) if (k !== 'content') out[k] = v;
  }
  const m = own.search(text);
  assert.ok(m, `failregex must match ${text}`);
  for (const [k, v] of Object.entries(m.groupdict())) out[k] = v;
  if (hold !== undefined) delete out[hold];
  return out;
}

function built(pre: PyRegex | undefined, preText: string | undefined, own: PyRegex, text: string, hold?: string): Record<string, unknown> {
  const preRaw = pre && preText !== undefined ? (pre.exec(preText) ?? undefined) : undefined;
  const raw = own.exec(text);
  assert.ok(raw);
  return failBuilder(pre, own, hold)(preRaw, raw);
}

function same(pre: PyRegex | undefined, preText: string | undefined, own: PyRegex, text: string, hold?: string): void {
  const want = reference(pre, preText, own, text, hold);
  const got = built(pre, preText, own, text, hold);
  assert.deepEqual(Object.keys(got), Object.keys(want), 'key order');
  assert.deepEqual(got, want);
}

describe('failure data built by the generated function', () => {
  const pre = new PyRegex('^(?P<mode>\\w+) (?P<user>\\w+) (?P<content>.+)$');

  test('prefregex groups come first, content is left out, a shared key keeps its place and takes the failregex value', () => {
    const own = new PyRegex('^from (?P<host>\\S+) as (?P<user>\\w+)(?: port (?P<port>\\d+))?$');
    const line = 'aggr alice from 192.0.2.1 as bob port 22';
    const content = 'from 192.0.2.1 as bob port 22';
    same(pre, line, own, content);
    const got = built(pre, line, own, content);
    assert.deepEqual(Object.keys(got), ['mode', 'user', 'host', 'port']);
    assert.equal(got.user, 'bob');
  });

  test('a group that did not take part is present and undefined, as in groupdict', () => {
    const own = new PyRegex('^from (?P<host>\\S+) as (?P<user>\\w+)(?: port (?P<port>\\d+))?$');
    same(pre, 'ddos alice from 192.0.2.1 as bob', own, 'from 192.0.2.1 as bob');
    const got = built(pre, 'ddos alice from 192.0.2.1 as bob', own, 'from 192.0.2.1 as bob');
    assert.ok('port' in got);
    assert.equal(got.port, undefined);
  });

  test('without a prefregex only the failregex groups, in pattern order', () => {
    const own = new PyRegex('^(?P<b>x)(?P<a>y)(?P<c>z)?');
    same(undefined, undefined, own, 'xy');
    assert.deepEqual(Object.keys(built(undefined, undefined, own, 'xy')), ['b', 'a', 'c']);
  });

  test('a held group is left out of the data', () => {
    const own = new PyRegex('^from (?P<host>\\S+) as (?P<user>\\w+)$');
    same(pre, 'aggr alice from 192.0.2.1 as bob', own, 'from 192.0.2.1 as bob', 'host');
    assert.ok(!('host' in built(pre, 'aggr alice from 192.0.2.1 as bob', own, 'from 192.0.2.1 as bob', 'host')));
  });

  test('a group repeated by a conditional reads whichever copy took part', () => {
    // (?(1)...) is expanded into alternatives that each carry a copy of the group before it.
    const own = new PyRegex('^(\\[)?(?P<ip>[\\d.]+)(?(1)\\])$');
    assert.equal(own.groupCopies(own.names.get('ip')!).length, 2, 'the pattern must give two copies');
    same(undefined, undefined, own, '[192.0.2.7]');
    same(undefined, undefined, own, '192.0.2.8');
    assert.equal(built(undefined, undefined, own, '[192.0.2.7]').ip, '192.0.2.7');
    assert.equal(built(undefined, undefined, own, '192.0.2.8').ip, '192.0.2.8');
  });
});
