import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTarget } from '../../shared/ip/index.ts';
import { parseRules } from '../../services/enforcer/backends/iptables/parse.ts';
import { datestop, ruleSpec } from '../../services/enforcer/backends/iptables/plan.ts';
import { parseSave } from '../../services/enforcer/backends/ipset/parse.ts';
import { batchLines, ipsetName } from '../../services/enforcer/backends/ipset/plan.ts';
import { fit } from '../../services/enforcer/backends/names.ts';
import { parseTableJson } from '../../services/enforcer/backends/nftables/parse.ts';
import { batchScript, nftSetName, portMatch, setupScript } from '../../services/enforcer/backends/nftables/plan.ts';
import { describeCommand } from '../../services/enforcer/backends/exec.ts';
import { printSteps } from '../../services/enforcer/backends/steps.ts';
import { portMatches, setChain } from '../../services/enforcer/backends/xtables.ts';
import { listFor, listsOf, maskFor } from '../../services/enforcer/backends/xt_recent/plan.ts';
import { parseList } from '../../services/enforcer/backends/xt_recent/proc.ts';
import { enforcedSets, OTHER_JAILS } from '../../services/enforcer/sets.ts';
import { testConfig } from '../harness/index.ts';

const t = parseTarget;
const sets = enforcedSets(testConfig({ jails: { sshd: { port: 'ssh' }, web: { port: '80,8000:8100', protocol: 'all', blocktype: 'drop' } } }), []);

describe('nftables batches', () => {
  test("set-up touches only fleetban's own table and rebuilds its chain in one transaction", () => {
    const script = setupScript('fleetban', sets, true);
    for (const line of script.trim().split('\n')) assert.match(line, /^(add|flush) (table|set|chain|rule) inet fleetban\b/, line);
    assert.match(script, /add set inet fleetban s_sshd_n4 \{ type ipv4_addr; flags interval, timeout; \}/);
    assert.match(script, /add rule inet fleetban input tcp dport \{ ssh \} ip saddr @s_sshd_a4 reject/);
    assert.match(script, /add rule inet fleetban forward meta l4proto \{ tcp, udp, sctp \} th dport \{ 80, 8000-8100 \} ip6 saddr @s_web_a6 drop/);
    assert.match(script, /add rule inet fleetban input ip saddr @s_\.other_a4 reject/, 'other jails: every port');
  });

  test('a batch removes before it adds, and replaces with add, delete, add so a missing element never fails it', () => {
    const script = batchScript('fb', [
      { set: 'sshd', target: t('192.0.2.10'), timeoutMs: 60_000, replace: false },
      { set: 'sshd', target: t('192.0.2.11'), timeoutMs: null, replace: true },
      { set: 'sshd', target: t('203.0.113.0/24'), timeoutMs: 1500, replace: false },
    ], [{ set: 'sshd', target: t('2001:db8::5') }]);
    assert.deepEqual(script.trim().split('\n'), [
      'add element inet fb s_sshd_a6 { 2001:db8::5 }',
      'add element inet fb s_sshd_a4 { 192.0.2.11 }',
      'delete element inet fb s_sshd_a6 { 2001:db8::5 }',
      'delete element inet fb s_sshd_a4 { 192.0.2.11 }',
      'add element inet fb s_sshd_a4 { 192.0.2.10 timeout 60000ms, 192.0.2.11 }',
      'add element inet fb s_sshd_n4 { 203.0.113.0/24 timeout 1500ms }',
    ]);
    assert.equal(batchScript('fb', [], []), '');
  });

  test('port matches follow the protocol; no ports blocks every port of it', () => {
    assert.equal(portMatch({ ports: [], protocol: 'udp' }), 'meta l4proto udp ');
    assert.equal(portMatch({ ports: [], protocol: 'all' }), '');
    assert.equal(portMatch({ ports: ['http-alt', '1000:2000'], protocol: 'tcp' }), 'tcp dport { http-alt, 1000-2000 } ');
  });

  test('listed elements come back with their set and timeout; permanent ones have none', () => {
    const names = new Map([[nftSetName('sshd', 'a4'), { key: 'sshd', kind: 'a4' as const }], [nftSetName('sshd', 'n6'), { key: 'sshd', kind: 'n6' as const }]]);
    const json = JSON.stringify({ nftables: [
      { metainfo: {} },
      { set: { name: 's_sshd_a4', elem: [{ elem: { val: '192.0.2.10', timeout: 600, expires: 599 } }, '192.0.2.12'] } },
      { set: { name: 's_sshd_n6', elem: [{ elem: { val: { prefix: { addr: '2001:db8:1::', len: 64 } }, timeout: 60, expires: 1 } }] } },
      { set: { name: 'someone_else', elem: ['198.51.100.1'] } },
    ] });
    assert.deepEqual(parseTableJson(json, names).map((e) => [e.set, e.target.text, e.expiresInMs]), [
      ['sshd', '192.0.2.10', 599_000],
      ['sshd', '192.0.2.12', null],
      ['sshd', '2001:db8:1::/64', 1000],
    ]);
  });
});

describe('ipset batches', () => {
  test('set names fit in ipset\'s 31 characters and stay distinct', () => {
    const long = 'a-very-long-jail-name-that-goes-on-and-on';
    const name = ipsetName('fleetban', long, 'n6');
    assert.ok(name.length <= 31 && name.endsWith('-n6'), name);
    assert.notEqual(name, ipsetName('fleetban', `${long}-2`, 'n6'));
    assert.equal(ipsetName('fleetban', 'sshd', 'a4'), 'fleetban-sshd-a4');
    assert.equal(ipsetName('fleetban', OTHER_JAILS, 'a4'), 'fleetban-.other-a4');
    assert.equal(fit('x'.repeat(40), '-a4', 31).length, 31);
  });

  test('timeouts are whole seconds rounded up, and 0 means none', () => {
    assert.equal(batchLines('fb', [
      { set: 'sshd', target: t('192.0.2.10'), timeoutMs: 1001, replace: false },
      { set: 'sshd', target: t('2001:db8::/64'), timeoutMs: null, replace: true },
    ], [{ set: 'web', target: t('192.0.2.11') }]), 'del fb-web-a4 192.0.2.11\nadd fb-sshd-a4 192.0.2.10 timeout 2\nadd fb-sshd-n6 2001:db8::/64 timeout 0\n');
  });

  test('saved entries come back with their set and timeout', () => {
    const names = new Map([['fb-sshd-a4', 'sshd'], ['fb-sshd-n6', 'sshd']]);
    const text = 'create fb-sshd-a4 hash:ip family inet hashsize 1024 maxelem 65536 timeout 0\nadd fb-sshd-a4 192.0.2.10 timeout 59\nadd fb-sshd-n6 2001:db8::/64 timeout 0\nadd other 198.51.100.1 timeout 5\n';
    assert.deepEqual(parseSave(text, names).map((e) => [e.set, e.target.text, e.expiresInMs]), [['sshd', '192.0.2.10', 59_000], ['sshd', '2001:db8::/64', null]]);
  });
});

describe('iptables rules', () => {
  test('a rule per address carries a datestop rounded up to the second, in UTC', () => {
    assert.equal(datestop(Date.UTC(2030, 0, 1, 0, 0, 0, 1)), '2030-01-01T00:00:01');
    assert.deepEqual(ruleSpec({ blocktype: 'reject' }, t('192.0.2.10'), Date.UTC(2030, 0, 1)), ['-s', '192.0.2.10', '-m', 'time', '--datestop', '2030-01-01T00:00:00', '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable']);
    assert.deepEqual(ruleSpec({ blocktype: 'drop' }, t('2001:db8::/64'), null), ['-s', '2001:db8::/64', '-j', 'DROP']);
    assert.deepEqual(ruleSpec({ blocktype: 'drop' }, t('192.0.2.10'), Date.UTC(2040, 0, 1)), ['-s', '192.0.2.10', '-j', 'DROP'], 'past what xt_time takes: the enforcer removes it');
  });

  test('listed rules of fleetban chains come back with their end', () => {
    const text = '-N fb-sshd\n-A INPUT -j fb.in\n-A fb-sshd -s 192.0.2.10/32 -m time --datestop 2030-01-01T00:00:00 -j REJECT --reject-with icmp-port-unreachable\n-A fb-sshd -s 2001:db8::/64 -j DROP\n-A other -s 192.0.2.11/32 -j DROP\n';
    const rules = parseRules(text, new Set(['fb-sshd']));
    assert.deepEqual(rules.map((r) => [r.target.text, r.until]), [['192.0.2.10', Date.UTC(2030, 0, 1)], ['2001:db8::/64', null]]);
    assert.deepEqual(rules[1]!.spec, ['-s', '2001:db8::/64', '-j', 'DROP']);
  });

  test('multiport takes at most 15 ports, so long lists become several rules; protocol all means tcp, udp and sctp', () => {
    const ports = Array.from({ length: 20 }, (_, i) => String(1000 + i));
    assert.deepEqual(portMatches({ ports, protocol: 'tcp' }).map((m) => m.at(-1)!.split(',').length), [15, 5]);
    assert.deepEqual(portMatches({ ports: ['ssh'], protocol: 'all' }).map((m) => m[1]), ['tcp', 'udp', 'sctp']);
    assert.deepEqual(portMatches({ ports: [], protocol: 'all' }), [[]]);
    assert.ok(setChain('a'.repeat(24), 'x'.repeat(64)).length <= 28);
  });
});

describe('xt_recent lists', () => {
  const lists = listsOf('fb', 'sshd', [5000, 60_000, 3_600_000], 4);

  test('a ban goes to the shortest list at least as long as what is left, a permanent one to the list without --seconds', () => {
    assert.deepEqual(lists.map((l) => [l.name, l.seconds]), [['fb-sshd-v4-5s', 5], ['fb-sshd-v4-60s', 60], ['fb-sshd-v4-3600s', 3600], ['fb-sshd-v4-perm', null]]);
    assert.equal(listFor(lists, 4200).name, 'fb-sshd-v4-5s');
    assert.equal(listFor(lists, 5000).name, 'fb-sshd-v4-5s');
    assert.equal(listFor(lists, 5001).name, 'fb-sshd-v4-60s');
    assert.equal(listFor(lists, 3_600_000).name, 'fb-sshd-v4-3600s');
    assert.equal(listFor(lists, null).name, 'fb-sshd-v4-perm');
    assert.equal(listsOf('fb', 'sshd', [5000], 6)[0]!.name, 'fb-sshd-v6-5s', 'each family has its own lists');
  });

  test("IPv6 rules match with the jail's prefix as a mask", () => {
    assert.equal(maskFor(6, 64), 'ffff:ffff:ffff:ffff::');
    assert.equal(maskFor(4, 64), '255.255.255.255');
  });

  test('list files are read back as canonical addresses', () => {
    const text = 'src=192.0.2.10 ttl: 64 last_seen: 4295258923 oldest_pkt: 1 4295258923\nsrc=2001:0db8:0000:0000:0000:0000:0000:0006 ttl: 0 last_seen: 1 oldest_pkt: 1 1\n';
    assert.deepEqual(parseList(text), ['192.0.2.10', '2001:db8::6']);
  });
});

describe('set-up steps', () => {
  test('checks print as shell conditions and batches as here-documents, for an operator to read', () => {
    const text = printSteps([
      { unless: { tool: 'iptables', args: ['-C', 'INPUT', '-j', 'fb.in'] }, command: { tool: 'iptables', args: ['-I', 'INPUT', '1', '-j', 'fb.in'] } },
      { command: { tool: 'nft', args: ['-f', '-'], stdin: 'add table inet fb\n' } },
    ], 'edge');
    assert.equal(text, "ip netns exec edge iptables -C INPUT -j fb.in >/dev/null 2>&1 || ip netns exec edge iptables -I INPUT 1 -j fb.in\nip netns exec edge nft -f - <<'EOF'\nadd table inet fb\nEOF\n");
    assert.equal(describeCommand({ tool: 'chown', args: ["o'brien", '/x y'] }), `chown 'o'\\''brien' '/x y'`);
  });
});

describe('the set of jails the config does not define', () => {
  test('refuses what defaults.ignoreip names, as fleetban ban does, so a manual decision published around the CLI never lands', () => {
    const config = testConfig({ defaults: { ignoreip: ['198.51.100.0/24'] }, jails: { sshd: {} } });
    const other = enforcedSets(config, []).find((s) => s.key === OTHER_JAILS);
    assert.ok(other);
    assert.equal(other.allowlist.has('198.51.100.7'), true);
    assert.equal(other.allowlist.has('203.0.113.7'), false);
    const sshd = enforcedSets(config, []).find((s) => s.key === 'sshd');
    assert.equal(sshd?.allowlist.has('198.51.100.7'), true, 'a defined jail inherits defaults.ignoreip as its own ignoreip');
  });
});
