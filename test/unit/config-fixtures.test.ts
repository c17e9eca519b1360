import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseConfig } from '../../shared/config/index.ts';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'config');

/**
 * Each fixture states what it expects in its first lines:
 * `# expect: ok`, or one `# expect: <line> <key path>: <part of the message>`
 * per problem. The fixture must produce exactly those problems.
 * The comment lines count, so line numbers are the file's own.
 */
interface Expected {
  line: number;
  path: string;
  message: string;
}

function expectations(text: string): 'ok' | Expected[] {
  const lines = text.split('\n').filter((l) => l.startsWith('# expect: '));
  if (lines.length === 1 && lines[0] === '# expect: ok') return 'ok';
  return lines.map((l) => {
    const m = /^# expect: (\d+) ([^:]*): (.+)$/.exec(l);
    if (!m) throw new Error(`bad expectation line: ${l}`);
    return { line: Number(m[1]), path: m[2]!, message: m[3]! };
  });
}

describe('config fixtures', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

  test('the fixture folder is not empty', () => {
    assert.ok(files.length >= 20, `only ${files.length} fixtures`);
  });

  test("a jail that sets nothing gets fail2ban's defaults: maxretry 5, findtime 10m, bantime 10m", () => {
    const result = parseConfig('jails:\n  sshd: {}\n', 'defaults.yaml', { hostname: 'fixture-host' });
    assert.ok(result.ok);
    if (!result.ok) return;
    const sshd = result.config.jails.sshd!;
    assert.equal(sshd.maxretry, 5);
    assert.equal(sshd.findtime, 600_000, 'milliseconds');
    assert.equal(sshd.bantime, 600_000);
    assert.equal(sshd.filter, 'sshd');
  });

  for (const file of files) {
    test(`${file} gives what its first line expects`, () => {
      const text = readFileSync(join(DIR, file), 'utf8');
      const expected = expectations(text);
      const result = parseConfig(text, file, { hostname: 'fixture-host' });
      if (expected === 'ok') {
        assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => `${p.line} ${p.path}: ${p.message}`).join('\n'));
        return;
      }
      assert.equal(result.ok, false, 'expected errors, got a valid config');
      if (result.ok) return;
      const got = result.problems.map((p) => `${p.line} ${p.path}: ${p.message}`);
      assert.equal(result.problems.length, expected.length, `problems:\n${got.join('\n')}`);
      for (const e of expected) {
        assert.ok(
          result.problems.some((p) => p.file === file && p.line === e.line && p.path === e.path && p.message.includes(e.message)),
          `no problem "${e.line} ${e.path}: ${e.message}" among:\n${got.join('\n')}`,
        );
      }
    });
  }
});
