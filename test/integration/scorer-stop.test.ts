import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import type { BanDecision } from '../../shared/schema/index.ts';
import { stopProcess } from '../harness/index.ts';
import { eventually, failure, ScorerStack } from '../fixtures/scorer/stack.ts';

/** How long a stop may take before the test calls it hung: a bound on behaviour, not a benchmark. */
const STOP_BOUND_MS = 10_000;

/** SIGTERM, then the exit code, or 'still running' after the bound (the child is then killed). */
async function terminate(child: ChildProcess): Promise<number | string> {
  const exited = once(child, 'exit').then(() => child.exitCode ?? String(child.signalCode));
  process.kill(child.pid!, 'SIGTERM');
  const bound = new Promise<string>((resolve) => setTimeout(() => resolve('still running'), STOP_BOUND_MS).unref());
  const outcome = await Promise.race([exited, bound]);
  if (outcome === 'still running') await stopProcess(child, 'SIGKILL');
  return outcome;
}

const jails = { sshd: { maxretry: 2, findtime: '1h', bantime: '1h' } };

/** Two failures for each of `n` addresses: each address is banned once its failures are scored. */
function pairs(n: number, now: number) {
  const ips = Array.from({ length: n }, (_, i) => `198.51.100.${i + 1}`);
  return { ips, events: ips.flatMap((ip) => [failure({ ip, time: now - 2000 }), failure({ ip, time: now - 1000 })]) };
}

/** After the outage: a new scorer scores what the stopped one left, and every address is banned exactly once. */
async function everyAddressBannedOnce(stack: ScorerStack, ips: readonly string[]): Promise<void> {
  const scorer = await stack.spawn();
  try {
    const bans = await eventually('every address banned', async () => {
      const found = (await stack.decisions()).filter((d): d is BanDecision => d.action === 'ban');
      return found.length >= ips.length ? found : undefined;
    }, 60_000);
    assert.equal(bans.length, ips.length, 'one ban per address, none twice');
    assert.deepEqual(new Set(bans.map((b) => b.target)), new Set(ips));
    assert.ok(bans.every((b) => b.failures === 2), 'each ban counted both failures of its address: none lost');
  } finally {
    await stopProcess(scorer.child, 'SIGKILL');
  }
}

describe('a scorer asked to stop while Redis is unavailable', () => {
  test('Redis frozen (SIGSTOP) with scripts in flight: SIGTERM ends the scorer, and nothing it held is lost', async (t) => {
    const stack = await ScorerStack.start({ scorer: { ackWait: '3s' }, jails });
    const frozen = stack.redis.pid!;
    const thaw = () => {
      try {
        process.kill(frozen, 'SIGCONT');
      } catch {
        // gone with the stack
      }
    };
    t.after(thaw);
    try {
      const scorer = await stack.spawn();
      t.after(() => stopProcess(scorer.child, 'SIGKILL'));
      process.kill(frozen, 'SIGSTOP');
      const { ips, events } = pairs(50, Date.now());
      await stack.publish(events);
      // The scorer has taken failures and waits on a Redis that does not answer.
      await eventually('failures delivered to the scorer', async () => (await stack.failuresBacklog()).ackPending > 0, 30_000);

      assert.equal(await terminate(scorer.child), 0, `the scorer stops with Redis frozen:\n${scorer.output().slice(-1500)}`);
      thaw();
      await everyAddressBannedOnce(stack, ips);
    } finally {
      await stack.dispose();
    }
  });

  test('Redis stopped: the scorer pauses pulling, SIGTERM ends it, and nothing it held is lost', async (t) => {
    const stack = await ScorerStack.start({ scorer: { ackWait: '3s' }, jails });
    try {
      const scorer = await stack.spawn();
      t.after(() => stopProcess(scorer.child, 'SIGKILL'));
      await stack.redis.stop();
      const { ips, events } = pairs(50, Date.now());
      await stack.publish(events);
      await eventually('the scorer to notice', () => /Redis unavailable: not acknowledging failures/.test(scorer.output()), 30_000);

      // Paused: nothing is pulled (and given back) while Redis is away.
      const info = () => stack.jsm.consumers.info(stack.subjects.failuresStream, 'scorer');
      await new Promise((r) => setTimeout(r, 2000));
      const before = (await info()).delivered.consumer_seq;
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal((await info()).delivered.consumer_seq, before, 'no failure delivered while Redis is down');

      assert.equal(await terminate(scorer.child), 0, `the scorer stops with Redis down:\n${scorer.output().slice(-1500)}`);
      await stack.redis.start();
      await everyAddressBannedOnce(stack, ips);
    } finally {
      await stack.dispose();
    }
  });
});
