import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BanDecision, Decision } from '../../shared/schema/index.ts';
import { eventually, failure, ScorerStack } from '../fixtures/scorer/stack.ts';

const HOUR = 3_600_000;

describe('a scorer following manual decisions and rejecting bad messages', () => {
  let stack: ScorerStack;
  let scorer: ReturnType<ScorerStack['runInProcess']>;
  before(async () => {
    stack = await ScorerStack.start({ jails: { sshd: { maxretry: 3, findtime: '10m', bantime: '10m' } } });
    scorer = stack.runInProcess();
    await stack.streamsReady();
  });
  after(async () => {
    assert.equal(await scorer.stop(), 0);
    await stack.dispose();
  });

  const scorerBans = async (target: string) => (await stack.decisions()).filter((d): d is BanDecision => d.action === 'ban' && d.origin === 'scorer' && d.target === target);
  const settled = () =>
    eventually('every failure acknowledged', async () => {
      const backlog = await stack.failuresBacklog();
      return backlog.pending === 0 && backlog.ackPending === 0;
    });
  const sshd = async () => (await stack.status({ jail: 'sshd' })).jails[0]!;

  test('a manual ban holds the address back, and a manual unban clears ban and window so counting starts again', async () => {
    const now = Date.now();
    const ip = '203.0.113.50';
    await stack.publish([failure({ ip, time: now - 5000 }), failure({ ip, time: now - 4000 })]);
    await eventually('two failures counted', async () => (await sshd()).currentlyFailed === 1);

    const ban: Decision = { v: 1, id: 'manual-ban-1', action: 'ban', jail: 'sshd', target: ip, time: now - 3000, duration: HOUR, origin: 'manual', reason: 'seen in the honeypot', by: 'alice' };
    await stack.publishDecision(ban);
    const banned = await eventually('the manual ban in status', async () => {
      const s = await sshd();
      return s.currentlyBanned === 1 ? s : undefined;
    });
    assert.deepEqual(
      { ...banned.banned[0]!, remaining: undefined },
      { target: ip, start: now - 3000, duration: HOUR, remaining: undefined, origin: 'manual', reason: 'seen in the honeypot', by: 'alice' },
    );
    assert.equal(banned.currentlyFailed, 0, 'the window was cleared with the ban');

    await stack.publish([1, 2, 3, 4].map((i) => failure({ ip, time: now - 2000 + i })));
    await settled();
    assert.equal((await scorerBans(ip)).length, 0, 'no scorer ban while the manual ban holds');

    await stack.publishDecision({ v: 1, id: 'manual-unban-1', action: 'unban', jail: 'sshd', target: ip, time: now - 1000, origin: 'manual', by: 'alice' });
    await eventually('the unban in status', async () => (await sshd()).currentlyBanned === 0);

    await stack.publish([1, 2].map((i) => failure({ ip, time: now + i })));
    await settled();
    assert.equal((await scorerBans(ip)).length, 0, 'two failures after the unban are below maxretry 3');
    await stack.publish([failure({ ip, time: now + 3 })]);
    await eventually('the scorer bans again', async () => (await scorerBans(ip)).length === 1);
  });

  test('a permanent manual ban of a network in a jail this scorer does not run is mirrored and listed', async () => {
    await stack.publishDecision({ v: 1, id: 'manual-ban-net', action: 'ban', jail: 'manual', target: '198.51.100.0/24', time: Date.now(), duration: -1, origin: 'manual', by: 'bob' });
    const jail = await eventually('the manual jail in status', async () => (await stack.status()).jails.find((j) => j.jail === 'manual' && j.currentlyBanned === 1));
    assert.deepEqual({ target: jail.banned[0]!.target, remaining: jail.banned[0]!.remaining, duration: jail.banned[0]!.duration }, { target: '198.51.100.0/24', remaining: -1, duration: -1 });
  });

  test('malformed failures, failures on the wrong subject and failures of unknown jails are counted, logged once and acknowledged', async () => {
    const before = (await stack.stats())[0]!;
    for (let i = 0; i < 5; i++) await stack.publishRaw('fleetban.fail.sshd', 'not json at all');
    await stack.publishRaw('fleetban.fail.sshd', JSON.stringify({ ...failure({ ip: '192.0.2.1' }), v: 2 }));
    await stack.publishRaw('fleetban.fail.sshd', JSON.stringify({ ...failure({ ip: '192.0.2.1' }), ip: '192.0.2.001' }));
    await stack.publishRaw('fleetban.fail.sshd', JSON.stringify(failure({ ip: '192.0.2.1', jail: 'nginx' })));
    await stack.publishRaw('fleetban.fail.nginx', JSON.stringify(failure({ ip: '192.0.2.1', jail: 'nginx' })));
    await settled();
    const after = await eventually('the rejections counted', async () => {
      const s = (await stack.stats())[0]!;
      return Number(s.rejected) - Number(before.rejected) === 9 ? s : undefined;
    });
    assert.equal(Number(after.failures) - Number(before.failures), 0, 'none of them reached Redis');
    const warnings = scorer.logs().filter((l) => l.msg === 'message rejected and acknowledged');
    assert.equal(warnings.filter((l) => String(l.detail).startsWith('not JSON')).length, 1, 'five identical bad messages, one log line');
    assert.deepEqual(
      [...new Set(warnings.map((l) => l.reason))].sort(),
      ['malformed', 'subject', 'unknown-jail'],
    );
  });
});
