import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ConfigProblem } from '../../shared/errors.ts';
import { checkFilters } from '../../services/cli/commands/config/filters.ts';
import { parseConfig } from '../../shared/config/index.ts';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'config');

/**
 * Each fixture states what it expects in its first lines:
 * `# expect: ok`, or one `# expect: <line> <key path>: <part of the message>`
 * per problem. The fixture must produce exactly those problems.
 * A valid fixture lists its warnings (a ban capped) as
 * `# warning: <line> <key path>: <part of the message>`, exactly.
 * The comment lines count, so line numbers are the file's own.
 * A fixture that parses but expects errors is also checked as
 * `config check` does after parsing (the shipper's filters).
 */
interface Expected {
  line: number;
  path: string;
  message: string;
}

function expectations(text: string): 'ok' | Expected[] {
  const lines = text.split('\n').filter((l) => l.startsWith('# expect: '));
  if (lines.length === 1 && lines[0] === '# expect: ok') return 'ok';
  return lines.map((l) => expected(l, 'expect'));
}

function warningsOf(text: string): Expected[] {
  return text.split('\n').filter((l) => l.startsWith('# warning: ')).map((l) => expected(l, 'warning'));
}

function expected(l: string, kind: string): Expected {
  const m = new RegExp(`^# ${kind}: (\\d+) ([^:]*): (.+)$`).exec(l);
  if (!m) throw new Error(`bad expectation line: ${l}`);
  return { line: Number(m[1]), path: m[2]!, message: m[3]! };
}

function assertProblems(got: readonly ConfigProblem[], want: readonly Expected[], file: string): void {
  const text = got.map((p) => `${p.line} ${p.path}: ${p.message}`);
  assert.equal(got.length, want.length, `problems:\n${text.join('\n')}`);
  for (const e of want) {
    assert.ok(
      got.some((p) => p.file === file && p.line === e.line && p.path === e.path && p.message.includes(e.message)),
      `no problem "${e.line} ${e.path}: ${e.message}" among:\n${text.join('\n')}`,
    );
  }
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
    test(`${file} gives what its first line expects`, async () => {
      const text = readFileSync(join(DIR, file), 'utf8');
      const expected = expectations(text);
      const result = parseConfig(text, file, { hostname: 'fixture-host' });
      if (expected === 'ok') {
        assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => `${p.line} ${p.path}: ${p.message}`).join('\n'));
        if (result.ok) assertProblems(result.warnings, warningsOf(text), file);
        return;
      }
      const problems = result.ok ? await checkFilters(result.config, file, result.lineOf) : result.problems;
      assert.ok(problems.length > 0, 'expected errors, got a valid config');
      assertProblems(problems, expected, file);
    });
  }
});
