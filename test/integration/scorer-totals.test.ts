import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BanDecision } from '../../shared/schema/index.ts';
import { stopProcess } from '../harness/index.ts';
import { eventually, failure, ScorerStack } from '../fixtures/scorer/stack.ts';

describe('status totals when a scorer is killed', () => {
  test('SIGKILL mid-storm, then a restart: Total failed and Total banned equal exactly what was counted and banned', async (t) => {
    const stack = await ScorerStack.start({ scorer: { ackWait: '2s' }, jails: { sshd: { maxretry: 2, findtime: '1h', bantime: '1h' } } });
    try {
      const ips = Array.from({ length: 3000 }, (_, i) => `2001:db8:${(i + 1).toString(16)}::1`);
      const now = Date.now();
      const events = [0, 1].flatMap((k) => ips.map((ip, i) => failure({ ip, time: now - 60_000 + k * 1000 + i })));
      let scorer = await stack.spawn();
      t.after(() => stopProcess(scorer.child, 'SIGKILL'));
      const publishing = stack.publish(events, { concurrency: 64 });
      // Killed while bans are being decided: some acknowledged, others under way.
      await eventually('the storm under way', async () => (await stack.jsm.consumers.info(stack.subjects.failuresStream, 'scorer')).ack_floor.stream_seq >= ips.length + 300, 120_000);
      await stopProcess(scorer.child, 'SIGKILL');
      const atKill = await stack.jsm.consumers.info(stack.subjects.failuresStream, 'scorer');
      await publishing;
      assert.ok(atKill.ack_floor.stream_seq < events.length, `killed mid-storm (${atKill.ack_floor.stream_seq} of ${events.length} acknowledged)`);
      t.diagnostic(`killed with ${atKill.ack_floor.stream_seq} of ${events.length} failures acknowledged`);

      scorer = await stack.spawn();
      await eventually('nothing left to process', async () => {
        const left = await stack.failuresBacklog();
        return left.pending === 0 && left.ackPending === 0;
      }, 120_000);
      const bans = (await stack.decisions()).filter((d): d is BanDecision => d.action === 'ban');
      assert.equal(bans.length, ips.length, 'one ban per address');
      const expected = { totalFailed: events.length, totalBanned: ips.length, currentlyBanned: ips.length, currentlyFailed: 0 };
      const figures = async () => {
        const s = (await stack.status({ jail: 'sshd', limit: 0 })).jails[0]!;
        return { totalFailed: s.totalFailed, totalBanned: s.totalBanned, currentlyBanned: s.currentlyBanned, currentlyFailed: s.currentlyFailed };
      };
      // The figures are written a moment after the last acknowledgement; wait for them, then compare what is there.
      await eventually('the exact figures', async () => JSON.stringify(await figures()) === JSON.stringify(expected), 15_000).catch(() => undefined);
      assert.deepEqual(await figures(), expected);
    } finally {
      await stack.dispose();
    }
  });
});
