import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { followArgs, lastEntryArgs, matchArgs, parseJournalLine } from '../../services/shipper/sources/journal/parse.ts';

const CURSOR = 's=936738a6eaec4d3ea35e9ee6d946dcdb;i=15b;b=1c057373a06742b189aa772cb7f9da02;m=58ab3296;t=660d48ce4e7b3;x=343c3449ea8cbd13';

describe("reading journalctl's JSON output", () => {
  test('an entry gives its cursor, its fields and its source time in ms', () => {
    const line = JSON.stringify({
      __CURSOR: CURSOR,
      __REALTIME_TIMESTAMP: '1735732800123456',
      _SOURCE_REALTIME_TIMESTAMP: '1735732800100999',
      MESSAGE: 'Failed password for root from 192.0.2.10 port 22 ssh2',
      SYSLOG_IDENTIFIER: 'sshd',
      _PID: '4242',
    });
    const r = parseJournalLine(line);
    assert.ok(r.ok);
    assert.equal(r.cursor, CURSOR);
    assert.equal(r.time, 1735732800100);
    assert.equal(r.entry.MESSAGE, 'Failed password for root from 192.0.2.10 port 22 ssh2');
    assert.equal(r.entry._PID, '4242');
  });

  test('without a source time the journal receive time is used', () => {
    const r = parseJournalLine(JSON.stringify({ __CURSOR: CURSOR, __REALTIME_TIMESTAMP: '1735732800123456', MESSAGE: 'x' }));
    assert.ok(r.ok);
    assert.equal(r.time, 1735732800123);
  });

  test('a value that is not UTF-8 comes as bytes and is decoded; repeated fields stay a list; null is left out', () => {
    const bytes = [...Buffer.from('Invalid user \xff from 192.0.2.11', 'latin1')];
    const r = parseJournalLine(JSON.stringify({ __CURSOR: CURSOR, MESSAGE: bytes, TAG: ['a', [0x62]], BIG: null }));
    assert.ok(r.ok);
    assert.equal(r.entry.MESSAGE, 'Invalid user \ufffd from 192.0.2.11');
    assert.deepEqual(r.entry.TAG, ['a', 'b']);
    assert.equal('BIG' in r.entry, false);
  });

  test('lines that are not entries are refused with a reason, never thrown', () => {
    assert.deepEqual(parseJournalLine('{"MESSAGE":"no cursor"}'), { ok: false, reason: 'entry without __CURSOR' });
    assert.deepEqual(parseJournalLine('{"__CURSOR":'), { ok: false, reason: 'not JSON' });
    assert.deepEqual(parseJournalLine('[1,2]'), { ok: false, reason: 'not a JSON object' });
    assert.deepEqual(parseJournalLine('-- No entries --'), { ok: false, reason: 'not JSON' });
  });

  test('field names that journald would never write are dropped', () => {
    const r = parseJournalLine(JSON.stringify({ __CURSOR: CURSOR, 'bad key': 'x', MESSAGE: 'm' }));
    assert.ok(r.ok);
    assert.deepEqual(Object.keys(r.entry).sort(), ['MESSAGE', '__CURSOR']);
  });
});

describe('journalctl arguments', () => {
  test('match groups are joined with "+" and come after "--"', () => {
    assert.deepEqual(matchArgs([['_SYSTEMD_UNIT=sshd.service'], ['_COMM=sshd', 'PRIORITY=5']]), ['_SYSTEMD_UNIT=sshd.service', '+', '_COMM=sshd', 'PRIORITY=5']);
    assert.throws(() => matchArgs([['--since=yesterday']]), /not a journal match/);
  });

  test('following resumes after the saved cursor, or from the oldest entry when there is none', () => {
    const opts = { match: [['SYSLOG_IDENTIFIER=sshd']], directory: '/run/log/journal' };
    assert.deepEqual(followArgs(opts, CURSOR), ['--follow', '--output=json', '--all', '--quiet', '--no-pager', '--directory=/run/log/journal', `--after-cursor=${CURSOR}`, '--', 'SYSLOG_IDENTIFIER=sshd']);
    assert.ok(followArgs({ match: [] }, null).includes('--lines=all'));
    assert.deepEqual(lastEntryArgs({ match: [] }), ['--output=json', '--all', '--quiet', '--no-pager', '--lines=1', '--']);
  });
});
