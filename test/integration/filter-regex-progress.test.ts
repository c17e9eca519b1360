import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authLog } from '../../bench/regex/generate.ts';
import { BIN, fail2banSkipReason, tempDir } from '../harness/index.ts';

/** Runs a command line on a pseudo-terminal (util-linux `script`), as a user at a terminal would; returns what the terminal showed. */
function onTerminal(command: string): Promise<{ code: number; screen: string }> {
  return new Promise((resolve) => {
    execFile('script', ['--quiet', '--return', '--command', command, '/dev/null'], { timeout: 120_000, maxBuffer: 1 << 26 }, (err, stdout) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, screen: String(stdout) });
    });
  });
}

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
const BAR = /\r\[[#.]{30}\] +\d+%  \d+\.\d MiB/;

describe('fleetban regex on a terminal', { skip: fail2banSkipReason() }, () => {
  const dir = tempDir('fleetban-regex-progress');
  const big = join(dir.path, 'auth.log');
  const small = join(dir.path, 'small.log');
  before(() => {
    // Over the 8 MiB from which a file gets a progress bar.
    writeFileSync(big, authLog(100_000));
    writeFileSync(small, authLog(100));
  });
  after(() => dir.remove());

  test('a big file shows a progress bar that grows, and is cleared before the report', async () => {
    const { code, screen } = await onTerminal(`${quote(BIN)} regex ${quote(big)} sshd`);
    assert.equal(code, 0, screen.slice(-2000));
    const shown = [...screen.matchAll(/\r\[[#.]{30}\] +(\d+)%/g)].map((m) => Number(m[1]));
    assert.ok(shown.length > 0, `no progress bar on the terminal:\n${screen.slice(0, 2000)}`);
    assert.deepEqual([...shown].sort((a, b) => a - b), shown, 'the percentage only grows');
    const cleared = screen.lastIndexOf('\r\x1b[K');
    assert.ok(cleared > 0 && cleared < screen.indexOf('Results'), 'the bar is cleared before the report');
    assert.match(screen.slice(cleared), /Lines: 100000 lines/);
  });

  test('--no-progress, a small file, -o output and a pipe show none', async () => {
    for (const command of [
      `${quote(BIN)} regex --no-progress ${quote(big)} sshd`,
      `${quote(BIN)} regex ${quote(small)} sshd`,
      `${quote(BIN)} regex -o ip ${quote(big)} sshd | tail -n 1`,
      `${quote(BIN)} regex ${quote(big)} sshd 2>&1 | cat`,
    ]) {
      const { code, screen } = await onTerminal(command);
      assert.equal(code, 0, `${command}: ${screen.slice(-2000)}`);
      assert.doesNotMatch(screen, BAR, command);
    }
  });
});
