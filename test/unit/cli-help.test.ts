import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cli } from '../harness/index.ts';

describe('fleetban commands: help and usage errors', () => {
  test('every command answers --help with its options and exits 0', async () => {
    const expected: Record<string, RegExp[]> = {
      ban: [/--jail <name>/, /--for <duration>/, /--reason <text>/, /--config <file>/, /--json/],
      unban: [/--jail <name>/, /--all/, /--json/],
      banned: [/\[target\]/, /--json/],
      status: [/\[jail\]/, /--timeout <ms>/, /--json/],
      services: [/--wait <ms>/, /--json/],
      up: [/--config <file>/, /--dry-run/],
      streams: [/--apply/, /--json/],
      regex: [/-o, --out <token>/, /--print-all-matched/, /--print-all-missed/, /-d, --datepattern <pattern>/, /-m, --journalmatch <match>/, /-L, --maxlines <n>/, /--json/],
      'config check': [/--json/],
      shipper: [/--config <file>/, /--check-config/],
      scorer: [/--config <file>/, /--check-config/],
      enforcer: [/--config <file>/, /--check-config/],
      'enforcer setup': [/--backend <name>/, /--print/, /--user <name>/],
    };
    for (const [command, patterns] of Object.entries(expected)) {
      const r = await cli(...command.split(' '), '--help');
      assert.equal(r.code, 0, command);
      for (const p of patterns) assert.match(r.stdout, p, `${command} --help`);
    }
    const top = await cli('--help');
    for (const command of Object.keys(expected)) assert.match(top.stdout, new RegExp(`^  ${command.split(' ')[0]} `, 'm'));
  });

  test('bad arguments exit 2 before anything connects', async () => {
    for (const args of [['ban'], ['ban', '192.0.2.7', '--bogus'], ['status', '--timeout', 'soon'], ['services', '--wait', '0'], ['status', 'no.dots'], ['banned', 'not-an-ip']]) {
      const r = await cli(...args, '--config', '/nonexistent/never-read.yaml');
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  test('a config file that does not load exits 78 and names the file', async () => {
    const r = await cli('banned', '--config', '/nonexistent/fleetban.yaml');
    assert.equal(r.code, 78);
    assert.match(r.stderr, /\/nonexistent\/fleetban\.yaml: cannot read/);
  });
});
