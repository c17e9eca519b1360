import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Config, EnforcerBackendName } from '../../shared/config/index.ts';
import { parseTarget } from '../../shared/ip/index.ts';
import type { Decision } from '../../shared/schema/index.ts';
import { PERMANENT } from '../../shared/time/index.ts';
import type { BackendTraits } from '../../services/enforcer/backends/index.ts';
import { EnforcementState, type PlannedChange } from '../../services/enforcer/core/state.ts';
import { enforcedSets, OTHER_JAILS, router } from '../../services/enforcer/sets.ts';
import { testConfig } from '../harness/index.ts';

const T = 1_700_000_000_000;
const HOUR = 3_600_000;

const TRAITS: Record<EnforcerBackendName, BackendTraits> = {
  nftables: { maxTimeoutMs: 10 * 365 * 24 * HOUR, permanent: true, expiresOnItsOwn: true, networks: 'disjoint', granularityMs: 1 },
  ipset: { maxTimeoutMs: 2_147_483_000, permanent: true, expiresOnItsOwn: true, networks: 'overlapping', granularityMs: 1000 },
  iptables: { maxTimeoutMs: Infinity, permanent: true, expiresOnItsOwn: false, networks: 'overlapping', granularityMs: 1000 },
  xt_recent: { maxTimeoutMs: 604_800_000, permanent: true, expiresOnItsOwn: false, networks: 'jail-prefix', granularityMs: 1000 },
  'dry-run': { maxTimeoutMs: Infinity, permanent: true, expiresOnItsOwn: true, networks: 'overlapping', granularityMs: 1 },
};

function setup(settings: Record<string, unknown> = {}, options: { maxTimeoutMs?: number; backend?: EnforcerBackendName } = {}) {
  const config: Config = testConfig({
    jails: {
      sshd: { port: 'ssh', ignoreip: '192.0.2.200' },
      web: { port: '80,443', ipv6prefix: 64 },
      off: { enabled: false },
      elsewhere: {},
    },
    enforcer: { backend: options.backend ?? 'nftables', jails: ['sshd', 'web', 'off'], ignoreip: ['198.51.100.0/28'] },
    ...settings,
  });
  const sets = enforcedSets(config, ['192.0.2.1', '2001:db8::1']);
  const state = new EnforcementState({ route: router(config, sets), traits: (b) => TRAITS[b], maxTimeoutMs: options.maxTimeoutMs });
  return { state, sets, config };
}

let n = 0;
const ban = (target: string, time: number, duration: number, jail = 'sshd'): Decision => ({ v: 1, id: `d${++n}`, action: 'ban', jail, target, time, duration, origin: 'scorer' });
const unban = (target: string, time: number, jail = 'sshd'): Decision => ({ v: 1, id: `d${++n}`, action: 'unban', jail, target, time, origin: 'manual' });

const brief = (changes: PlannedChange[]) => changes.map((c) => `${c.op} ${c.set} ${c.target.text}${c.op === 'add' ? ` ${c.timeoutMs}` : ''}${c.replace ? ' (replace)' : ''}`);

function commitAll(state: EnforcementState, now: number): PlannedChange[] {
  const changes = state.plan(now);
  for (const c of changes) state.settle(c, 'applied', now);
  return changes;
}

describe('the enforcer core: from decisions to kernel changes', () => {
  test('a ban becomes one add whose timeout is what is left of the ban', () => {
    const { state } = setup();
    state.decide(ban('192.0.2.10', T, HOUR));
    assert.deepEqual(brief(state.plan(T + 1000)), [`add sshd 192.0.2.10 ${HOUR - 1000}`]);
  });

  test('a permanent ban gets no kernel timeout', () => {
    const { state } = setup();
    state.decide(ban('192.0.2.10', T, PERMANENT));
    assert.deepEqual(brief(state.plan(T)), ['add sshd 192.0.2.10 null']);
  });

  test('an unban deletes the entry; an expired ban is skipped and never added', () => {
    const { state } = setup();
    state.decide(ban('192.0.2.10', T, HOUR));
    commitAll(state, T);
    state.decide(unban('192.0.2.10', T + 5000));
    state.decide(ban('192.0.2.11', T - 2 * HOUR, HOUR));
    assert.deepEqual(brief(state.plan(T + 5000)), ['delete sshd 192.0.2.10']);
  });

  test('whole seconds are rounded up so a ban never ends early', () => {
    const { state } = setup({}, { backend: 'ipset' });
    state.decide(ban('192.0.2.10', T, 10_500));
    assert.deepEqual(brief(state.plan(T + 1)), ['add sshd 192.0.2.10 11000']);
  });

  test('a ban longer than the kernel takes is capped and refreshed before it lapses, never with less than is left', () => {
    const { state } = setup({}, { maxTimeoutMs: 10_000 });
    state.decide(ban('192.0.2.10', T, 25_000));
    assert.deepEqual(brief(commitAll(state, T)), ['add sshd 192.0.2.10 10000']);
    assert.deepEqual(state.plan(T + 4000), [], 'nothing to do long before the kernel timeout ends');
    const due = state.nextDeadline()!;
    assert.ok(due > T && due < T + 10_000, `refresh planned before the kernel timeout ends (at ${due - T} ms)`);
    const refresh = commitAll(state, due);
    assert.deepEqual(brief(refresh), [`add sshd 192.0.2.10 10000 (replace)`]);
    const last = state.nextDeadline()!;
    const final = commitAll(state, last);
    assert.deepEqual(brief(final), [`add sshd 192.0.2.10 ${T + 25_000 - last} (replace)`], 'the last refresh covers exactly what is left');
  });

  test('a shorter ban for an address already banned changes nothing in the kernel', () => {
    const { state } = setup();
    state.decide(ban('192.0.2.10', T, HOUR));
    commitAll(state, T);
    assert.equal(state.decide(ban('192.0.2.10', T + 1000, 60_000)).kind, 'accepted');
    assert.deepEqual(state.plan(T + 1000), []);
    state.decide(ban('192.0.2.10', T + 2000, 2 * HOUR));
    assert.deepEqual(brief(state.plan(T + 2000)), [`add sshd 192.0.2.10 ${2 * HOUR} (replace)`]);
  });

  test('backends whose kernel keeps expired entries get a delete when the ban ends; the others do not', () => {
    for (const [backend, expected] of [['iptables', ['delete sshd 192.0.2.10']], ['nftables', []]] as const) {
      const { state } = setup({}, { backend });
      state.decide(ban('192.0.2.10', T, 5000));
      commitAll(state, T);
      assert.equal(state.nextDeadline(), T + 5000, backend);
      assert.deepEqual(brief(state.plan(T + 5000)), expected, backend);
    }
  });

  test('a jail the config does not define goes to the every-port set; a disabled or unselected jail is ignored', () => {
    const { state } = setup();
    const manual = state.decide(ban('192.0.2.10', T, HOUR, 'manual'));
    assert.equal(manual.kind === 'accepted' && manual.set, OTHER_JAILS);
    assert.equal(state.decide(ban('192.0.2.11', T, HOUR, 'off')).kind, 'ignored');
    assert.equal(state.decide(ban('192.0.2.12', T, HOUR, 'elsewhere')).kind, 'ignored');
    assert.deepEqual(brief(state.plan(T)), [`add * 192.0.2.10 ${HOUR}`]);
  });

  test('with otherJails: ignore, a jail the config does not define is not enforced', () => {
    const { state } = setup({ enforcer: { otherJails: 'ignore' } });
    assert.equal(state.decide(ban('192.0.2.10', T, HOUR, 'manual')).kind, 'ignored');
  });

  test('allowlisted targets are refused before any firewall change: ignoreip, enforcer.ignoreip, host addresses, loopback', () => {
    const { state } = setup();
    for (const [target, jail] of [['192.0.2.200', 'sshd'], ['198.51.100.3', 'sshd'], ['192.0.2.1', 'sshd'], ['127.0.0.1', 'manual'], ['192.0.2.0/24', 'sshd'], ['::1', 'sshd']] as const) {
      const outcome = state.decide(ban(target, T, HOUR, jail));
      assert.equal(outcome.kind === 'refused' && outcome.reason, 'allowlisted', target);
    }
    assert.deepEqual(state.plan(T), []);
  });

  test('an IPv4-mapped IPv6 target is treated as IPv4, also by the allowlist', () => {
    const { state } = setup();
    const mapped = state.decide(ban('::ffff:192.0.2.10', T, HOUR));
    assert.equal(mapped.kind === 'accepted' && mapped.target.text, '192.0.2.10');
    const allowed = state.decide(ban('::ffff:192.0.2.200', T, HOUR));
    assert.equal(allowed.kind, 'refused');
  });

  test("a jail's ipv6prefix bans the network, which must not cover the host's own address", () => {
    const { state } = setup();
    const net = state.decide(ban('2001:db8:0:1::10', T, HOUR, 'web'));
    assert.equal(net.kind === 'accepted' && net.target.text, '2001:db8:0:1::/64');
    const own = state.decide(ban('2001:db8::10', T, HOUR, 'web'));
    assert.equal(own.kind === 'refused' && own.reason, 'allowlisted', '2001:db8::/64 holds the host address 2001:db8::1');
    assert.equal(state.decide(ban('2001:db8::10', T, HOUR, 'sshd')).kind, 'accepted', 'a /128 jail bans the address alone');
  });

  test('two bans sharing one kernel entry keep it until both end; the entry lasts as long as the longer one', () => {
    const { state } = setup();
    state.decide(ban('2001:db8:0:1::10', T, HOUR, 'web'));
    state.decide(ban('2001:db8:0:1::11', T, 2 * HOUR, 'web'));
    assert.deepEqual(brief(commitAll(state, T)), [`add web 2001:db8:0:1::/64 ${2 * HOUR}`]);
    state.decide(unban('2001:db8:0:1::11', T + 1000, 'web'));
    assert.deepEqual(brief(state.plan(T + 1000)), [`add web 2001:db8:0:1::/64 ${HOUR - 1000} (replace)`]);
  });

  test('xt_recent refuses networks other than the jail prefix', () => {
    const { state } = setup({}, { backend: 'xt_recent' });
    const outcome = state.decide(ban('203.0.113.0/28', T, HOUR));
    assert.equal(outcome.kind === 'refused' && outcome.reason, 'unsupported_target');
    assert.equal(state.decide(ban('2001:db8:0:1::10', T, HOUR, 'web')).kind, 'accepted');
  });

  test('nftables holds no overlapping networks: a nested network waits for a wider one that ends sooner', () => {
    const { state } = setup();
    state.decide(ban('203.0.113.128/25', T, 10 * HOUR));
    assert.deepEqual(brief(commitAll(state, T)), [`add sshd 203.0.113.128/25 ${10 * HOUR}`]);
    state.decide(ban('203.0.113.0/24', T + 1000, HOUR));
    state.decide(ban('203.0.113.130/31', T + 1000, 5 * HOUR));
    assert.deepEqual(brief(commitAll(state, T + 1000)), ['delete sshd 203.0.113.128/25', `add sshd 203.0.113.0/24 ${HOUR}`], 'the /24 covers both; the /25 goes first');
    assert.deepEqual(brief(commitAll(state, T + 1000 + HOUR)), [`add sshd 203.0.113.128/25 ${9 * HOUR - 1000}`], 'when the /24 ends the /25 comes back');
  });

  test('entries read from the kernel with the right timeout are kept; stray ones are deleted; wrong timeouts are set again', () => {
    const { state, sets } = setup();
    state.decide(ban('192.0.2.10', T, HOUR));
    state.decide(ban('192.0.2.11', T, HOUR));
    const nft = sets.filter((s) => s.backend === 'nftables');
    state.loadKernel('nftables', [
      { set: 'sshd', target: parseTarget('192.0.2.10'), expiresInMs: HOUR - 800 },
      { set: 'sshd', target: parseTarget('192.0.2.11'), expiresInMs: 60_000 },
      { set: 'sshd', target: parseTarget('192.0.2.99'), expiresInMs: HOUR },
      { set: 'sshd', target: parseTarget('192.0.2.98'), expiresInMs: null },
    ], nft, T);
    assert.deepEqual(brief(state.plan(T)).sort(), ['delete sshd 192.0.2.98', 'delete sshd 192.0.2.99', `add sshd 192.0.2.11 ${HOUR} (replace)`].sort());
  });

  test('a refused add (set full) is retried later, and a failed commit is retried', () => {
    const { state } = setup();
    state.decide(ban('192.0.2.10', T, HOUR));
    const [add] = state.plan(T);
    state.settle(add!, 'refused', T);
    assert.deepEqual(state.plan(T + 1000), []);
    const retry = state.plan(T + 10_000);
    assert.equal(retry.length, 1);
    state.settle(retry[0]!, 'failed', T + 10_000);
    assert.equal(state.plan(T + 30_000).length, 1);
  });

  test('an entry that keeps failing waits twice as long each time, up to five minutes, and counts as not applied', () => {
    const { state } = setup();
    state.decide(ban('192.0.2.10', T, 24 * HOUR));
    state.decide(ban('192.0.2.11', T, 24 * HOUR));
    let now = T;
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const changes = state.plan(now);
      for (const c of changes) state.settle(c, c.target.text === '192.0.2.10' ? 'failed' : 'applied', now);
      const next = state.nextDeadline()!;
      waits.push(next - now);
      assert.deepEqual(state.plan(next - 1), [], 'nothing is retried before its time');
      now = next;
    }
    assert.deepEqual(waits, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    assert.deepEqual(state.problemCounts(), { refused: 0, failed: 1 });
    for (const c of state.plan(now)) state.settle(c, 'applied', now);
    assert.deepEqual(state.problemCounts(), { refused: 0, failed: 0 });
  });

  test('the retries of many failing entries are gathered on whole seconds, so they share rounds', () => {
    const { state } = setup();
    for (let i = 1; i <= 200; i++) state.decide(ban(`203.0.113.${i}`, T, HOUR));
    let now = T;
    for (const c of state.plan(now)) {
      state.settle(c, 'refused', now);
      now += 7;
    }
    // Refused over 1.4 s (the first at T), so their retries come due on three whole seconds: three rounds, not 200.
    assert.deepEqual([state.plan(T + 10_000).length, state.plan(T + 11_000).length, state.plan(T + 12_000).length], [1, 142, 57]);
  });

  test('an unban of an entry that was never applied clears its failure', () => {
    const { state } = setup();
    state.decide(ban('192.0.2.10', T, HOUR));
    for (const c of state.plan(T)) state.settle(c, 'failed', T);
    assert.deepEqual(state.problemCounts(), { refused: 0, failed: 1 });
    state.decide(unban('192.0.2.10', T + 1000));
    assert.deepEqual(state.plan(T + 1000), []);
    assert.deepEqual(state.problemCounts(), { refused: 0, failed: 0 });
  });

  test('a live change reports the time of the decision that caused it', () => {
    const { state } = setup();
    state.decide(ban('192.0.2.10', T, HOUR), T - 50);
    const [add] = state.plan(T);
    assert.deepEqual(state.settle(add!, 'applied', T + 10), { since: T - 50 });
  });
});
