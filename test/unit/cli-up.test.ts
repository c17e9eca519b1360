import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { formatChildLine } from '../../services/cli/commands/up/logs.ts';
import { dryRunConfigText, natsEndpoint, planUp, redisEndpoint, writtenKeys, type UpPlan } from '../../services/cli/commands/up/plan.ts';
import { natsServerConfig, redisServerConfig } from '../../services/cli/commands/up/servers.ts';
import { parseConfig } from '../../shared/config/index.ts';

function plan(text: string, options: { dryRun?: boolean } = {}): { plan?: UpPlan; problems?: string[] } {
  const parsed = parseConfig(text, 'up.yaml', { hostname: 'h' });
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('; '));
  const r = planUp(parsed.config, writtenKeys(text), { dryRun: Boolean(options.dryRun), cwd: '/srv/fleet' });
  return r.ok ? { plan: r.plan } : { problems: r.problems };
}

describe('fleetban up: what it starts, from the config', () => {
  test('a file that names no server gets nats-server and redis-server on the default addresses every command uses', () => {
    const { plan: p } = plan('jails: { sshd: {} }\n');
    assert.deepEqual(p!.nats, { listen: { host: '127.0.0.1', port: 4222 }, storeDir: '/var/lib/fleetban/up/nats' });
    assert.deepEqual(p!.redis, { listen: { host: '127.0.0.1', port: 6379 }, dir: '/var/lib/fleetban/up/redis' });
  });

  test('a file that names its servers uses them, unless up: says start', () => {
    const named = 'nats: { servers: nats://127.0.0.1:4322 }\nredis: { nodes: "127.0.0.1:6479" }\n';
    const { plan: external } = plan(named);
    assert.equal(external!.nats, undefined);
    assert.equal(external!.redis, undefined);
    assert.deepEqual(external!.natsServers, ['nats://127.0.0.1:4322']);
    const { plan: started } = plan(`${named}up: { nats: start, redis: start }\nstateDir: state/demo\n`);
    assert.deepEqual(started!.nats?.listen, { host: '127.0.0.1', port: 4322 });
    assert.deepEqual(started!.redis?.listen, { host: '127.0.0.1', port: 6479 });
    assert.equal(started!.upDir, '/srv/fleet/state/demo/up', 'a relative stateDir is under the working directory');
    const { plan: never } = plan('up: { nats: external, redis: external }\n');
    assert.equal(never!.nats, undefined);
    assert.equal(never!.redis, undefined);
  });

  test('a started server takes the auth the parts will use', () => {
    const { plan: p } = plan('nats: { user: fb, password: "s3cret" }\nredis: { password: "r3dis" }\n');
    assert.deepEqual(p!.nats?.auth, { user: 'fb', password: 's3cret' });
    assert.deepEqual(p!.redis?.auth, { password: 'r3dis' });
    assert.deepEqual(plan('nats: { token: tok }\n').plan!.nats?.auth, { token: 'tok' });
  });

  test('servers are started on loopback only, and what a single local server cannot be is refused with the key', () => {
    const { problems } = plan([
      'nats: { servers: "nats://192.0.2.1:4222", credsFile: /etc/x.creds, streams: { decisions: { replicas: 3 } } }',
      'redis: { mode: sentinel, sentinelName: m, nodes: ["127.0.0.1:26379", "127.0.0.1:26380"] }',
      'up: { nats: start, redis: start }',
      '',
    ].join('\n'));
    assert.deepEqual(problems, [
      'nats.servers: "nats://192.0.2.1:4222" is not a loopback address (127.0.0.1 or ::1): fleetban up starts servers on loopback only',
      'nats: a nats-server started by fleetban up takes user/password or token auth, without TLS; run your own and set up.nats: external',
      'nats.streams.decisions.replicas: a single nats-server keeps one replica',
      'redis.nodes: name exactly one node for fleetban up to start',
      'redis.mode: fleetban up starts a standalone redis-server, not sentinel; run your own and set up.redis: external',
    ]);
  });

  test('what only one process can have is refused: a metrics port, and standard input as a log', () => {
    assert.deepEqual(plan('metrics: { listen: 9464 }\njails: { a: { logpath: "-" } }\n').problems, [
      'metrics.listen: the three parts fleetban up starts read one config and would all listen there; leave it unset',
      'jails.a.logpath: "-" (standard input) cannot be read by a shipper that fleetban up starts',
    ]);
  });

  test('server addresses: IPv4 and IPv6 loopback, with or without a scheme; names and other schemes are refused', () => {
    assert.deepEqual(natsEndpoint('nats://[::1]:5222'), { host: '::1', port: 5222 });
    assert.deepEqual(natsEndpoint('127.0.0.2'), { host: '127.0.0.2', port: 4222 });
    assert.match(String(natsEndpoint('tls://127.0.0.1:4222')), /plain nats:\/\//);
    assert.match(String(natsEndpoint('nats://localhost:4222')), /not a loopback address/);
    assert.deepEqual(redisEndpoint('[::1]:6380'), { host: '::1', port: 6380 });
    assert.match(String(redisEndpoint('redis.example:6379')), /not a loopback address/);
  });

  test('the enforcer works in enforcer.netns with its backend, or with the dry-run backend and no namespace under --dry-run', () => {
    const text = 'enforcer: { backend: ipset, netns: demo }\n';
    assert.deepEqual(plan(text).plan!.enforcer, { backend: 'ipset', netns: 'demo', dryRun: false });
    assert.deepEqual(plan(text, { dryRun: true }).plan!.enforcer, { backend: 'dry-run', dryRun: true });
  });

  test("the enforcer's dry-run copy of the file changes only the backends and the namespace", () => {
    const text = [
      '# the demo',
      'defaults: { banaction: iptables, bantime: 1h }',
      'jails:',
      '  sshd: { banaction: ipset, port: 22 }',
      '  web:',
      'enforcer: { backend: nftables, netns: demo, table: t }',
      '',
    ].join('\n');
    const copy = dryRunConfigText(text);
    assert.match(copy, /^# the demo/);
    assert.deepEqual(parse(copy), {
      defaults: { bantime: '1h' },
      jails: { sshd: { port: 22 }, web: null },
      enforcer: { backend: 'dry-run', table: 't' },
    });
    assert.deepEqual(parse(dryRunConfigText('jails: { a: {} }\n')), { jails: { a: {} }, enforcer: { backend: 'dry-run' } });
    assert.ok(parseConfig(copy, 'copy.yaml', { hostname: 'h' }).ok);
  });

  test("the servers' own config files: loopback listen, data under the state directory, the same auth", () => {
    assert.equal(
      natsServerConfig({ listen: { host: '::1', port: 4322 }, storeDir: '/s/up/nats', auth: { user: 'fb', password: 'p"w' } }),
      'listen: "[::1]:4322"\nserver_name: "fleetban_up_4322"\njetstream { store_dir: "/s/up/nats" }\nauthorization { user: "fb", password: "p\\"w" }\n',
    );
    const redis = redisServerConfig({ listen: { host: '127.0.0.1', port: 6479 }, dir: '/s/up/redis dir', auth: { password: 'x y' } });
    assert.match(redis, /^bind 127\.0\.0\.1\nport 6479\ndir "\/s\/up\/redis dir"\n/);
    assert.match(redis, /\nsave 300 1\nappendonly yes\nappendfsync everysec\n/, "an append-only file: windows survive a SIGKILL");
    assert.match(redis, /\nrequirepass "x y"\n$/);
    assert.match(redisServerConfig({ listen: { host: '127.0.0.1', port: 1 }, dir: '/d', auth: { user: 'scorer', password: 'pw' } }), /\nuser default off\nuser scorer on ">pw" ~\* &\* \+@all\n$/);
  });

  test("a part's JSON log line is shown short, and other output is prefixed with the child's name", () => {
    const line = JSON.stringify({ level: 'warn', time: '2025-01-02T03:04:05.678Z', part: 'scorer', host: 'h', msg: 'Redis unreachable', err: 'connect ECONNREFUSED', attempt: 3 });
    assert.equal(formatChildLine('scorer', line), '03:04:05 scorer   warn  Redis unreachable err="connect ECONNREFUSED" attempt=3');
    assert.equal(formatChildLine('shipper', JSON.stringify({ level: 'error', msg: 'x', err: { message: 'boom', stack: '...' } })), '--:--:-- shipper  error x err="boom"');
    assert.equal(formatChildLine('nats-server', '[1] [INF] Server is ready'), 'nats-server [1] [INF] Server is ready');
    assert.equal(formatChildLine('enforcer', '{not json'), 'enforcer {not json');
  });
});
