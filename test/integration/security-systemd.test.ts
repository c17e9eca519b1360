import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, tempDir } from '../harness/index.ts';

const run = promisify(execFile);
const UNITS_DIR = join(import.meta.dirname, '..', '..', 'infra', 'systemd');
const INSTALLED = '/usr/local/bin/fleetban';
/** The exposure `systemd-analyze security` may report at most for any fleetban unit ("OK" goes up to 4.9). */
const MAX_EXPOSURE = 2.0;

function skipReason(): string | undefined {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'systemd-analyze is not installed';
  }
}

/** A unit's settings: key → every value it is given, in order. */
function settings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

const UNITS = readdirSync(UNITS_DIR).filter((f) => f.endsWith('.service')).sort();

/** What each unit must say, beyond the hardening every unit shares. */
const EXPECTED: Record<string, { user: string; capabilities: string; writable: string[] }> = {
  'fleetban-shipper.service': { user: 'fleetban-shipper', capabilities: '', writable: ['/var/lib/fleetban/shipper'] },
  'fleetban-scorer.service': { user: 'fleetban-scorer', capabilities: '', writable: [] },
  'fleetban-enforcer.service': { user: 'fleetban-enforcer', capabilities: 'CAP_NET_ADMIN', writable: [] },
  'fleetban-enforcer-xtrecent.service': { user: 'fleetban-enforcer', capabilities: '', writable: [] },
};

describe('the systemd units', { skip: skipReason() }, () => {
  const dir = tempDir('fleetban-units');
  after(() => dir.remove());

  /**
   * `verify` checks that ExecStart's program exists; this machine has the
   * checkout, not an installed fleetban, so the copies point at the checkout.
   */
  const local = (unit: string): string => {
    const file = join(dir.path, unit);
    writeFileSync(file, readFileSync(join(UNITS_DIR, unit), 'utf8').replaceAll(INSTALLED, BIN));
    return file;
  };

  test('there is one unit per part, and the xt_recent enforcer has its own', () => {
    assert.deepEqual(UNITS, Object.keys(EXPECTED).sort());
  });

  for (const unit of UNITS) {
    test(`${unit}: systemd-analyze verify finds nothing, and its exposure is at most ${MAX_EXPOSURE}`, async (t) => {
      const verify = await run('systemd-analyze', ['verify', local(unit)]).catch((err: { stdout: string; stderr: string }) => ({ ...err, failed: true }));
      assert.ok(!('failed' in verify), `verify failed: ${verify.stderr}`);
      assert.equal(`${verify.stdout}${verify.stderr}`.trim(), '');
      const security = await run('systemd-analyze', ['security', '--offline=true', local(unit)]);
      const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout)?.[1]);
      t.diagnostic(`${unit}: exposure ${score}`);
      assert.ok(score <= MAX_EXPOSURE, `${unit} exposure ${score}:\n${security.stdout}`);
    });

    test(`${unit}: its own user, exactly its capabilities, the state directory as the only writable path`, () => {
      const s = settings(readFileSync(join(UNITS_DIR, unit), 'utf8'));
      const want = EXPECTED[unit]!;
      assert.deepEqual(s.get('User'), [want.user]);
      assert.deepEqual(s.get('CapabilityBoundingSet'), [want.capabilities]);
      assert.deepEqual(s.get('AmbientCapabilities'), [want.capabilities]);
      assert.deepEqual(s.get('ReadWritePaths') ?? [], want.writable);
      for (const [key, value] of [['ProtectSystem', 'strict'], ['PrivateTmp', 'yes'], ['NoNewPrivileges', 'yes'], ['ProtectHome', 'yes'], ['PrivateDevices', 'yes'], ['ProtectKernelTunables', 'yes'], ['ProtectKernelModules', 'yes'], ['RestrictSUIDSGID', 'yes'], ['UMask', '0077']]) {
        assert.deepEqual(s.get(key!), [value], `${key}=${value}`);
      }
    });
  }

  test('the xt_recent unit prepares the lists as root with a command line fleetban takes', async () => {
    const s = settings(readFileSync(join(UNITS_DIR, 'fleetban-enforcer-xtrecent.service'), 'utf8'));
    const [pre] = s.get('ExecStartPre') ?? [];
    assert.ok(pre?.startsWith(`+${INSTALLED} `), 'run with full privileges ("+")');
    const config = join(dir.path, 'enforcer.yaml');
    writeFileSync(config, 'jails:\n  sshd: { port: ssh, filter: sshd }\nenforcer: { backend: xt_recent }\n');
    const args = pre!.slice(INSTALLED.length + 2).split(' ').map((a) => (a === '/etc/fleetban/enforcer.yaml' ? config : a));
    // --print: only show the commands; nothing is changed.
    const { stdout } = await run(BIN, [...args, '--print']);
    assert.match(stdout, /chown fleetban-enforcer \/proc\/net\/xt_recent\/fleetban-sshd-v4-60s/);
  });

  test('the sysusers file creates one user per part, and lets the shipper read logs', async () => {
    // Into a root of its own: the users and groups land in <root>/etc, never in this host's.
    const root = tempDir('fleetban-sysusers');
    try {
      mkdirSync(join(root.path, 'etc'));
      const lines = readFileSync(join(UNITS_DIR, 'fleetban.sysusers.conf'), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
      await run('systemd-sysusers', [`--root=${root.path}`, '--inline', ...lines]);
      const passwd = readFileSync(join(root.path, 'etc', 'passwd'), 'utf8');
      const group = readFileSync(join(root.path, 'etc', 'group'), 'utf8');
      for (const user of ['fleetban-shipper', 'fleetban-scorer', 'fleetban-enforcer']) assert.match(passwd, new RegExp(`^${user}:x:\\d+:\\d+:[^:]*:/nonexistent:/usr/sbin/nologin$`, 'm'));
      assert.match(group, /^adm:x:\d+:fleetban-shipper$/m);
      assert.match(group, /^systemd-journal:x:\d+:fleetban-shipper$/m);
    } finally {
      root.remove();
    }
  });
});
