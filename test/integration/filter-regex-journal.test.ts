import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, fail2banPackage, fail2banSkipReason, Journald, journaldSkipReason, runFail2banRegex, tempDir } from '../harness/index.ts';

/**
 * `fleetban regex systemd-journal[...]` on a private systemd-journald (the
 * harness's, in its own mount namespace: the host's journal is neither read
 * nor written), compared with the real fail2ban-regex reading the same
 * journal files when python3-systemd lets it.
 */
const skip = journaldSkipReason();
const compareSkip = skip ?? fail2banSkipReason({ python: true }) ?? pythonSystemdSkipReason();

function pythonSystemdSkipReason(): string | undefined {
  const pkg = fail2banPackage()!;
  if (spawnSync(pkg.python, ['-c', 'import systemd.journal'], { stdio: 'ignore' }).status === 0) return undefined;
  return `${pkg.python} has no systemd module, so fail2ban-regex cannot read the journal to compare with: install python3-systemd`;
}

/** Same as in filter-regex-cli.test.ts: without the timing line and fleetban's note on host names, Python sets sorted. */
function comparable(out: string): string {
  return out
    .replace(/^\[processed in [\d.]+ sec\]\n/m, '')
    .replace(/^\d+ match\(es\) found a host name[^\n]*\n\n/m, '')
    .replace(/\{'[^']*'(?:, '[^']*')+\}/g, (set) => `{${set.slice(1, -1).split(', ').sort().join(', ')}}`);
}

/** How many entries journalctl reads from the directory: the test waits until journald has written them all. */
function entryCount(directory: string): Promise<number> {
  return new Promise((resolve) => {
    execFile('journalctl', [`--directory=${directory}`, '--output=cat', '--no-pager', '--quiet', '--', 'SYSLOG_IDENTIFIER=sshd', '+', 'SYSLOG_IDENTIFIER=fleetban-other'], (err, stdout) => {
      resolve(err ? 0 : String(stdout).split('\n').length - 1);
    });
  });
}

describe('fleetban regex on the journal', () => {
  let journald: Journald;
  let dir: ReturnType<typeof tempDir>;
  let log: string;
  let ownFilter: string;
  let twoLineFilter: string;

  before(async () => {
    if (skip) return;
    journald = await Journald.start();
    dir = tempDir('fleetban-regex-journal');
    log = `systemd-journal[journalpath=${journald.directory}]`;
    // One systemd-cat per batch: the entries of a batch share a PID, so sshd's F-MLFID joins them.
    await journald.log('sshd', ['Failed password for root from 192.0.2.10 port 22 ssh2', 'Failed password for invalid user bob from 2001:db8::5 port 22 ssh2']);
    await journald.log('sshd', ['Invalid user admin from 198.51.100.20 port 4242', '# not a comment in the journal', 'missed']);
    await journald.log('sshd', ['Accepted publickey for deploy from 192.0.2.30 port 22 ssh2']);
    await journald.log('fleetban-other', ['Failed password for root from 203.0.113.40 port 22 ssh2']);
    for (let i = 0; i < 100 && (await entryCount(journald.directory)) < 7; i++) await new Promise((r) => setTimeout(r, 50));
    const filterDir = join(dir.path, 'filter.d');
    mkdirSync(filterDir);
    // sshd as it is, matched by the identifier systemd-cat gives: sshd's own journalmatch names the unit and the command.
    ownFilter = join(filterDir, 'sshd-journal.conf');
    const sshd = join(fail2banPackage()?.filterDir ?? '/etc/fail2ban/filter.d', 'sshd.conf');
    writeFileSync(ownFilter, `[INCLUDES]\nbefore = ${sshd}\n\n[Definition]\njournalmatch = SYSLOG_IDENTIFIER=sshd\n`);
    twoLineFilter = join(filterDir, 'sshd-two.conf');
    writeFileSync(twoLineFilter, `[INCLUDES]\nbefore = ${sshd}\n\n[Definition]\njournalmatch = SYSLOG_IDENTIFIER=sshd\n               SYSLOG_IDENTIFIER=fleetban-other\n`);
  });
  after(async () => {
    await journald?.stop();
    dir?.remove();
  });

  test('-m selects the entries and -o ip prints their addresses in journal order', { skip }, async () => {
    const run = await cli('regex', '-o', 'ip', log, 'sshd', '-m', 'SYSLOG_IDENTIFIER=sshd');
    assert.equal(run.code, 0, run.stderr);
    // The second failure shares the first's connection (one PID, sshd's F-MLFID), so it keeps its address.
    assert.deepEqual(run.stdout.split('\n').filter(Boolean), ['192.0.2.10', '192.0.2.10', '198.51.100.20']);
  });

  test('the report names the journal and the match, and counts only the entries the match selects', { skip }, async () => {
    const run = await cli('regex', '--print-all-missed', log, 'sshd', '-m', 'SYSLOG_IDENTIFIER=sshd');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Use {9}systemd journal$/m);
    assert.match(run.stdout, /^Use {4}journal match : SYSLOG_IDENTIFIER=sshd$/m);
    // The accepted login (its own connection, no failure before it) counts as ignored, as in fail2ban.
    assert.match(run.stdout, /^Lines: 6 lines, 1 ignored, 3 matched, 2 missed$/m);
    // Missed lines show the entry's date before the line fail2ban builds: host, identifier[pid], message.
    assert.match(run.stdout, /^\|  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?[+-]\d\d:\d\d \S+ sshd\[\d+\]: # not a comment in the journal$/m);
  });

  test('without -m the filter\'s journalmatch selects the entries', { skip }, async () => {
    const own = await cli('regex', '-o', 'ip', log, ownFilter);
    assert.equal(own.code, 0, own.stderr);
    assert.deepEqual(own.stdout.split('\n').filter(Boolean), ['192.0.2.10', '192.0.2.10', '198.51.100.20']);
    // Stock sshd matches its unit or its command: systemd-cat's entries are neither.
    const stock = await cli('regex', log, 'sshd');
    assert.match(stock.stdout, /^Use {4}journal match : _SYSTEMD_UNIT=sshd\.service \+ _COMM=sshd$/m);
    assert.match(stock.stdout, /^Lines: 0 lines, 0 ignored, 0 matched, 0 missed$/m);
    // An empty -m matches every entry.
    const all = await cli('regex', '-o', 'ip', log, 'sshd', '-m', '');
    assert.ok(all.stdout.split('\n').includes('192.0.2.10'), all.stdout);
  });

  test('a journal journalctl cannot open is an error naming journalctl', { skip }, async () => {
    const run = await cli('regex', `systemd-journal[journalpath=${join(dir.path, 'none')}]`, 'sshd');
    assert.equal(run.code, 69);
    assert.match(run.stderr, /^ERROR: journalctl .*--directory=/m);
    const bad = await cli('regex', log, 'sshd', '-m', 'not-a-match');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a journal match/);
  });

  test('fleetban regex prints what fail2ban-regex prints reading the same journal', { skip: compareSkip }, async () => {
    const runs: string[][] = [
      [log, 'sshd', '-m', 'SYSLOG_IDENTIFIER=sshd'],
      ['--print-all-matched', '--print-all-missed', log, 'sshd[mode=aggressive]', '-m', 'SYSLOG_IDENTIFIER=sshd + SYSLOG_IDENTIFIER=fleetban-other'],
      [log, 'sshd'],
      [log, ownFilter],
      ['--print-all-missed', log, twoLineFilter],
      ['-o', 'ip', log, 'sshd', '-m', ''],
      ['-o', 'row', log, 'sshd', '-m', 'SYSLOG_IDENTIFIER=sshd'],
      ['-o', 'msg', log, 'sshd', '-m', 'SYSLOG_IDENTIFIER=sshd'],
      ['-o', '<time> <ip> <F-USER> <F-MLFID>', log, ownFilter],
      ['-o', 'ip', log, '^\\S+ \\S+: Failed password for \\S+ from <HOST>', '-m', 'SYSLOG_IDENTIFIER=fleetban-other'],
    ];
    for (const args of runs) {
      const theirs = await runFail2banRegex(args);
      const ours = await cli('regex', '-c', fail2banPackage()!.configDir, ...args);
      assert.equal(theirs.code, 0, theirs.stdout + theirs.stderr);
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(comparable(ours.stdout), comparable(theirs.stdout), args.join(' '));
    }
  });
});
