import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cli, tempDir } from '../harness/index.ts';

// A namespace that does not exist: should a command run instead of printing, it fails instead of touching any firewall.
const dir = tempDir();
after(() => dir.remove());
function config(text: string): string {
  const file = join(dir.path, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `enforcer: { netns: fbt-absent-namespace, table: fbcli, ${text} }\njails: { sshd: { port: ssh }, web: { port: "80,443", banaction: ipset } }\n`);
  return file;
}

describe('fleetban enforcer setup and teardown', () => {
  test('--print shows each backend\'s commands for the jails that use it, and runs nothing', async () => {
    const r = await cli('enforcer', 'setup', '--config', config('backend: nftables'), '--print');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^# setup nftables: sshd, \(other jails\)$/m);
    assert.match(r.stdout, /ip netns exec fbt-absent-namespace nft -f - <<'EOF'\nadd table inet fbcli\n/);
    assert.match(r.stdout, /^# setup ipset: web$/m);
    assert.match(r.stdout, /ipset -exist restore <<'EOF'\ncreate fbcli-web-a4 hash:ip family inet timeout 0 maxelem 65536/);
  });

  test('--backend picks one backend; --user hands the xt_recent lists to a user', async () => {
    const r = await cli('enforcer', 'setup', '--config', config('backend: xt_recent'), '--backend', 'xt_recent', '--user', 'fleetban', '--print');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /ipset/);
    assert.match(r.stdout, /-m recent --name fbcli-sshd-v4-60s --rcheck --seconds 60 -j REJECT/);
    assert.match(r.stdout, /chown fleetban \/proc\/net\/xt_recent\/fbcli-sshd-v6-perm/);
  });

  test('teardown --print removes only what fleetban created', async () => {
    const r = await cli('enforcer', 'teardown', '--config', config('backend: nftables'), '--print');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /nft list table inet fbcli >\/dev\/null 2>&1 && ip netns exec fbt-absent-namespace nft -f - <<'EOF'\ndelete table inet fbcli\nEOF/);
    assert.match(r.stdout, /ipset list -n fbcli-web-a4 >\/dev\/null 2>&1 && ip netns exec fbt-absent-namespace ipset destroy fbcli-web-a4/);
  });

  test('usage errors exit 2 and name the problem; a bad config exits 78', async () => {
    const unknown = await cli('enforcer', 'setup', '--config', config(''), '--backend', 'pf', '--print');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown backend "pf"/);
    const unused = await cli('enforcer', 'setup', '--config', config(''), '--backend', 'iptables', '--print');
    assert.equal(unused.code, 2);
    assert.match(unused.stderr, /no enforced jail uses the iptables backend/);
    const user = await cli('enforcer', 'setup', '--config', config(''), '--user', 'x', '--print');
    assert.equal(user.code, 2);
    assert.match(user.stderr, /--user is for the xt_recent backend/);
    const file = join(dir.path, 'bad.yaml');
    writeFileSync(file, 'enforcer:\n  backend: pf\n');
    const bad = await cli('enforcer', 'setup', '--config', file);
    assert.equal(bad.code, 78);
    assert.match(bad.stderr, /bad\.yaml:2: enforcer\.backend/);
  });

  test('a firewall that cannot be reached is an error, not a silent success', async () => {
    const r = await cli('enforcer', 'setup', '--config', config('backend: nftables'), '--backend', 'nftables');
    assert.equal(r.code, 70);
    assert.match(r.stderr, /fbt-absent-namespace/);
  });

  test('the enforcer command lists its set-up and tear-down', async () => {
    const r = await cli('enforcer', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /setup \[options\]/);
    assert.match(r.stdout, /teardown \[options\]/);
    assert.match(r.stdout, /--config <file>/);
  });
});
