import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseDocument } from 'yaml';
import {
  BIN,
  binFleetban,
  fail2banSkipReason,
  freePort,
  NatsServer,
  netnsSkipReason,
  RedisServer,
  startTracked,
  stopProcess,
  tempDir,
  waitForOutput,
  type Started,
} from '../harness/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DEMO = join(ROOT, 'infra', 'demo');
const ATTACKER = '203.0.113.7';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every PID `fleetban up` reported: the servers it started and the three parts. */
function reportedPids(output: string): Map<string, number> {
  const pids = new Map<string, number>();
  for (const m of output.matchAll(/(nats-server|redis-server) \(pid (\d+)\)/g)) pids.set(m[1]!, Number(m[2]));
  const parts = /pids: ([^)]*)\)/.exec(output)?.[1] ?? '';
  for (const m of parts.matchAll(/(scorer|enforcer|shipper) (\d+)/g)) pids.set(m[1]!, Number(m[2]));
  return pids;
}

/**
 * `fleetban up` run the way `npm start` runs it (infra/demo/start.sh): the
 * demo configuration, with only its ports, paths and namespace name moved
 * so that it cannot meet a real demo or another test.
 */
describe('fleetban up: the single-host stack', () => {
  const dir = tempDir('fleetban-up');
  const started: Started[] = [];
  const leftovers = new Set<number>();
  after(async () => {
    for (const s of started) await stopProcess(s.child, 'SIGKILL');
    // Servers are children of fleetban up; if a failed test killed it, they are stopped here by their PIDs.
    for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    dir.remove();
  });

  /** The demo config with `changes` applied (key paths as arrays). */
  function demoConfig(name: string, changes: Array<[Array<string>, unknown]>): string {
    const doc = parseDocument(readFileSync(join(DEMO, 'fleetban.yaml'), 'utf8'));
    for (const [path, value] of changes) {
      if (value === undefined) doc.deleteIn(path);
      else doc.setIn(path, value);
    }
    const file = join(dir.path, `${name}.yaml`);
    writeFileSync(file, doc.toString());
    return file;
  }

  function up(args: string[]): Started {
    const s = startTracked(BIN, ['up', ...args], { cwd: ROOT });
    started.push(s);
    return s;
  }

  const appendFailures = (log: string) => execFileSync('bash', [join(DEMO, 'fail.sh'), ATTACKER, '3', log], { encoding: 'utf8' });

  test(
    'on the demo configuration it starts NATS, Redis and every part, bans after failure lines are appended, and Ctrl-C leaves no process or namespace behind',
    { skip: netnsSkipReason() ?? fail2banSkipReason() },
    async () => {
      const log = join(dir.path, 'auth.log');
      writeFileSync(log, '');
      const netns = `fbt-${process.pid}-updemo`;
      const config = demoConfig('demo', [
        [['nats', 'servers'], `nats://127.0.0.1:${await freePort()}`],
        [['redis', 'nodes'], `127.0.0.1:${await freePort()}`],
        [['stateDir'], join(dir.path, 'state')],
        [['jails', 'sshd', 'logpath'], log],
        [['enforcer', 'netns'], netns],
      ]);
      const stack = up(['--config', config]);
      await waitForOutput(stack, /fleetban is running on this host/, 120_000, 'fleetban up');
      const pids = reportedPids(stack.output());
      for (const pid of pids.values()) leftovers.add(pid);
      assert.deepEqual([...pids.keys()].sort(), ['enforcer', 'nats-server', 'redis-server', 'scorer', 'shipper']);
      assert.match(stack.output(), new RegExp(`enforcer: nftables in network namespace ${netns}`));
      assert.match(stack.output(), /\.\/bin\/fleetban banned --config /, 'it says what to type next');

      assert.match(appendFailures(log), /appended 3 failures from 203\.0\.113\.7/);
      await until('the ban', async () => (await binFleetban(['banned', ATTACKER, '--config', config])).code === 0);
      const banned = await binFleetban(['banned', '--json', '--config', config]);
      const [ban] = (JSON.parse(banned.stdout) as { bans: Array<{ jail: string; target: string; origin: string; reason: string }> }).bans;
      assert.deepEqual([ban!.jail, ban!.target, ban!.origin, ban!.reason], ['sshd', ATTACKER, 'scorer', '3 failures within 10m']);
      await until('the address in the kernel set of the namespace', () => execFileSync('ip', ['netns', 'exec', netns, 'nft', 'list', 'ruleset'], { encoding: 'utf8' }).includes(ATTACKER));

      process.kill(stack.child.pid!, 'SIGINT');
      await until('fleetban up to exit', () => stack.child.exitCode !== null, 60_000);
      assert.equal(stack.child.exitCode, 0, stack.output());
      for (const [name, pid] of pids) assert.equal(alive(pid), false, `${name} (pid ${pid}) is gone`);
      assert.doesNotMatch(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), new RegExp(netns), 'the namespace it created is gone');
    },
  );

  test('with servers named in the config it starts none and uses them; --dry-run changes no firewall; killed outright, it leaves no part behind', async () => {
    const [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
    try {
      const log = join(dir.path, 'external.log');
      writeFileSync(log, '');
      const config = demoConfig('external', [
        [['nats', 'servers'], nats.url],
        [['redis', 'nodes'], redis.node],
        [['up'], undefined],
        [['stateDir'], join(dir.path, 'state-external')],
        [['filters', 'dirs'], [join(ROOT, 'test', 'fixtures', 'filters')]],
        [['jails', 'sshd', 'filter'], 'fleetban-test'],
        [['jails', 'sshd', 'logpath'], log],
      ]);
      const stack = up(['--config', config, '--dry-run']);
      await waitForOutput(stack, /fleetban is running on this host/, 120_000, 'fleetban up');
      const pids = reportedPids(stack.output());
      assert.deepEqual([...pids.keys()].sort(), ['enforcer', 'scorer', 'shipper'], 'no server of its own');
      assert.match(stack.output(), /enforcer: dry-run backend/);

      appendFailures(log);
      await until('the ban', async () => (await binFleetban(['banned', ATTACKER, '--config', config])).code === 0);
      await until('the enforcer to hold the ban in its dry-run backend', async () => {
        const r = await binFleetban(['services', '--json', '--config', config]);
        const enforcer = r.code === 0 ? (JSON.parse(r.stdout) as Array<{ part: string; stats: { kernel?: Record<string, number> } }>).find((s) => s.part === 'enforcer') : undefined;
        return enforcer?.stats.kernel?.['dry-run/sshd'] === 1;
      });

      process.kill(stack.child.pid!, 'SIGKILL');
      await until('every part to stop once its supervisor is gone', () => [...pids.values()].every((pid) => !alive(pid)), 60_000);
    } finally {
      await Promise.all([nats.dispose(), redis.dispose()]);
    }
  });
});
