import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { listsOf } from '../../services/enforcer/backends/xt_recent/plan.ts';
import { BIN, edgeAndAttacker, netnsSkipReason, SecureFleet, stopProcess, tcpConnect, tcpListener, waitForOutput, type ConnectOutcome, type EdgeAndAttacker, type Started } from '../harness/index.ts';

const PORT = 8080;
const NOBODY = { uid: 65534, gid: 65534 };

/** `setpriv` arguments that turn a root process into `nobody` with no capability left, and no way to get one back. */
const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];

function skipReason(): string | undefined {
  const ns = netnsSkipReason();
  if (ns) return ns;
  if (!/^nobody:[^:]*:65534:65534:/m.test(readFileSync('/etc/passwd', 'utf8'))) return 'needs the nobody user (uid 65534) to run the enforcer unprivileged';
  return undefined;
}

/** `fleetban ARGS` with the CLI's credentials, from inside the namespace (where NATS is), as an operator on the edge host. */
async function asOperator(net: EdgeAndAttacker, configFile: string, ...args: string[]): Promise<void> {
  const r = await net.edge.exec(BIN, [...args, '--config', configFile], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `fleetban ${args.join(' ')}: ${r.stdout}${r.stderr}`);
}

describe('the enforcer runs unprivileged: xt_recent with no capability after `fleetban enforcer setup --user`, nftables with CAP_NET_ADMIN alone', { skip: skipReason() }, () => {
  let net: EdgeAndAttacker;
  let fleet: SecureFleet;
  let listener: { stop(): Promise<void> };
  let enforcer: Started | undefined;
  let nftEnforcer: Started | undefined;
  let enforcerConfig: string;
  let nftConfig: string;
  let cliConfig: string;

  before(async () => {
    net = await edgeAndAttacker();
    listener = await tcpListener(net.edge, [PORT]);
    // NATS on the edge namespace's own loopback: the enforcer inside it reaches NATS as it would on a real host.
    fleet = await SecureFleet.create({ netns: net.edge });
    await fleet.startNats();
    const settings = {
      host: 'edge-1',
      log: { level: 'info' },
      jails: { web: { port: String(PORT), filter: 'sshd', blocktype: 'drop' } },
      enforcer: { backend: 'xt_recent', table: 'fbu', batchDelayMs: 5, xtRecent: { lists: ['1m', '1h'], listSize: 100 } },
    };
    enforcerConfig = fleet.writeConfig('enforcer', settings);
    nftConfig = fleet.writeConfig('enforcer', { ...settings, enforcer: { backend: 'nftables', table: 'fbn', batchDelayMs: 5 } }, 'enforcer-nft');
    cliConfig = fleet.writeConfig('cli', { host: 'ops-1' });
    // The enforcer's user may read its own configuration and credentials, nothing else of the fleet's.
    const bundle = fleet.identity('enforcer').dir;
    for (const dir of [fleet.dir.path, join(fleet.dir.path, 'keys')]) chmodSync(dir, 0o711);
    for (const file of [bundle, ...readdirSync(bundle).map((f) => join(bundle, f)), enforcerConfig, nftConfig]) chownSync(file, NOBODY.uid, NOBODY.gid);
    mkdirSync(join(fleet.dir.path, 'tmp-nobody'), { mode: 0o700 });
    chownSync(join(fleet.dir.path, 'tmp-nobody'), NOBODY.uid, NOBODY.gid);
  });

  after(async () => {
    if (enforcer) await stopProcess(enforcer.child);
    if (nftEnforcer) await stopProcess(nftEnforcer.child);
    await fleet?.dispose();
    await listener?.stop();
    await net?.remove();
  });

  const lists = async (): Promise<string[]> => (await net.edge.ok('ls', ['/proc/net/xt_recent'])).split('\n').filter(Boolean);
  const connect = (from: string): Promise<ConnectOutcome> => tcpConnect(net.attacker, from, net.edgeV4, PORT, 500);
  async function until(what: string, check: () => Promise<boolean>, part = enforcer): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}\n${part?.output().slice(-3000) ?? ''}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  test('setup, as root, puts the rules in place and hands the lists to the user alone', async () => {
    const r = await net.edge.exec(BIN, ['enforcer', 'setup', '--config', enforcerConfig, '--backend', 'xt_recent', '--user', 'nobody'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const listed = await lists();
    // Two sets (jail web, and the one for jails this host does not define), two families, 1m, 1h and permanent.
    assert.equal(listed.length, 12, `lists: ${listed.join(' ')}`);
    for (const list of listsOf('fbu', 'web', [60_000, 3_600_000], 4)) assert.ok(listed.includes(list.name), list.name);
    for (const list of listed) {
      assert.equal((await net.edge.ok('stat', ['-c', '%U %a', `/proc/net/xt_recent/${list}`])).trim(), 'nobody 644', list);
    }
    // Another unprivileged user cannot write them.
    const write = `require('node:fs').writeFileSync('/proc/net/xt_recent/${listed[0]}', '+192.0.2.12')`;
    const other = await net.edge.exec('setpriv', ['--reuid=65533', '--regid=65533', '--clear-groups', '--', process.execPath, '-e', write]);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /EACCES|permission denied/i);
  });

  test('the enforcer as nobody, with no capability, bans and unbans an address: its packets are dropped, then pass again', async () => {
    // No scorer runs here: the operator creates the streams.
    await asOperator(net, cliConfig, 'streams', '--apply');
    const env = { ...process.env, TMPDIR: join(fleet.dir.path, 'tmp-nobody'), HOME: '/nonexistent' };
    enforcer = net.edge.spawn('setpriv', [...AS_NOBODY, process.execPath, BIN, 'enforcer', '--config', enforcerConfig], env);
    await waitForOutput(enforcer, /fleetban enforcer running/, 90_000, 'unprivileged enforcer');

    // What the kernel says about the process: nobody, no capability in any set, no way to gain one.
    const status = readFileSync(`/proc/${enforcer.child.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.match(status, new RegExp(`^${set}:\\s+0{16}$`, 'm'), set);
    assert.match(status, /^NoNewPrivs:\s+1$/m);

    const [banned, other] = net.attackerV4;
    assert.equal(await connect(banned!), 'connected');
    await asOperator(net, cliConfig, 'ban', banned!, '--jail', 'web', '--for', '10m');
    await until(`${banned} to be blocked`, async () => (await connect(banned!)) !== 'connected');
    assert.equal(await connect(banned!), 'timeout', 'dropped: no answer at all');
    assert.equal(await connect(other!), 'connected', 'another address still gets through');
    const entries = await Promise.all((await lists()).map((list) => net.edge.ok('cat', [`/proc/net/xt_recent/${list}`])));
    assert.equal(entries.join('').match(new RegExp(`src=${banned!.replaceAll('.', '\\.')} `, 'g'))?.length, 1, 'in exactly one list');

    await asOperator(net, cliConfig, 'unban', banned!, '--jail', 'web');
    await until(`${banned} to pass again`, async () => (await connect(banned!)) === 'connected');
  });

  test('the nftables enforcer as nobody with CAP_NET_ADMIN alone, as fleetban-enforcer.service runs it, bans an address', async () => {
    const env = { ...process.env, TMPDIR: join(fleet.dir.path, 'tmp-nobody'), HOME: '/nonexistent' };
    const caps = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all,+net_admin', '--ambient-caps=+net_admin', '--bounding-set=-all,+net_admin', '--no-new-privs', '--'];
    nftEnforcer = net.edge.spawn('setpriv', [...caps, process.execPath, BIN, 'enforcer', '--config', nftConfig], env);
    await waitForOutput(nftEnforcer, /fleetban enforcer running/, 90_000, 'enforcer with CAP_NET_ADMIN');
    const status = readFileSync(`/proc/${nftEnforcer.child.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    // Bit 12: CAP_NET_ADMIN, and nothing else.
    for (const set of ['CapEff', 'CapBnd', 'CapAmb']) assert.match(status, new RegExp(`^${set}:\\s+0000000000001000$`, 'm'), set);

    const banned = net.attackerV4[2]!;
    await asOperator(net, cliConfig, 'ban', banned, '--jail', 'web', '--for', '10m');
    await until(`${banned} to be blocked`, async () => (await connect(banned)) !== 'connected', nftEnforcer);
    assert.match(await net.edge.ok('nft', ['list', 'table', 'inet', 'fbn']), new RegExp(banned.replaceAll('.', '\\.')));
  });
});
