import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DateDetector } from '../../shared/filter/date/detector.ts';
import type { StrptimeContext } from '../../shared/filter/date/strptime.ts';
import { fixedZone, posixZone, zoneOffset } from '../../shared/filter/date/zones.ts';

const UTC = fixedZone(0, 'UTC');
/** 2025-06-01 12:00:00 UTC, when the lines are read. */
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

function find(line: string, datepattern?: string, ctx: Partial<StrptimeContext> = {}) {
  const found = DateDetector.forPattern(datepattern).find(line, { now: NOW, zone: UTC, ...ctx });
  if (!found) return undefined;
  return { iso: found.time === undefined ? undefined : new Date(found.time * 1000).toISOString(), text: line.slice(found.start, found.end) };
}

describe('date detection', () => {
  test('a syslog date without a year is this year', () => {
    assert.deepEqual(find('May 30 10:00:01 host sshd[1]: x'), { iso: '2025-05-30T10:00:01.000Z', text: 'May 30 10:00:01' });
  });

  test('a date more than a day ahead of now is last year (year roll-over)', () => {
    assert.equal(find('Dec 31 23:59:59 host x')?.iso, '2024-12-31T23:59:59.000Z');
    assert.equal(find('Jun  2 11:59:59 host x')?.iso, '2025-06-02T11:59:59.000Z', 'less than a day ahead stays this year');
  });

  test('ISO 8601 with a zone, Apache with an offset, and a named zone are converted to UTC', () => {
    assert.equal(find('2025-05-30T10:00:01+02:00 x')?.iso, '2025-05-30T08:00:01.000Z');
    assert.equal(find('192.0.2.1 - - [30/May/2025:10:00:01 -0500] "GET / HTTP/1.1"')?.iso, '2025-05-30T15:00:01.000Z');
    assert.equal(find('2025-05-30 10:00:01 UTC x')?.iso, '2025-05-30T10:00:01.000Z');
  });

  test('epoch, epoch in brackets and TAI64N labels are read', () => {
    assert.equal(find('1748599201 x')?.iso, '2025-05-30T10:00:01.000Z');
    assert.equal(find('[1748599201.250] x')?.iso, '2025-05-30T10:00:01.250Z');
    // fail2ban reads the 15 hex digits after '@4' and ignores the TAI offset.
    assert.equal(find('@40000000683985610000abcd x', 'TAI64N')?.iso, new Date(0x68398561 * 1000).toISOString());
  });

  test('{^LN-BEG} only finds dates at the start of the line', () => {
    assert.equal(find('x May 30 10:00:01 y', '{^LN-BEG}'), undefined);
    assert.equal(find('May 30 10:00:01 y', '{^LN-BEG}')?.text, 'May 30 10:00:01');
  });

  test('a custom datepattern with strptime fields is used instead of the defaults', () => {
    assert.equal(find('t=2025.05.30-10:00:01 x', '^t=%%Y.%%m.%%d-%%H:%%M:%%S'.replaceAll('%%', '%'))?.iso, '2025-05-30T10:00:01.000Z');
  });

  test('{DATE} puts the default patterns where it stands', () => {
    assert.equal(find('prefix [30/May/2025:10:00:01 +0000] x', '^[^\\[]*\\[({DATE})')?.iso, '2025-05-30T10:00:01.000Z');
  });

  test('{NONE} finds no date (the line gets the time it is read)', () => {
    const found = DateDetector.forPattern('{NONE}').find('May 30 10:00:01 x', { now: NOW, zone: UTC });
    assert.deepEqual(found && { start: found.start, end: found.end, time: found.time }, { start: 0, end: 0, time: undefined });
  });

  test('an impossible date is no date', () => {
    assert.equal(find('2025-02-30 10:00:01 x')?.iso, undefined);
  });

  test('logtimezone applies to dates that name no zone', () => {
    assert.equal(find('2025-05-30 10:00:01 x', undefined, { defaultOffset: zoneOffset('UTC+0200') })?.iso, '2025-05-30T08:00:01.000Z');
    assert.equal(find('2025-05-30 10:00:01 +0000 x', undefined, { defaultOffset: 120 })?.iso, '2025-05-30T10:00:01.000Z');
  });

  test('zones are read the way fail2ban reads them', () => {
    assert.equal(zoneOffset('UTC'), 0);
    assert.equal(zoneOffset('CEST'), 120);
    assert.equal(zoneOffset('-0430'), -270);
    assert.equal(zoneOffset('EST+01'), -240);
    assert.throws(() => zoneOffset('Mars/Olympus'));
  });

  test('a POSIX TZ rule converts local times as glibc does, daylight saving included', () => {
    const cet = posixZone('CET-01CEST-02,M3.5.0,M10.5.0');
    assert.equal(cet.fromWall({ y: 2005, mo: 8, d: 14, h: 12, mi: 0, s: 0 }), 1124013600000);
    assert.equal(cet.fromWall({ y: 2005, mo: 1, d: 14, h: 12, mi: 0, s: 0 }), 1105700400000);
    assert.deepEqual(cet.toWall(1124013600000), { y: 2005, mo: 8, d: 14, h: 12, mi: 0, s: 0 });
  });

  test('the detector keeps using the template that matched last, as fail2ban does', () => {
    const dd = DateDetector.forPattern(undefined);
    for (let i = 0; i < 5; i++) dd.find(`2025-05-30 10:00:0${i} x`, { now: NOW, zone: UTC });
    const first = dd.templates.find((t) => t.hits > 0);
    assert.ok(first && first.hits === 5 && /ExYear/.test(first.name), JSON.stringify(dd.templates.filter((t) => t.hits)));
  });
});
