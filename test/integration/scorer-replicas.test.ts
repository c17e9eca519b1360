import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Decision, FailureEvent } from '../../shared/schema/index.ts';
import { stopProcess } from '../harness/index.ts';
import { eventually, failure, ScorerStack } from '../fixtures/scorer/stack.ts';

const JAILS = { sshd: { maxretry: 5, findtime: '1h', bantime: '1h' } };

/** `addresses` attackers, 5 failures each from 5 hosts, interleaved so every attacker's failures are spread over the stream. */
function attack(addresses: number, base: string): { events: FailureEvent[]; targets: string[] } {
  const now = Date.now();
  const targets = Array.from({ length: addresses }, (_, i) => `${base}${(i + 1).toString(16)}`);
  const events = [0, 1, 2, 3, 4].flatMap((k) => targets.map((ip, i) => failure({ ip, host: `web${k}`, time: now - 60_000 + k * 1000 + (i % 1000) })));
  return { events, targets };
}

function checkOnePerTarget(decisions: Decision[], targets: string[]): void {
  const bans = decisions.filter((d) => d.action === 'ban');
  assert.equal(new Set(bans.map((d) => d.id)).size, bans.length, 'no decision id twice');
  assert.equal(new Set(bans.map((d) => d.target)).size, bans.length, 'no target banned twice');
  assert.deepEqual(new Set(bans.map((d) => d.target)), new Set(targets), 'every attacker banned');
}

describe('scorer replicas sharing one durable consumer', () => {
  test('two replicas consuming the same stream produce exactly one decision per ban', async () => {
    const stack = await ScorerStack.start({ scorer: { ackWait: '3s' }, jails: JAILS });
    try {
      const [a, b] = await Promise.all([stack.spawn(), stack.spawn()]);
      const { events, targets } = attack(1000, '2001:db8:1::');
      await stack.publish(events);
      await eventually('every failure acknowledged', async () => {
        const backlog = await stack.failuresBacklog();
        return backlog.pending === 0 && backlog.ackPending === 0;
      }, 120_000);
      const decisions = await eventually('1000 bans', async () => {
        const d = await stack.decisions();
        return d.length >= targets.length ? d : undefined;
      });
      checkOnePerTarget(decisions, targets);
      assert.equal(decisions.length, targets.length);
      const stats = await stack.stats();
      assert.equal(stats.length, 2, 'both replicas answer the service API');
      for (const s of stats) assert.ok(Number(s.failures) > 0, `each replica took a share of the failures (${JSON.stringify(stats)})`);
      await Promise.all([stopProcess(a.child), stopProcess(b.child)]);
    } finally {
      await stack.dispose();
    }
  });

  test('a replica SIGKILLed in the middle of 20,000 failures loses none: every ban decided once, none twice', async () => {
    const stack = await ScorerStack.start({ scorer: { ackWait: '3s' }, jails: JAILS });
    try {
      // The first replica creates the streams; the failures wait in them.
      const first = await stack.spawn();
      await stopProcess(first.child);
      const { events, targets } = attack(4000, '2001:db8:2::');
      await stack.publish(events);
      assert.equal(events.length, 20_000);

      const [victim, survivor] = await Promise.all([stack.spawn(), stack.spawn()]);
      await eventually('a fifth of the failures acknowledged', async () => (await stack.jsm.consumers.info(stack.subjects.failuresStream, 'scorer')).ack_floor.stream_seq >= 4000, 120_000);
      const atKill = await stack.jsm.consumers.info(stack.subjects.failuresStream, 'scorer');
      victim.child.kill('SIGKILL');
      assert.ok(atKill.num_pending + atKill.num_ack_pending > 0, 'killed while failures were still to do');

      await eventually('every failure acknowledged', async () => {
        const backlog = await stack.failuresBacklog();
        return backlog.pending === 0 && backlog.ackPending === 0;
      }, 180_000);
      const decisions = await eventually('4000 bans', async () => {
        const d = await stack.decisions();
        return d.length >= targets.length ? d : undefined;
      });
      assert.equal(decisions.length, targets.length, 'as many decisions as attackers');
      checkOnePerTarget(decisions, targets);
      const [stats] = await stack.stats();
      assert.ok(Number(stats!.redeliveries) > 0, 'the survivor took over what the killed replica held');
      assert.equal(survivor.child.exitCode, null);
      await stopProcess(survivor.child);
    } finally {
      await stack.dispose();
    }
  });
});
