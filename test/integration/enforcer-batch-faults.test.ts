import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Decision } from '../../shared/schema/index.ts';
import { nftSetName } from '../../services/enforcer/backends/nftables/plan.ts';
import { netnsSkipReason } from '../harness/index.ts';
import { kernelRig, TABLE } from './enforcer-kernel.ts';

const skip = netnsSkipReason();

/**
 * Issue 15, finding 1 (second half): one entry the firewall refuses took its
 * whole batch down, for ever, and at start the whole ban set is one batch.
 */
describe('a batch with entries the kernel refuses, in a namespace', { skip }, () => {
  test('nftables: with one kernel set removed by hand, the start batch still puts every other ban in, and only the refused entries wait', async () => {
    const rig = await kernelRig('nftables');
    try {
      // IPv6 addresses of this jail go to a set that someone deleted behind the enforcer's back.
      await rig.ns.ok('nft', ['-f', '-'], { input: `flush chain inet ${TABLE} input\ndelete set inet ${TABLE} ${nftSetName('sshd', 'a6')}\n` });
      const v4 = Array.from({ length: 300 }, (_, i) => `198.51.100.${i % 250}`).slice(0, 250);
      const v6 = ['2001:db8::10', '2001:db8::11'];
      let n = 0;
      for (const target of [...v4.slice(0, 120), ...v6, ...v4.slice(120)]) {
        const d: Decision = { v: 1, id: `f${++n}`, action: 'ban', jail: 'sshd', target, time: rig.now(), duration: 3_600_000, origin: 'scorer' };
        rig.state.decide(d);
      }
      await rig.applier.flush('start');
      const kernel = await rig.kernel();
      assert.deepEqual([...kernel.keys()].sort(), [...v4].sort());
      assert.deepEqual(rig.state.problemCounts(), { refused: 0, failed: 2 });
      assert.equal(rig.telemetry.tally.failedEntries, 2);
      assert.ok(rig.telemetry.tally.lastCommitError?.error.includes('No such file or directory'), rig.telemetry.tally.lastCommitError?.error);
    } finally {
      await rig.close();
    }
  });
});
