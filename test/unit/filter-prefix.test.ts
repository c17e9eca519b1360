import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePythonRegex } from '../../shared/filter/regex/parse.ts';
import { anchoredPrefix, skippablePrefix } from '../../shared/filter/regex/analyze.ts';
import { PyRegex } from '../../shared/filter/regex/compile.ts';

/**
 * The prefix test a regex runs before the engine only skips texts the regex
 * cannot match: for each pattern and text, search() must agree with the
 * translated regex run on its own.
 */
function agrees(pattern: string, texts: readonly string[]): void {
  const py = new PyRegex(pattern);
  const plain = new RegExp(py.jsSource, 'gu');
  for (const text of texts) {
    plain.lastIndex = 0;
    assert.equal(py.search(text) !== null, plain.exec(text) !== null, `${pattern} on ${JSON.stringify(text)}`);
  }
}

const TEXTS = [
  '',
  'F',
  'Failed',
  'Failed password for root from 192.0.2.1 port 22 ssh2\n',
  'Failed publickey for invalid user x from 192.0.2.1\n',
  'failed password for root from 192.0.2.1\n',
  'Connection closed by 192.0.2.1\n',
  'Connection from 192.0.2.1\n',
  'Disconnected from 192.0.2.1\n',
  'Accepted password for bob from 192.0.2.1\n',
  'KELVIN \u212aelvin ſeptember',
  '\u212aelvin',
  'ſep 01 10:00:00',
  'Sep 01 10:00:00',
  '  Sep 01 10:00:00',
  '[Sep 01 10:00:00',
  '[[[Sep 01 10:00:00',
  'xSep 01 10:00:00',
  '\u{1d7ce}2 10:00:00',
  '\u0662\u0660 x',
  '2025-01-01 10:00:00',
  '\u{1F600}Failed',
  'Fa\u{1F600}led',
  'é user',
  'user é',
];

describe('prefix tests before a regex runs', () => {
  test('an anchored literal prefix rejects only texts that differ from it', () => {
    for (const p of ['^Failed password', '^Failed (?:password|publickey) for', '^Connection (?:closed|from)', '^(?:Connection closed|Disconnected) ']) {
      agrees(p, TEXTS);
    }
  });

  test('optional parts and repeats before the rest still give a sound prefix', () => {
    for (const p of ['^(?:Dis)?connected', '^x?Failed', '^(?:ab)*Failed', '^[A-Z]?\\w* user', '^(?:\\[\\])?\\s*Connection', '^(?:a|bc)?d?Failed']) {
      agrees(p, TEXTS);
    }
  });

  test('case-insensitive letters include their Unicode case variants', () => {
    agrees('(?i)^kelvin', TEXTS);
    agrees('(?i)^sep \\d', TEXTS);
    agrees('^(?i:k)ELVIN', TEXTS);
  });

  test('Unicode digits, word characters and astral characters are not refused by the prefix', () => {
    agrees('^\\d\\d', TEXTS);
    agrees('^\\d{2} ', TEXTS);
    agrees('^\\w+ user', TEXTS);
    agrees('^.Failed', TEXTS);
    agrees('^Fa.led', TEXTS);
    agrees('^[^x]Failed', TEXTS);
    agrees('(?a)^\\d\\d', TEXTS);
  });

  test("date templates' skippable non-word start is honoured", () => {
    for (const p of ['^(?:\\W{0,2})?(?:(?P<a>mon|sep) )?(?P<b>sep) \\d', '^(?:\\W{0,2})?(?P<b>Sep) (?P<d>\\d\\d)', '^(?:\\W{0,2})?(?P<Y>20[0-2]\\d)-']) {
      agrees(p, TEXTS);
    }
  });

  test('the analysis finds the positions a match must start with', () => {
    const prefix = anchoredPrefix(parsePythonRegex('^Failed (?:password|publickey) for').root);
    assert.ok(prefix);
    assert.ok(prefix.length >= 'Failed p'.length);
    assert.equal(prefix.mayMatchAt('Failed password for root', 0), true);
    assert.equal(prefix.mayMatchAt('Failed passw', 0), false, 'shorter than any match');
    assert.equal(prefix.mayMatchAt('Failed Password for root', 0), false);
    assert.equal(anchoredPrefix(parsePythonRegex('Failed').root), undefined, 'not anchored: no prefix');
    assert.equal(anchoredPrefix(parsePythonRegex('^.*Failed').root), undefined, 'nothing known at the start');
    const date = skippablePrefix(parsePythonRegex('^(?:\\W{0,2})?(?:(?P<a>Mon) )?(?P<b>Jan) ').root);
    assert.equal(date?.skip, 2);
    assert.equal(date?.prefix.mayMatchAt('Mon Jan', 0), true);
    assert.equal(date?.prefix.mayMatchAt('Jan 01', 0), true);
    assert.equal(date?.prefix.mayMatchAt('192.0.2.1', 0), false);
  });

  test('a pattern with many optional parts is analysed within a bounded amount of work', () => {
    // Each optional part doubles the ways through the pattern; the analysis gives up instead.
    agrees(`^${'(?:a)?'.repeat(200)}b`, ['b', 'ab', 'c', `${'a'.repeat(200)}b`]);
  });
});
