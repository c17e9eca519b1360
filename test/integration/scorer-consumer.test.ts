import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ScorerStack } from '../fixtures/scorer/stack.ts';

describe('the scorer\'s durable consumers', () => {
  test('are created once, shared, and take a changed ackWait or maxAckPending on the next start', async () => {
    const stack = await ScorerStack.start({ scorer: { ackWait: '30s' }, jails: { sshd: {} } });
    try {
      const first = stack.runInProcess();
      await stack.streamsReady();
      const info = async (name: string, stream: string) => stack.jsm.consumers.info(stream, name).catch(() => undefined);
      const created = await (async () => {
        for (let i = 0; i < 100; i++) {
          const c = await info('scorer', stack.subjects.failuresStream);
          if (c && (await info('scorer-decisions', stack.subjects.decisionsStream))) return c;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('consumers not created');
      })();
      assert.equal(created.config.ack_wait, 30_000_000_000);
      assert.equal(created.config.ack_policy, 'explicit');
      assert.equal(created.config.deliver_policy, 'all');
      assert.equal(created.config.filter_subject ?? '', '', 'no filter: the stream holds exactly the failures');
      assert.equal(await first.stop(), 0);

      stack.configure({ scorer: { ackWait: '5s', maxAckPending: 1234 }, jails: { sshd: {} } });
      const second = stack.runInProcess();
      const updated = await (async () => {
        for (let i = 0; i < 100; i++) {
          const c = await info('scorer', stack.subjects.failuresStream);
          if (c?.config.ack_wait === 5_000_000_000) return c;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('ackWait not updated');
      })();
      assert.equal(updated.config.max_ack_pending, 1234);
      assert.equal((await stack.jsm.consumers.list(stack.subjects.failuresStream).next()).length, 1, 'still one shared consumer');
      assert.equal(await second.stop(), 0);
    } finally {
      await stack.dispose();
    }
  });
});
