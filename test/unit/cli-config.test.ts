import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { binFleetban, cli } from '../harness/index.ts';

const fixture = (name: string) => join(import.meta.dirname, '..', 'fixtures', 'config', name);

describe('fleetban config check', () => {
  test('prints the resolved configuration with defaults filled in and secrets masked', async () => {
    const r = await cli('config', 'check', fixture('ok-full.yaml'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /maxretry: 3/);
    assert.match(r.stdout, /findtime: 1d12h/);
    assert.match(r.stdout, /dbpurgeage: 1d/);
    assert.match(r.stdout, /password: "\*\*\*"/);
    assert.doesNotMatch(r.stdout, /s3cret/);
  });

  test('--json prints data a script can read', async () => {
    const r = await cli('config', 'check', '--json', fixture('ok-full.yaml'));
    const config = JSON.parse(r.stdout) as { jails: Record<string, { maxretry: number; bantime: number; filter: string }> };
    assert.equal(config.jails.sshd!.maxretry, 3);
    assert.equal(config.jails.sshd!.filter, 'sshd[mode=aggressive]');
    assert.equal(config.jails['nginx-http-auth']!.bantime, -1);
    assert.equal(config.jails.recidive!.maxretry, 5);
  });

  test('lists every error with file, line and key, and exits 78', async () => {
    const r = await cli('config', 'check', fixture('many-errors.yaml'));
    assert.equal(r.code, 78);
    assert.match(r.stderr, /many-errors\.yaml:4: log\.level: expected one of/);
    assert.match(r.stderr, /many-errors\.yaml:7: jails\.sshd\.bantime: cannot read duration "soon"/);
    assert.match(r.stderr, /2 errors in /);
    assert.equal(r.stdout, '');
  });

  test('a missing file is an error that names the file', async () => {
    const r = await cli('config', 'check', '/nonexistent/fleetban.yaml');
    assert.equal(r.code, 78);
    assert.match(r.stderr, /\/nonexistent\/fleetban\.yaml: cannot read/);
  });

  test('an unknown command is a usage error', async () => {
    const r = await cli('frobnicate');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
  });

  test('the checkout runs ./bin/fleetban with no build step', async () => {
    const r = await binFleetban(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
    const bad = await binFleetban(['config', 'check', fixture('bad-port.yaml')]);
    assert.equal(bad.code, 78);
  });
});
