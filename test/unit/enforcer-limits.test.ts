import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../../shared/config/index.ts';
import { BACKENDS, createExec } from '../../services/enforcer/backends/index.ts';
import { quietLogger, testConfig } from '../harness/index.ts';

/** The limits measured on the real tools (nft 1.0.6, ipset 7.17, iptables 1.8.9, Linux 6.x); see the README's Timeouts. */
describe('each backend states the timeout limit its tool really takes', () => {
  const traits = (name: 'nftables' | 'ipset' | 'xt_recent' | 'iptables') =>
    BACKENDS[name].create({ config: testConfig({}), exec: createExec(), log: quietLogger() }).traits;

  test('nftables caps below the 100,000,000 ms nft refuses ("value too large")', () => {
    assert.ok(traits('nftables').maxTimeoutMs < 100_000_000);
  });

  test('ipset caps at its 2147483 s', () => {
    assert.equal(traits('ipset').maxTimeoutMs, 2_147_483_000);
  });

  test('xt_recent caps at its longest list, and config check refuses a list over 49 days', () => {
    assert.equal(traits('xt_recent').maxTimeoutMs, 604_800_000);
    const parsed = parseConfig('enforcer:\n  xtRecent:\n    lists: [1h, 50d]\n', 'lists.yaml', { hostname: 'h' });
    assert.equal(parsed.ok, false);
    assert.ok(!parsed.ok && parsed.problems.some((p) => /49d/.test(p.message) && p.line === 3), JSON.stringify(!parsed.ok && parsed.problems));
    assert.ok(parseConfig('enforcer:\n  xtRecent:\n    lists: [1h, 49d]\n', 'lists.yaml', { hostname: 'h' }).ok);
  });
});
