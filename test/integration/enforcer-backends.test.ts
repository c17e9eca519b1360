import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import type { EnforcerBackendName } from '../../shared/config/index.ts';
import { parseTarget } from '../../shared/ip/index.ts';
import { BACKENDS, createExec, runSteps, type Backend } from '../../services/enforcer/backends/index.ts';
import { enforcedSets, type EnforcedSet } from '../../services/enforcer/sets.ts';
import { linkNamespaces, Netns, netnsSkipReason, quietLogger, tcpConnect, tcpListener, testConfig } from '../harness/index.ts';

const skip = netnsSkipReason();
const t = parseTarget;

async function withBackend(name: EnforcerBackendName, extra: Record<string, unknown>, fn: (b: Backend, ns: Netns, sets: EnforcedSet[], teardown: () => Promise<void>) => Promise<void>): Promise<void> {
  const ns = await Netns.create('bk');
  try {
    const config = testConfig({
      jails: { sshd: { port: 'ssh' }, web: { port: '80', ipv6prefix: 64 } },
      enforcer: { backend: name, netns: ns.name, table: 'fbi', xtRecent: { lists: ['5s', '1m', '1h'] }, ...extra },
    });
    const sets = enforcedSets(config, []);
    const options = { config, exec: createExec({ netns: ns.name }), log: quietLogger() };
    const backend = BACKENDS[name].create(options);
    await backend.prepare(sets);
    await backend.prepare(sets);
    await fn(backend, ns, sets, async () => runSteps(options.exec, await BACKENDS[name].teardown(sets, options)));
  } finally {
    await ns.remove();
  }
}

/**
 * Three namespaces in a row: a client with two source addresses per family,
 * a router that forwards between its two links and runs the backend's rules,
 * and a server behind it. Only documentation ranges, all assigned here.
 */
interface Routed {
  client: Netns;
  router: Netns;
  server: Netns;
  /** A TCP connection from `from` in the client to the server's port 80, through the router. */
  connect(from: string): Promise<string>;
}

async function withRouter(fn: (net: Routed) => Promise<void>): Promise<void> {
  const made: Netns[] = [];
  let listener: { stop(): Promise<void> } | undefined;
  try {
    const [client, router, server] = [await Netns.create('cli'), await Netns.create('rtr'), await Netns.create('srv')];
    made.push(client, router, server);
    // Without DAD the link-local addresses are usable at once: the router's neighbour solicitations for
    // forwarded packets come from its link-local address, and a tentative one would go unanswered.
    for (const ns of made) await ns.ok('sysctl', ['-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    await linkNamespaces(client, ['192.0.2.10/24', '192.0.2.11/24', '2001:db8:1::10/64', '2001:db8:1::11/64'], router, ['192.0.2.1/24', '2001:db8:1::1/64']);
    await linkNamespaces(router, ['198.51.100.1/24', '2001:db8:2::1/64'], server, ['198.51.100.10/24', '2001:db8:2::10/64']);
    await router.ok('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    for (const [ns, v4, v6] of [[client, '192.0.2.1', '2001:db8:1::1'], [server, '198.51.100.1', '2001:db8:2::1']] as const) {
      await ns.ok('ip', ['route', 'add', 'default', 'via', v4]);
      await ns.ok('ip', ['-6', 'route', 'add', 'default', 'via', v6]);
    }
    listener = await tcpListener(server, [80]);
    const connect = (from: string) => tcpConnect(client, from, from.includes(':') ? '2001:db8:2::10' : '198.51.100.10', 80, 2000);
    await fn({ client, router, server, connect });
  } finally {
    await listener?.stop();
    for (const ns of made) await ns.remove();
  }
}

async function listed(b: Backend): Promise<Map<string, number | null | undefined>> {
  return new Map((await b.list()).map((e) => [`${e.set} ${e.target.text}`, e.expiresInMs]));
}

/** A listed timeout: at most a second over what was set (rounding up), and no more than a few seconds under it (time passing). */
function near(actual: number | null | undefined, expected: number, slack = 3000): boolean {
  return typeof actual === 'number' && actual <= expected + 1000 && actual >= expected - slack;
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

const hostRuleset = () => execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' });

describe('enforcer backends against the kernel, inside a namespace', { skip }, () => {
  for (const name of ['nftables', 'ipset'] as const) {
    test(`${name}: entries go in with their timeouts, come back from list, change, expire on their own, and teardown removes everything`, async () => {
      const before = hostRuleset();
      await withBackend(name, {}, async (b, ns, _sets, teardown) => {
        assert.equal(b.add({ set: 'sshd', target: t('192.0.2.10'), timeoutMs: 60_000, replace: false }), undefined);
        b.add({ set: 'sshd', target: t('2001:db8::10'), timeoutMs: null, replace: false });
        b.add({ set: 'web', target: t('2001:db8:0:1::/64'), timeoutMs: 120_000, replace: false });
        b.add({ set: '*', target: t('203.0.113.0/24'), timeoutMs: 2000, replace: false });
        assert.deepEqual(await b.commit(), { added: 4, deleted: 0 });
        let now = await listed(b);
        assert.ok(near(now.get('sshd 192.0.2.10'), 60_000), `sshd 192.0.2.10: ${now.get('sshd 192.0.2.10')}`);
        assert.equal(now.get('sshd 2001:db8::10'), null, 'a permanent entry has no timeout');
        assert.ok(near(now.get('web 2001:db8:0:1::/64'), 120_000));
        assert.ok(now.has('* 203.0.113.0/24'));

        b.add({ set: 'sshd', target: t('192.0.2.10'), timeoutMs: 10_000, replace: true });
        b.delete({ set: 'sshd', target: t('2001:db8::10') });
        b.delete({ set: 'sshd', target: t('192.0.2.99') });
        await b.commit();
        now = await listed(b);
        assert.ok(near(now.get('sshd 192.0.2.10'), 10_000), 'a replaced entry has the new timeout');
        assert.ok(!now.has('sshd 2001:db8::10'));

        assert.ok(await until(async () => !(await listed(b)).has('* 203.0.113.0/24'), 10_000), 'the 2 s entry expired in the kernel');
        b.delete({ set: '*', target: t('203.0.113.0/24') });
        await b.commit();

        await teardown();
        assert.equal((await b.list()).length, 0);
        if (name === 'nftables') assert.doesNotMatch(await ns.ok('nft', ['list', 'tables']), /fbi/);
        else assert.doesNotMatch(await ns.ok('ipset', ['list', '-n']), /fbi/);
        assert.doesNotMatch(await ns.ok('iptables', ['-S']), /fbi/);
      });
      assert.equal(hostRuleset(), before, "the host's own ruleset is untouched");
    });
  }

  for (const name of ['nftables', 'ipset', 'iptables', 'xt_recent'] as const) {
    test(`${name}: with enforcer.forward on, a banned source is rejected when the enforcing host routes its packets to another host, and passes once unbanned`, async () => {
      await withRouter(async (net) => {
        const build = (forward: boolean) => {
          const config = testConfig({
            jails: { web: { port: '80' } },
            enforcer: { backend: name, netns: net.router.name, table: 'fbf', forward, xtRecent: { lists: ['1m', '1h'] } },
          });
          const options = { config, exec: createExec({ netns: net.router.name }), log: quietLogger() };
          return { sets: enforcedSets(config, []), options, backend: BACKENDS[name].create(options) };
        };
        for (const from of ['192.0.2.10', '2001:db8:1::10']) assert.equal(await net.connect(from), 'connected', `${from} reaches the server through the router`);

        const inputOnly = build(false);
        await inputOnly.backend.prepare(inputOnly.sets);
        inputOnly.backend.add({ set: 'web', target: t('192.0.2.10'), timeoutMs: 600_000, replace: false });
        inputOnly.backend.add({ set: 'web', target: t('2001:db8:1::10'), timeoutMs: 600_000, replace: false });
        await inputOnly.backend.commit();
        assert.equal(await net.connect('192.0.2.10'), 'connected', 'without forward, the rules sit in the input hook only and routed packets pass');

        const routed = build(true);
        await routed.backend.prepare(routed.sets);
        await routed.backend.list();
        if (name !== 'nftables') for (const tool of ['iptables', 'ip6tables']) assert.match(await net.router.ok(tool, ['-S', 'FORWARD']), /^-A FORWARD -j fbf\.fwd$/m);
        for (const from of ['192.0.2.10', '2001:db8:1::10']) assert.equal(await net.connect(from), 'refused', `${from} is rejected by the router once forward is on`);
        for (const from of ['192.0.2.11', '2001:db8:1::11']) assert.equal(await net.connect(from), 'connected', `${from}, not banned, still gets through`);

        routed.backend.delete({ set: 'web', target: t('192.0.2.10') });
        routed.backend.delete({ set: 'web', target: t('2001:db8:1::10') });
        await routed.backend.commit();
        for (const from of ['192.0.2.10', '2001:db8:1::10']) assert.equal(await net.connect(from), 'connected', `${from} passes again once unbanned`);

        routed.backend.add({ set: 'web', target: t('192.0.2.10'), timeoutMs: 600_000, replace: false });
        await routed.backend.commit();
        assert.equal(await net.connect('192.0.2.10'), 'refused');
        const forwardOff = build(false);
        await forwardOff.backend.prepare(forwardOff.sets);
        assert.equal(await net.connect('192.0.2.10'), 'connected', 'with forward turned off again, the forward hook is gone and routed packets pass');
        if (name === 'nftables') assert.doesNotMatch(await net.router.ok('nft', ['list', 'table', 'inet', 'fbf']), /hook forward/);
        else for (const tool of ['iptables', 'ip6tables']) assert.doesNotMatch(await net.router.ok(tool, ['-S']), /fbf\.fwd/, `${tool}: the FORWARD jump and chain are gone`);

        await runSteps(routed.options.exec, await BACKENDS[name].teardown(routed.sets, routed.options));
        if (name === 'nftables') assert.doesNotMatch(await net.router.ok('nft', ['list', 'ruleset']), /fbf/);
        for (const tool of ['iptables', 'ip6tables']) assert.doesNotMatch(await net.router.ok(tool, ['-S']), /fbf/, `${tool}: no FORWARD jump or chain left`);
      });
    });
  }

  test('nftables: a network and a wider one replacing it in one batch never collide', async () => {
    await withBackend('nftables', {}, async (b) => {
      b.add({ set: 'sshd', target: t('203.0.113.128/25'), timeoutMs: 60_000, replace: false });
      await b.commit();
      b.delete({ set: 'sshd', target: t('203.0.113.128/25') });
      b.add({ set: 'sshd', target: t('203.0.113.0/24'), timeoutMs: 60_000, replace: false });
      await b.commit();
      assert.deepEqual([...(await listed(b)).keys()], ['sshd 203.0.113.0/24']);
    });
  });

  test('ipset: a full set refuses the next add instead of failing the batch', async () => {
    await withBackend('ipset', { ipset: { maxelem: 3 } }, async (b) => {
      for (const ip of ['192.0.2.10', '192.0.2.11', '192.0.2.12']) assert.equal(b.add({ set: 'sshd', target: t(ip), timeoutMs: 60_000, replace: false }), undefined);
      const refused = b.add({ set: 'sshd', target: t('192.0.2.13'), timeoutMs: 60_000, replace: false });
      assert.equal(refused?.reason, 'set_full');
      assert.equal(b.add({ set: 'sshd', target: t('192.0.2.10'), timeoutMs: 30_000, replace: true }), undefined, 'replacing an entry needs no room');
      await b.commit();
      assert.equal((await b.list()).length, 3);
      assert.deepEqual(b.status?.().full.map((f) => [f.name, f.entries, f.capacity, f.refused]), [['fbi-sshd-a4', 3, 3, 1]], 'the status names the full set');
    });
  });

  test('iptables: one rule per address with a datestop; replacing and deleting leave exactly one or none', async () => {
    await withBackend('iptables', {}, async (b, ns, _sets, teardown) => {
      b.add({ set: 'sshd', target: t('192.0.2.10'), timeoutMs: 60_000, replace: false });
      b.add({ set: 'sshd', target: t('2001:db8::/64'), timeoutMs: null, replace: false });
      await b.commit();
      b.add({ set: 'sshd', target: t('192.0.2.10'), timeoutMs: 3_600_000, replace: true });
      await b.commit();
      const rules = (await ns.ok('iptables', ['-S', 'fbi-sshd'])).split('\n').filter((l) => l.startsWith('-A'));
      assert.equal(rules.length, 1);
      assert.match(rules[0]!, /-s 192\.0\.2\.10\/32 -m time --datestop \S+ -j REJECT/);
      const now = await listed(b);
      assert.ok(near(now.get('sshd 192.0.2.10'), 3_600_000, 5000));
      assert.equal(now.get('sshd 2001:db8::/64'), null);
      b.delete({ set: 'sshd', target: t('192.0.2.10') });
      await b.commit();
      assert.deepEqual([...(await listed(b)).keys()], ['sshd 2001:db8::/64']);
      await teardown();
      assert.doesNotMatch(await ns.ok('ip6tables', ['-S']), /fbi/);
    });
  });

  test('xt_recent: addresses go to the list that fits their time, move when it changes, and a full list refuses before it would evict', async () => {
    await withBackend('xt_recent', {}, async (b, ns, _sets, teardown) => {
      const capacity = Number(execFileSync('cat', ['/sys/module/xt_recent/parameters/ip_list_tot'], { encoding: 'utf8' }).trim());
      b.add({ set: 'sshd', target: t('192.0.2.10'), timeoutMs: 4000, replace: false });
      b.add({ set: 'web', target: t('2001:db8:0:1::/64'), timeoutMs: null, replace: false });
      await b.commit();
      assert.match(await ns.ok('cat', ['/proc/net/xt_recent/fbi-sshd-v4-5s']), /src=192\.0\.2\.10 /);
      assert.match(await ns.ok('cat', ['/proc/net/xt_recent/fbi-web-v6-perm']), /src=2001:0db8:0000:0001:0000:0000:0000:0000 /);
      b.add({ set: 'sshd', target: t('192.0.2.10'), timeoutMs: 3_000_000, replace: true });
      await b.commit();
      assert.equal(await ns.ok('cat', ['/proc/net/xt_recent/fbi-sshd-v4-5s']), '', 'moved out of the 5 s list');
      assert.match(await ns.ok('cat', ['/proc/net/xt_recent/fbi-sshd-v4-3600s']), /src=192\.0\.2\.10 /);
      assert.deepEqual([...(await listed(b)).entries()].sort(), [['sshd 192.0.2.10', undefined], ['web 2001:db8:0:1::/64', null]]);

      for (let i = 0; i < capacity; i++) {
        const refusal = b.add({ set: '*', target: t(`198.51.${100 + Math.floor(i / 250)}.${i % 250}`), timeoutMs: 30_000, replace: false });
        assert.equal(refusal, undefined, `entry ${i} of ${capacity}`);
      }
      await b.commit();
      const full = b.add({ set: '*', target: t('203.0.113.1'), timeoutMs: 30_000, replace: false });
      assert.equal(full?.reason, 'set_full');
      assert.match(full!.detail, new RegExp(`ip_list_tot=${capacity}`));
      const lines = (await ns.ok('cat', ['/proc/net/xt_recent/fbi-.other-v4-60s'])).trim().split('\n');
      assert.equal(lines.length, capacity, 'nothing was evicted');
      b.delete({ set: 'sshd', target: t('192.0.2.10') });
      await b.commit();
      assert.equal(await ns.ok('cat', ['/proc/net/xt_recent/fbi-sshd-v4-3600s']), '');
      await teardown();
      assert.equal((await ns.ok('ls', ['/proc/net/xt_recent'])).trim(), '', 'the lists are gone with their rules');
    });
  });
});
