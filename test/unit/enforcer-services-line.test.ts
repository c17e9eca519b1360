import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { keyStats } from '../../services/cli/commands/services/render.ts';

describe('the enforcer line of `fleetban services`', () => {
  const healthy = { phase: 'live', activeBans: 3, kernel: { 'nftables/sshd': 3 }, streamSequence: 9, notApplied: { refused: 0, failed: 0 }, commitErrors: 0, feed: 'following' };

  test('a healthy enforcer says live and nothing more', () => {
    assert.equal(keyStats('enforcer', healthy), 'live, active bans 3, kernel entries 3, stream seq 9');
  });

  test('an enforcer with bans it could not apply is not shown as plain live: it says how many and why', () => {
    const line = keyStats('enforcer', { ...healthy, notApplied: { refused: 1, failed: 2 }, commitErrors: 5, lastCommitError: { backend: 'nftables', error: 'nft -f - failed (exit 1): Error: value too large' } });
    assert.match(line, /^live DEGRADED: 3 bans not applied \(2 failed, 1 refused\), commit errors 5 \(last: nft -f - failed \(exit 1\): Error: value too large\)/);
  });

  test('commit errors show even when every entry landed in the end', () => {
    assert.match(keyStats('enforcer', { ...healthy, commitErrors: 2 }), /^live, commit errors 2, active bans 3/);
  });

  test('an enforcer whose decisions feed lost its server says so', () => {
    assert.match(keyStats('enforcer', { ...healthy, feed: 'reconnecting' }), /^live, decisions feed reconnecting, /);
  });
});
