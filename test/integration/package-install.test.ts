import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, NatsServer, startTracked, stopProcess, tempDir, waitForOutput } from '../harness/index.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
/** Packages that would mean the installed fleetban still depends on TypeScript tooling. */
const TOOLING = ['tsx', 'typescript', 'esbuild', '@esbuild', '@typescript', 'ts-node', '@types'];

/** Every folder name under a node_modules anywhere below `dir`. */
function installedPackages(dir: string, out = new Set<string>()): Set<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (dir.endsWith('node_modules')) out.add(entry.name);
    installedPackages(path, out);
  }
  return out;
}

describe('the npm package, installed with only Node and npm', () => {
  const dir = tempDir('fleetban-package');
  const prefix = join(dir.path, 'prefix');
  let fleetban = '';
  let nats: NatsServer;
  /** Only the prefix's bin and Node itself on PATH: no checkout, no node_modules/.bin. */
  const env = () => ({ PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir.path, TMPDIR: dir.path });

  before(async () => {
    // `npm pack` runs prepack (the build when stale) and writes the tarball's name last.
    const packed = await run('npm', ['pack', '--pack-destination', dir.path, '--loglevel=error'], { cwd: ROOT, maxBuffer: 16 << 20 });
    const tarball = join(dir.path, packed.stdout.trim().split('\n').at(-1)!);
    // The npm cache holds the dependencies from set-up (npm ci), so no download is needed.
    await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], {
      cwd: dir.path,
      env: { ...process.env, npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? dir.path, '.npm') },
      maxBuffer: 16 << 20,
    });
    fleetban = join(prefix, 'bin', 'fleetban');
    nats = await NatsServer.start();
  });

  after(async () => {
    await nats?.dispose();
    dir.remove();
  });

  test('installs the fleetban command and no TypeScript tooling', () => {
    assert.ok(existsSync(fleetban), `${fleetban} after npm install -g`);
    const found = [...installedPackages(join(prefix, 'lib', 'node_modules'))].filter((p) => TOOLING.includes(p));
    assert.deepEqual(found, [], `TypeScript tooling in the installed package: ${found.join(', ')}`);
    assert.notEqual(fleetban, BIN);
  });

  test('fleetban --help lists the commands and parts', async () => {
    const { stdout } = await run(fleetban, ['--help'], { env: env(), cwd: dir.path });
    for (const name of ['ban', 'banned', 'regex', 'shipper', 'scorer', 'enforcer']) assert.match(stdout, new RegExp(`^  ${name} `, 'm'));
  });

  test('fleetban regex finds the failures in a sample log', async () => {
    const log = join(dir.path, 'auth.log');
    writeFileSync(log, [
      'Jan  5 10:00:00 web-1 sshd[1]: Failed password for invalid user admin from 192.0.2.10 port 4022 ssh2',
      'Jan  5 10:00:01 web-1 sshd[1]: Accepted publickey for deploy from 198.51.100.1 port 4023 ssh2',
      'Jan  5 10:00:02 web-1 sshd[1]: Failed password for root from 203.0.113.5 port 4024 ssh2',
    ].join('\n') + '\n');
    const filter = join(ROOT, 'test', 'fixtures', 'filters', 'fleetban-test.conf');
    const { stdout } = await run(fleetban, ['regex', '-o', 'ip', log, filter], { env: env(), cwd: dir.path });
    assert.deepEqual(stdout.trim().split('\n'), ['192.0.2.10', '203.0.113.5']);
  });

  test('the enforcer runs from the prefix (dry-run backend) and applies a ban published by the installed CLI', async () => {
    const config = join(dir.path, 'enforcer.yaml');
    writeFileSync(config, [
      `nats: { servers: ["${nats.url}"] }`,
      'log: { level: info }',
      'jails: { sshd: { port: ssh } }',
      'enforcer: { backend: dry-run, batchDelayMs: 5 }',
    ].join('\n') + '\n');
    const enforcer = startTracked(fleetban, ['enforcer', '--config', config], { env: env(), cwd: dir.path });
    try {
      await waitForOutput(enforcer, /fleetban enforcer running/, 60_000, 'installed fleetban enforcer');
      const ban = await run(fleetban, ['ban', '198.51.100.77', '--jail', 'sshd', '--for', '1h', '--config', config], { env: env(), cwd: dir.path });
      assert.match(ban.stdout + ban.stderr, /198\.51\.100\.77/);
      await waitForOutput(enforcer, /dry-run: would add.*198\.51\.100\.77|198\.51\.100\.77.*dry-run: would add/, 30_000, 'the ban in the dry-run backend');
    } finally {
      await stopProcess(enforcer.child, 'SIGTERM');
    }
    assert.equal(enforcer.child.exitCode, 0, enforcer.output().slice(-2000));
  });
});
