import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FilterDefinition } from '../../shared/filter/config/definition.ts';
import { buildFilter } from '../../shared/filter/filter.ts';
import { journalLine } from '../../shared/filter/journal.ts';
import type { FilterOptions } from '../../shared/filter/types.ts';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

function filter(def: Partial<FilterDefinition>, options: FilterOptions = {}) {
  return buildFilter({ name: 'test', failregex: [], ignoreregex: [], journalmatch: [], files: [], ...def }, { timezone: 'UTC', ...options });
}

describe('the line matcher', () => {
  test('a failure reports the canonical address, the host as written, the line time, user, lines and F- fields', () => {
    const m = filter({ failregex: ['^\\s*auth failure for <F-USER>\\S+</F-USER> from <HOST> via <F-VIA>\\w+</F-VIA>$'] }).matcher();
    const [hit, ...rest] = m.push('2025-05-30 10:00:01 auth failure for bob from 2001:DB8:0::7 via web', NOW);
    assert.equal(rest.length, 0);
    assert.deepEqual(hit, {
      ip: '2001:db8::7',
      host: '2001:DB8:0::7',
      time: Date.UTC(2025, 4, 30, 10, 0, 1),
      user: 'bob',
      lines: ['2025-05-30 10:00:01 auth failure for bob from 2001:DB8:0::7 via web'],
      fields: { user: 'bob', via: 'web' },
    });
  });

  test('a host name is reported as the host, with no address: names are never resolved', () => {
    const m = filter({ failregex: ['^\\s*failure from <HOST>$'] }).matcher();
    const [hit] = m.push('2025-05-30 10:00:01 failure from attacker.example.invalid', NOW);
    assert.equal(hit?.host, 'attacker.example.invalid');
    assert.equal(hit?.ip, undefined);
  });

  test('with usedns no, <HOST> does not match host names at all', () => {
    const m = filter({ failregex: ['^\\s*failure from <HOST>$'] }, { usedns: 'no' }).matcher();
    assert.deepEqual(m.push('2025-05-30 10:00:01 failure from attacker.example.invalid', NOW), []);
    assert.equal(m.push('2025-05-30 10:00:01 failure from 192.0.2.4', NOW)[0]?.ip, '192.0.2.4');
  });

  test('an address in the user name is not taken for the host', () => {
    const m = filter({ failregex: ['^\\s*Invalid user <F-USER>.*?</F-USER> from <HOST>(?: port \\d+)?\\s*$'] }).matcher();
    const [hit] = m.push('May 30 10:00:01 Invalid user root from 198.51.100.66 from 192.0.2.9 port 22', NOW);
    assert.equal(hit?.ip, '192.0.2.9');
    assert.equal(hit?.user, 'root from 198.51.100.66');
  });

  test('ignoreregex drops a failure that failregex found', () => {
    const m = filter({ failregex: ['^\\s*failure from <HOST>$'], ignoreregex: ['^\\s*failure from 192\\.0\\.2\\.1$'] }).matcher();
    assert.deepEqual(m.push('2025-05-30 10:00:01 failure from 192.0.2.1', NOW), []);
    assert.equal(m.push('2025-05-30 10:00:01 failure from 192.0.2.2', NOW).length, 1);
  });

  test('lines are cut to maxLineLength before matching', () => {
    const m = filter({ failregex: ['^\\s*failure (?:x+ )?from <HOST>$'] }, { maxLineLength: 40 }).matcher();
    assert.deepEqual(m.push(`2025-05-30 10:00:01 failure ${'x'.repeat(30)} from 192.0.2.1`, NOW), []);
    assert.equal(m.push('2025-05-30 10:00:01 failure from 192.0.2.1', NOW).length, 1);
  });

  test('F-MLFID joins the lines of one connection: the address from one line, the failure from another', () => {
    const m = filter({
      prefregex: '^\\s*<F-MLFID>conn=\\d+</F-MLFID> <F-CONTENT>.+</F-CONTENT>$',
      failregex: ['^<F-NOFAIL>connect from</F-NOFAIL> <HOST>$', '^auth failed for <F-USER>\\S+</F-USER>$'],
    }).matcher();
    assert.deepEqual(m.push('2025-05-30 10:00:01 conn=1 connect from 192.0.2.5', NOW), [], 'connecting is no failure');
    assert.deepEqual(m.push('2025-05-30 10:00:02 conn=2 connect from 192.0.2.6', NOW), []);
    const [hit] = m.push('2025-05-30 10:00:03 conn=1 auth failed for bob', NOW);
    assert.equal(hit?.ip, '192.0.2.5');
    assert.equal(hit?.user, 'bob');
    assert.equal(hit?.time, Date.UTC(2025, 4, 30, 10, 0, 3));
  });

  test('with maxlines, a failregex spans lines, <SKIPLINES> passing over the ones in between', () => {
    const f = filter({ failregex: ['^\\s*login from <HOST>$<SKIPLINES>^\\s*login failed$'], maxlines: 3 });
    assert.equal(f.maxlines, 3);
    const m = f.matcher();
    assert.deepEqual(m.push('2025-05-30 10:00:01 login from 192.0.2.7', NOW), []);
    assert.deepEqual(m.push('2025-05-30 10:00:02 something else', NOW), []);
    const [hit] = m.push('2025-05-30 10:00:03 login failed', NOW);
    assert.equal(hit?.ip, '192.0.2.7');
    assert.deepEqual(hit?.lines, ['2025-05-30 10:00:01 login from 192.0.2.7', '2025-05-30 10:00:03 login failed']);
  });

  test('each matcher keeps its own buffer', () => {
    const f = filter({ failregex: ['^\\s*login from <HOST>$<SKIPLINES>^\\s*login failed$'], maxlines: 3 });
    const a = f.matcher();
    const b = f.matcher();
    a.push('2025-05-30 10:00:01 login from 192.0.2.7', NOW);
    assert.deepEqual(b.push('2025-05-30 10:00:03 login failed', NOW), []);
    assert.equal(a.push('2025-05-30 10:00:03 login failed', NOW).length, 1);
  });

  test('a line without a date gets the time it was read', () => {
    const m = filter({ failregex: ['^\\s*failure from <HOST>$'] }).matcher();
    assert.equal(m.push('failure from 192.0.2.1', NOW)[0]?.time, NOW);
  });

  test('a date without a year in a line read in January is last December', () => {
    const m = filter({ failregex: ['^\\s*failure from <HOST>$'] }).matcher();
    assert.equal(m.push('Dec 31 23:59:00 failure from 192.0.2.1', Date.UTC(2026, 0, 1, 0, 0, 30))[0]?.time, Date.UTC(2025, 11, 31, 23, 59, 0));
  });

  test('F-ID identifies a failure that is not an address; the address, when there is one, comes with it', () => {
    const m = filter({ failregex: ['^\\s*session <F-ID>\\w+</F-ID> failed(?: from <HOST>)?$'] }).matcher();
    const [named] = m.push('2025-05-30 10:00:01 session abc failed from 192.0.2.3', NOW);
    assert.deepEqual([named?.id, named?.ip, named?.host], ['abc', '192.0.2.3', '192.0.2.3']);
    const [bare] = m.push('2025-05-30 10:00:01 session abc failed', NOW);
    assert.deepEqual([bare?.id, bare?.ip, bare?.host], ['abc', undefined, 'abc']);
  });

  test('the filter exposes its journalmatch as OR-groups', () => {
    assert.deepEqual(filter({ failregex: ['^x <HOST>$'], journalmatch: ['_SYSTEMD_UNIT=sshd.service + _COMM=sshd'] }).journalmatch, [['_SYSTEMD_UNIT=sshd.service'], ['_COMM=sshd']]);
  });
});

describe('journal entries', () => {
  test('an entry becomes the line fail2ban builds from it, with the entry\'s time', () => {
    const entry = {
      _HOSTNAME: 'web1',
      SYSLOG_IDENTIFIER: 'sshd',
      _PID: '812',
      MESSAGE: 'Failed password for root from 192.0.2.9 port 22 ssh2',
      __REALTIME_TIMESTAMP: '1748599201123456',
    };
    assert.deepEqual(journalLine(entry), { line: 'web1 sshd[812]: Failed password for root from 192.0.2.9 port 22 ssh2', time: 1748599201123 });
  });

  test('a kernel entry carries its monotonic time, and new lines in a message are escaped', () => {
    const { line } = journalLine({ _HOSTNAME: 'h', _COMM: 'kernel', _SOURCE_MONOTONIC_TIMESTAMP: '1234567890', MESSAGE: 'a\nb', __REALTIME_TIMESTAMP: '1' });
    assert.equal(line, 'h kernel: [ 1234.567890] a\\nb');
  });

  test('a binary message (an array of bytes in journalctl JSON) is decoded', () => {
    assert.equal(journalLine({ MESSAGE: [104, 105], __REALTIME_TIMESTAMP: '1000' }).line, 'hi');
  });

  test('a line pushed with its time is not searched for a date', () => {
    const m = filter({ failregex: ['^\\S+ sshd\\[\\d+\\]: Failed password for \\S+ from <HOST> port \\d+ ssh2$'] }).matcher();
    const { line, time } = journalLine({ _HOSTNAME: 'web1', SYSLOG_IDENTIFIER: 'sshd', _PID: '1', MESSAGE: 'Failed password for root from 192.0.2.9 port 22 ssh2', __REALTIME_TIMESTAMP: '1748599201000000' });
    const [hit] = m.push(line, NOW, time);
    assert.equal(hit?.ip, '192.0.2.9');
    assert.equal(hit?.time, 1748599201000);
  });
});
