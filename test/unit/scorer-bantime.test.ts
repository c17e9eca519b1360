import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { banLength, banRandom, banTimeRules } from '../../services/scorer/core/bantime.ts';
import { compileFormula, DEFAULT_FORMULA, FormulaError } from '../../services/scorer/core/formula.ts';
import { stringify } from 'yaml';
import { MAX_BAN, parseConfig } from '../../shared/config/index.ts';
import { testConfig } from '../harness/index.ts';

const jail = (settings: Record<string, unknown>) => testConfig({ jails: { sshd: settings } }).jails.sshd!;
const at = (formula: string, count: number, time = 600, factor = 1) => compileFormula(formula).evaluate({ time, count, factor });

describe('bantime.formula', () => {
  test('the default formula doubles per previous ban and stops growing at 2^20', () => {
    assert.deepEqual([0, 1, 2, 3, 10].map((c) => at(DEFAULT_FORMULA, c)), [600, 1200, 2400, 4800, 600 * 1024]);
    assert.equal(at(DEFAULT_FORMULA, 20), 600 * 2 ** 20);
    assert.equal(at(DEFAULT_FORMULA, 45), 600 * 2 ** 20);
    assert.equal(at(DEFAULT_FORMULA, 3, 600, 1.5), 600 * 8 * 1.5);
  });

  test('the exponential formula from jail.conf gives the values Python gives', () => {
    const formula = 'ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)';
    const factor = 2.0 / 2.885385;
    // Python 3: 600 * math.exp(float(3+1)*f)/math.exp(1*f) for f = 2.0/2.885385
    assert.ok(Math.abs(at(formula, 3, 600, factor) - 600 * Math.exp(4 * factor) / Math.exp(factor)) < 1e-9);
    assert.ok(Math.abs(at(formula, 3, 600, factor) - 4800.0) < 1);
  });

  test('Python operators keep their meaning: floor division, modulo of negatives, power, chained comparisons, conditionals', () => {
    assert.equal(at('7 // 2', 0), 3);
    assert.equal(at('-7 // 2', 0), -4);
    assert.equal(at('-7 % 3', 0), 2);
    assert.equal(at('-2 ** 2', 0), -4);
    assert.equal(at('2 ** -1', 0), 0.5);
    assert.equal(at('2 ** 3 ** 2', 0), 512);
    assert.equal(at('1 < ban.Count < 5', 3), 1);
    assert.equal(at('1 < ban.Count < 5', 7), 0);
    assert.equal(at('ban.Time if ban.Count == 0 else ban.Time * 3', 0), 600);
    assert.equal(at('ban.Time if ban.Count == 0 else ban.Time * 3', 2), 1800);
    assert.equal(at('min(ban.Time * 2, 1000) + max(1, 2, 3)', 0), 1003);
    assert.equal(at('not ban.Count and 5 or 7', 0), 5);
    assert.equal(at('round(2.5) + round(3.5) + int(-2.7) + abs(-1)', 0), 2 + 4 - 2 + 1);
    assert.equal(at('1 << 3 >> 1 | 1 & 3 ^ 2', 0), 7);
    assert.equal(at('math.floor(math.log(8, 2) + 0.5) + math.sqrt(16) + math.pow(2, 3)', 0), 3 + 4 + 8);
  });

  test('anything outside the safe subset is refused when compiled, with the column', () => {
    for (const [formula, message] of [
      [`__import__("os").system("id")`, /unexpected """ at column 12/],
      ['ban.Time.__class__', /unknown name "ban.Time.__class__"/],
      ['open(0)', /unknown function "open"/],
      ['ban.Time * ', /unexpected end of formula/],
      ['ban.Time *** 2', /unexpected "\*" at column 12/],
      ['lambda: 1', /unexpected ":" at column 7/],
      ['__import__(1)', /unknown function "__import__"/],
      ['[1, 2]', /unexpected "\[" at column 1/],
      ['max()', /max\(\) takes 1 to 64 arguments, got 0/],
      ['', /empty formula/],
      ['(((('.repeat(40), /nests too deeply|unexpected/],
    ] as const) {
      assert.throws(() => compileFormula(formula), (err: unknown) => err instanceof FormulaError && message.test(err.message), formula);
    }
  });

  test('math errors at evaluation are FormulaErrors, not crashes', () => {
    assert.throws(() => at('ban.Time / (ban.Count - 1)', 1), /division by zero/);
    assert.throws(() => at('math.log(ban.Count)', 0), /math domain error/);
    assert.throws(() => at('1.5 << 2', 0), /not an integer/);
  });

  test('a config whose formula does not compile is refused by the config parser with its key path and line', () => {
    const result = parseConfig(stringify({ jails: { sshd: { 'bantime.formula': 'ban.Time * os.getpid()' }, web: {} } }), 'f.yaml', { hostname: 'h' });
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.problems, [
      { file: 'f.yaml', path: 'jails.sshd.bantime.formula', line: 3, message: 'unknown function "os.getpid" at column 12 (known: float, int, abs, round, min, max, math.exp, math.log, math.log2, math.log10, math.sqrt, math.pow, math.floor, math.ceil, math.fabs)' },
    ]);
  });
});

describe('ban lengths', () => {
  test('without bantime.increment every ban has the plain bantime', () => {
    const rules = banTimeRules(jail({ bantime: '1h' }));
    assert.deepEqual([0, 1, 5].map((n) => banLength(rules, n, 'x').duration), [3_600_000, 3_600_000, 3_600_000]);
  });

  test('a first ban is never lengthened or randomised, as in fail2ban', () => {
    const rules = banTimeRules(jail({ bantime: '10m', 'bantime.increment': true, 'bantime.rndtime': '5m', 'bantime.factor': 3 }));
    assert.equal(banLength(rules, 0, 'ban:sshd:192.0.2.1@1').duration, 600_000);
  });

  test('bantime.maxtime caps the growth and bantime.rndtime adds at most rndtime, the same for the same ban id', () => {
    const rules = banTimeRules(jail({ bantime: '10m', 'bantime.increment': true, 'bantime.maxtime': '1h', 'bantime.rndtime': '10m' }));
    const lengths = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const id = `ban:sshd:192.0.2.1@${i}`;
      const first = banLength(rules, 10, id).duration;
      assert.equal(banLength(rules, 10, id).duration, first, 'deterministic per ban id');
      assert.ok(first >= 3_600_000 && first < 4_200_000, `${first} within maxtime + rndtime`);
      lengths.add(first);
    }
    assert.ok(lengths.size > 190, 'different bans get different random parts');
    const r = banRandom('ban:sshd:192.0.2.1@0');
    assert.ok(r >= 0 && r < 1);
  });

  test('a formula below bantime is raised to bantime, and a formula error falls back to bantime', () => {
    const low = banTimeRules(jail({ bantime: '10m', 'bantime.increment': true, 'bantime.formula': 'ban.Time / 10' }));
    assert.equal(banLength(low, 2, 'x').duration, 600_000);
    const broken = banTimeRules(jail({ bantime: '10m', 'bantime.increment': true, 'bantime.formula': 'ban.Time / (ban.Count - 2)' }));
    assert.deepEqual(banLength(broken, 2, 'x'), { duration: 600_000, formulaError: 'division by zero' });
  });

  test('a formula that overflows gives the longest ban fleetban gives (MAX_BAN, 100 years)', () => {
    const rules = banTimeRules(jail({ bantime: '10m', 'bantime.increment': true, 'bantime.formula': 'ban.Time * math.exp(ban.Count * 100)' }));
    assert.equal(banLength(rules, 50, 'x').duration, MAX_BAN);
  });

  test('a permanent bantime stays permanent whatever the count', () => {
    const rules = banTimeRules(jail({ bantime: -1, 'bantime.increment': true }));
    assert.equal(banLength(rules, 4, 'x').duration, -1);
  });
});
