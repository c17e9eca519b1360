import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { banLength as manualBanLength } from '../../services/cli/manual.ts';
import { parseConfig } from '../../shared/config/index.ts';
import { failuresWithin, formatDuration, MAX_DURATION, parseDuration, PERMANENT } from '../../shared/time/index.ts';
import { fail2banPackage, fail2banSkipReason } from '../harness/index.ts';

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

/** Every way a fail2ban user writes a duration, and what it is in ms. */
const FORMS: ReadonlyArray<readonly [string | number, number]> = [
  ['600', 600_000], [600, 600_000], ['0', 0], ['1', 1000], ['45s', 45_000], ['30sec', 30_000],
  ['10m', 600_000], ['10min', 600_000], ['5 minutes', 300_000], ['1h', 3_600_000], ['1hour', 3_600_000],
  ['1d', 86_400_000], ['1 day', 86_400_000], ['1w', 604_800_000], ['2w', 1_209_600_000], ['3 weeks', 1_814_400_000],
  ['1d4h', 100_800_000], ['1h30m', 5_400_000], ['1h 30m', 5_400_000], ['1d12h30m15s', 131_415_000],
  ['0.5s', 500], ['1.5h', 5_400_000], ['0.2s', 200], ['500ms', 500], ['1mo', 2_629_800_000], ['1y', 31_557_600_000],
  ['2 days 3 hours', 183_600_000], ['1w1d', 691_200_000], ['5w', 3_024_000_000],
];

describe('every form of a duration reads the same on every path', () => {
  test('the config parser, the CLI --for and parseDuration agree on every form', () => {
    for (const [text, ms] of FORMS) {
      assert.equal(parseDuration(text), ms, `parseDuration(${JSON.stringify(text)})`);
      const config = parseConfig(stringify({ jails: { sshd: { bantime: text, findtime: ms === 0 ? 1 : text } } }), 'd.yaml', { hostname: 'h' });
      assert.ok(config.ok, `config with bantime ${JSON.stringify(text)}: ${config.ok ? '' : JSON.stringify(config.problems)}`);
      if (config.ok) assert.equal(config.config.jails.sshd!.bantime, ms, `config bantime ${JSON.stringify(text)}`);
      if (ms > 0) assert.equal(manualBanLength(String(text), undefined), ms, `--for ${JSON.stringify(text)}`);
    }
  });

  test("fail2ban's own MyTime.str2seconds reads the fail2ban forms to the same seconds", (t) => {
    const skip = fail2banSkipReason({ python: true });
    if (skip) return t.skip(skip);
    const pkg = fail2banPackage()!;
    // fail2ban has no millisecond unit; `500ms` is fleetban's own.
    const forms = FORMS.filter(([text]) => !/ms$/.test(String(text)));
    const script = 'import sys, json\nfrom fail2ban.server.mytime import MyTime\n' +
      'print(json.dumps([MyTime.str2seconds(v) for v in json.loads(sys.argv[1])]))';
    const run = spawnSync(pkg.python, ['-c', script, JSON.stringify(forms.map(([text]) => text))], { env: { ...process.env, PYTHONPATH: pkg.pythonPath }, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const seconds = JSON.parse(run.stdout) as number[];
    forms.forEach(([text, ms], i) => assert.equal(Math.round(seconds[i]! * 1000), ms, `fail2ban reads ${JSON.stringify(text)} as ${seconds[i]} s`));
  });

  test('formatting is exact: parse(format(ms)) === ms for every whole ms up to 100 years', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: MAX_DURATION }), (ms) => parseDuration(formatDuration(ms)) === ms));
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), (ms) => parseDuration(formatDuration(ms)) === ms));
    assert.equal(formatDuration(500), '0.5s');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(90_061_001), '1d1h1m1.001s');
  });

  test('what formatDuration prints is also a duration the config and --for accept', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_DURATION }), (ms) => {
        const text = formatDuration(ms);
        const config = parseConfig(stringify({ jails: { sshd: { bantime: text } } }), 'd.yaml', { hostname: 'h' });
        return config.ok && config.config.jails.sshd!.bantime === ms && manualBanLength(text, undefined) === ms;
      }),
      { numRuns: 300 },
    );
  });

  test('a duration beyond 100 years is refused with the limit named, on both paths', () => {
    assert.throws(() => parseDuration('101y'), /too large \(at most 100y/);
    assert.throws(() => manualBanLength('1000y', undefined), /too large/);
    assert.equal(parseDuration('100y'), MAX_DURATION);
  });

  test('the reason of a ban says "1 failure", and "2 failures"', () => {
    assert.equal(failuresWithin(1, 600_000), '1 failure within 10m');
    assert.equal(failuresWithin(5, 600_000), '5 failures within 10m');
  });
});
