import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, parseDuration, PERMANENT } from '../../shared/time/index.ts';

describe('durations in fail2ban units', () => {
  test('plain numbers are seconds', () => {
    assert.equal(parseDuration('600'), 600_000);
    assert.equal(parseDuration(600), 600_000);
    assert.equal(parseDuration('0'), 0);
  });

  test('single units read as fail2ban reads them', () => {
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('2w'), 14 * 86_400_000);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('1mo'), (365.25 * 86_400_000) / 12);
    assert.equal(parseDuration('1y'), 365.25 * 86_400_000);
  });

  test('combinations and long spellings add up', () => {
    assert.equal(parseDuration('1d12h'), 36 * 3_600_000);
    assert.equal(parseDuration('1h 30m'), 90 * 60_000);
    assert.equal(parseDuration('3 weeks'), 21 * 86_400_000);
    assert.equal(parseDuration('2 days 3 hours'), 51 * 3_600_000);
    assert.equal(parseDuration('1.5h'), 90 * 60_000);
    assert.equal(parseDuration('5 mins'), 300_000);
  });

  test('-1 means permanent', () => {
    assert.equal(parseDuration('-1'), PERMANENT);
    assert.equal(parseDuration(-1), PERMANENT);
  });

  test('bad durations are refused with the reason', () => {
    assert.throws(() => parseDuration(''), /empty duration/);
    assert.throws(() => parseDuration('10q'), /unknown unit "q"/);
    assert.throws(() => parseDuration('-5'), /negative duration/);
    assert.throws(() => parseDuration('ten minutes'), /cannot read duration/);
    assert.throws(() => parseDuration('1h;rm'), /cannot read duration/);
    assert.throws(() => parseDuration(Number.NaN), /invalid duration/);
    assert.throws(() => parseDuration('9'.repeat(30)), /too large/);
  });

  test('formatting gives back the short form', () => {
    assert.equal(formatDuration(36 * 3_600_000), '1d12h');
    assert.equal(formatDuration(600_000), '10m');
    assert.equal(formatDuration(PERMANENT), 'permanent');
    assert.equal(formatDuration(parseDuration('2w')), '2w');
  });
});
