import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { canConnect, edgeAndAttacker, Netns, netnsSkipReason, tcpConnect, tcpListener } from '../harness/index.ts';

const skip = netnsSkipReason();

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

describe('network namespaces for tests', { skip }, () => {
  test('a namespace is created and removed', async () => {
    const ns = await Netns.create('probe');
    assert.ok(namespaces().includes(ns.name));
    assert.match(await ns.ok('ip', ['-o', 'link', 'show', 'lo']), /UP|UNKNOWN/);
    await ns.remove();
    assert.ok(!namespaces().includes(ns.name));
  });

  test('an attacker namespace reaches the edge over IPv4 and IPv6 from each of its addresses', async () => {
    const net = await edgeAndAttacker();
    try {
      const listener = await tcpListener(net.edge, [8080]);
      for (const from of net.attackerV4) assert.equal(await tcpConnect(net.attacker, from, net.edgeV4, 8080), 'connected', from);
      assert.equal(await canConnect(net.attacker, net.attackerV6[0]!, net.edgeV6, 8080), true);
      assert.equal(await tcpConnect(net.attacker, net.attackerV4[0]!, net.edgeV4, 8081), 'refused');
      await listener.stop();
    } finally {
      await net.remove();
    }
    assert.ok(!namespaces().includes(net.edge.name));
    assert.ok(!namespaces().includes(net.attacker.name));
  });

  test('a firewall rule inside a namespace does not touch the host', async () => {
    const before = execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' });
    const net = await edgeAndAttacker();
    try {
      const listener = await tcpListener(net.edge, [8080]);
      await net.edge.ok('nft', ['-f', '-'], { input: 'table inet fbtest {\n chain input {\n type filter hook input priority 0;\n ip saddr 192.0.2.10 drop\n }\n}\n' });
      assert.equal(await tcpConnect(net.attacker, '192.0.2.10', net.edgeV4, 8080, 500), 'timeout');
      assert.equal(await canConnect(net.attacker, '192.0.2.11', net.edgeV4, 8080), true);
      await listener.stop();
    } finally {
      await net.remove();
    }
    assert.equal(execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }), before);
  });
});
