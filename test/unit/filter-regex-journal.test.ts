import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeMatch, journalMatch, journalOptions } from '../../services/cli/commands/regex/journal.ts';
import { readArgs } from '../../services/shipper/sources/journal/parse.ts';
import type { FilterDefinition } from '../../shared/filter/config/definition.ts';
import { fixedZone, localZone } from '../../shared/filter/date/zones.ts';
import { journalDate } from '../../shared/filter/journal.ts';

const definition = (journalmatch: string[]): FilterDefinition => ({ name: 't', failregex: [], ignoreregex: [], journalmatch, files: [] });

describe('fleetban regex systemd-journal[...]', () => {
  test('the systemd backend options become journalctl options', () => {
    assert.deepEqual(journalOptions('systemd-journal[journalpath=/var/log/remote]'), { directory: '/var/log/remote' });
    assert.deepEqual(journalOptions('systemd-journal[journalfiles="/a/*.journal, /b/x.journal", namespace=web]'), { files: ['/a/*.journal', '/b/x.journal'], namespace: 'web' });
    assert.deepEqual(journalOptions('systemd-journal[journalflags=9]'), { user: true });
    assert.deepEqual(journalOptions('systemd-journal[journalflags=13]'), { system: true, user: true });
  });

  test('without a path or files the system journal of every machine is read, as fail2ban opens it with SYSTEM_ONLY', () => {
    assert.deepEqual(journalOptions('systemd-journal', {}), { system: true, merge: true });
    assert.deepEqual(journalOptions('systemd-journal', { F2B_SYSTEMD_DEFAULT_FLAGS: '5' }), { system: true });
  });

  test('options journalctl cannot express are refused with the reason', () => {
    assert.throws(() => journalOptions('systemd-journal[journalflags=2]'), /journalctl can read only/);
    assert.throws(() => journalOptions('systemd-journal[journalflags=x]'), /journalflags must be an integer/);
    assert.throws(() => journalOptions('systemd-journal[rotated=1]'), /unknown option rotated/);
  });

  test('-m is used instead of the filter\'s journalmatch, even when empty; "+" separates alternatives', () => {
    const def = definition(['_SYSTEMD_UNIT=sshd.service + _COMM=sshd']);
    assert.deepEqual(journalMatch('SYSLOG_IDENTIFIER=sshd PRIORITY=5 + _COMM=sshd', def), [['SYSLOG_IDENTIFIER=sshd', 'PRIORITY=5'], ['_COMM=sshd']]);
    assert.deepEqual(journalMatch('', def), []);
    assert.deepEqual(journalMatch(undefined, def), [['_SYSTEMD_UNIT=sshd.service'], ['_COMM=sshd']]);
    assert.throws(() => journalMatch('--since=today', def), /not a journal match/);
  });

  test('of a journalmatch with several lines only the last counts, as in fail2ban-regex', () => {
    assert.deepEqual(journalMatch(undefined, definition(['_COMM=a', '_COMM=b + _COMM=c', ''])), [['_COMM=b'], ['_COMM=c']]);
    assert.deepEqual(journalMatch(undefined, definition([])), []);
  });

  test('the match is shown as fail2ban-regex shows it', () => {
    assert.equal(describeMatch([['A=1', 'B=2'], ['C=3']]), 'A=1 B=2 + C=3');
  });

  test('journalctl is asked for every matching entry once, as JSON', () => {
    assert.deepEqual(readArgs({ directory: '/j', match: [['A=1'], ['B=2']], system: true }), [
      '--output=json', '--all', '--quiet', '--no-pager', '--directory=/j', '--system', '--', 'A=1', '+', 'B=2',
    ]);
    assert.deepEqual(readArgs({ match: [], files: ['/x/*.journal'], namespace: 'n', user: true, merge: true }), [
      '--output=json', '--all', '--quiet', '--no-pager', '--file=/x/*.journal', '--namespace=n', '--user', '--merge', '--',
    ]);
  });
});

describe('the date of a journal entry', () => {
  test('is its local time with microseconds and the offset the process started in, and the time keeps the microseconds', () => {
    const at = Date.UTC(2025, 0, 5, 10, 0, 0);
    assert.deepEqual(journalDate(fixedZone(0), at * 1000 + 123456, at), { dateText: '2025-01-05T10:00:00.123456+00:00', time: at / 1000 + 0.123456 });
    assert.deepEqual(journalDate(fixedZone(-150), at * 1000, at), { dateText: '2025-01-05T07:30:00-02:30', time: at / 1000 });
  });

  test('an entry from the other side of a DST change keeps the start\'s offset, as python-systemd gives it', () => {
    const berlin = localZone('Europe/Berlin');
    const winter = Date.UTC(2025, 0, 5, 12, 0, 0);
    const summer = Date.UTC(2025, 6, 5, 12, 0, 0);
    const { dateText, time } = journalDate(berlin, summer * 1000, winter);
    assert.equal(dateText, '2025-07-05T13:00:00+01:00');
    // mktime reads 13:00 in summer time: an hour before the entry, as fail2ban takes it.
    assert.equal(time, summer / 1000 - 3600);
  });
});
