import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StatusResponse } from '../../shared/schema/index.ts';
import { eventually, failure, ScorerStack } from '../fixtures/scorer/stack.ts';
import { BIN, cli, startTracked, stopProcess, waitForOutput, type Started } from '../harness/index.ts';

/**
 * status and services against a real scorer (in this process, on a real
 * nats-server and redis-server) and a real `./bin/fleetban enforcer`.
 */
describe('fleetban status and services on a running fleet', () => {
  let stack: ScorerStack;
  let scorer: { stop(): Promise<number> } | undefined;
  let enforcer: Started | undefined;
  const run = (...args: string[]) => cli(...args, '--config', stack.configFile);

  before(async () => {
    stack = await ScorerStack.start({
      host: 'core-1',
      jails: { sshd: { maxretry: 3, findtime: '10m', bantime: '10m' }, web: { maxretry: 5 } },
      enforcer: { backend: 'dry-run' },
    });
  });
  after(async () => {
    await scorer?.stop();
    if (enforcer) await stopProcess(enforcer.child);
    await stack.dispose();
  });

  test('without a scorer, status exits 69 and points to banned, which needs none', async () => {
    const r = await run('status');
    assert.equal(r.code, 69);
    assert.match(r.stderr, /no scorer is running \(asked fleetban\.svc\.scorer\.status\); `fleetban banned` works without scorers/);
  });

  test("status prints the scorer's fleet-wide figures in fail2ban-client's layout, and --json prints the status contract", async () => {
    scorer = stack.runInProcess();
    await stack.streamsReady();
    await stack.publish([failure({ ip: '203.0.113.7', host: 'web-1' }), failure({ ip: '203.0.113.7', host: 'web-2' }), failure({ ip: '203.0.113.7', host: 'web-1' }), failure({ ip: '203.0.113.8', host: 'web-2' })]);
    await eventually('the ban', async () => (await stack.status({ jail: 'sshd' })).jails[0]!.currentlyBanned === 1);
    assert.equal((await cli('ban', '198.51.100.9', '--config', stack.configFile, '--jail', 'sshd')).code, 0);
    await eventually('the manual ban mirrored and every failure counted', async () => {
      const sshd = (await stack.status({ jail: 'sshd' })).jails[0]!;
      return sshd.currentlyBanned === 2 && sshd.totalFailed === 4 && sshd.currentlyFailed === 1;
    });

    const overview = await run('status');
    assert.equal(overview.code, 0, overview.stderr);
    assert.equal(overview.stdout, 'Status\n|- Number of jail:\t2\n`- Jail list:\tsshd, web\n');

    const sshd = await run('status', 'sshd');
    assert.equal(sshd.code, 0, sshd.stderr);
    assert.match(
      sshd.stdout,
      /^Status for the jail: sshd\n\|- Filter\n\|  \|- Currently failed:\t1\n\|  `- Total failed:\t4\n`- Actions\n   \|- Currently banned:\t2\n   \|- Total banned:\t2\n   `- Banned IP list:\t(203\.0\.113\.7 198\.51\.100\.9|198\.51\.100\.9 203\.0\.113\.7)\n$/,
    );

    const json = await run('status', 'sshd', '--json');
    assert.equal(json.code, 0, json.stderr);
    const reply = JSON.parse(json.stdout) as StatusResponse;
    assert.equal(reply.v, 1);
    assert.equal(reply.host, 'core-1');
    assert.deepEqual(reply.jails.map((j) => j.jail), ['sshd']);
    const byTarget = Object.fromEntries(reply.jails[0]!.banned.map((b) => [b.target, b]));
    assert.equal(byTarget['203.0.113.7']!.origin, 'scorer');
    assert.equal(byTarget['203.0.113.7']!.reason, '3 failures within 10m');
    assert.equal(byTarget['198.51.100.9']!.origin, 'manual');
    assert.match(byTarget['198.51.100.9']!.by ?? '', /@core-1$/);
  });

  test('status for a jail no scorer knows exits 1 with the known jails', async () => {
    const r = await run('status', 'nginx');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no jail "nginx" \(known: sshd, web\)/);
  });

  test('services lists each part that answers the service API with its host, version, uptime and figures', async () => {
    enforcer = startTracked(BIN, ['enforcer', '--config', stack.configFile]);
    await waitForOutput(enforcer, /fleetban enforcer running/, 60_000, 'fleetban enforcer');
    const text = await run('services');
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n').filter(Boolean);
    assert.match(lines[0]!, /^PART +HOST +VERSION +UPTIME +ID +STATS$/);
    assert.match(lines[1]!, /^scorer +core-1 +\d+\.\d+\.\d+ +\d+[smh]\S* +\S+ +redis up, jails 2, failures 4, bans 1, in flight 0$/);
    assert.match(lines[2]!, /^enforcer +core-1 +\d+\.\d+\.\d+ +\d+[smh]\S* +\S+ +live, active bans 2, kernel entries 2, stream seq 2$/);
    assert.equal(lines.length, 3);

    const json = JSON.parse((await run('services', '--json')).stdout) as Array<{ part: string; host: string; uptimeMs: number; stats: Record<string, unknown> }>;
    assert.deepEqual(json.map((s) => [s.part, s.host]), [['scorer', 'core-1'], ['enforcer', 'core-1']]);
    assert.equal(json[1]!.stats.phase, 'live');
    assert.ok(json.every((s) => s.uptimeMs > 0));
  });

  test('services exits 1 when nothing answers', async () => {
    await scorer?.stop();
    scorer = undefined;
    await stopProcess(enforcer!.child);
    enforcer = undefined;
    const r = await run('services', '--wait', '300');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'no fleetban service answered\n');
  });
});
