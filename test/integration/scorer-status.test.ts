import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BanDecision, Decision } from '../../shared/schema/index.ts';
import { eventually, failure, ScorerStack } from '../fixtures/scorer/stack.ts';

describe('the scorer status service', () => {
  let stack: ScorerStack;
  let scorer: ReturnType<ScorerStack['runInProcess']>;
  before(async () => {
    stack = await ScorerStack.start({ jails: { sshd: { maxretry: 1, findtime: '10m', bantime: '10m' } } });
    scorer = stack.runInProcess();
    await stack.streamsReady();
  });
  after(async () => {
    assert.equal(await scorer.stop(), 0);
    await stack.dispose();
  });

  /** The raw reply to a status request: the service error code and text, if any. */
  const ask = async (data: string) => {
    const reply = await stack.nc.request('fleetban.svc.scorer.status', data, { timeout: 5000 });
    return { code: reply.headers?.get('Nats-Service-Error-Code') ?? '', error: reply.headers?.get('Nats-Service-Error') ?? '' };
  };
  const decisionsMirrored = () =>
    eventually('every decision mirrored', async () => {
      const info = await stack.jsm.consumers.info(stack.subjects.decisionsStream, 'scorer-decisions');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
  const jailNames = async () => (await stack.status()).jails.map((j) => j.jail);

  test('a bad request is answered 400 with what is wrong, not 500', async () => {
    const notJson = await ask('{not json');
    assert.equal(notJson.code, '400');
    assert.match(notJson.error, /not JSON/);
    const tooMany = await ask(JSON.stringify({ limit: 5000 }));
    assert.equal(tooMany.code, '400');
    assert.match(tooMany.error, /limit/);
    const unknown = await ask(JSON.stringify({ jail: 'nope' }));
    assert.equal(unknown.code, '400');
    assert.match(unknown.error, /no jail "nope"/);
    assert.deepEqual(await ask('{}'), { code: '', error: '' }, 'a good request still answers');
  });

  test('a ban from one failure says "1 failure", in the decision and in status', async () => {
    await stack.publish([failure({ ip: '192.0.2.77' })]);
    const [ban] = await eventually('the ban', async () => {
      const found = (await stack.decisions()).filter((d): d is BanDecision => d.action === 'ban' && d.target === '192.0.2.77');
      return found.length > 0 ? found : undefined;
    });
    assert.equal(ban!.reason, '1 failure within 10m');
    const shown = await eventually('the ban in status', async () => (await stack.status({ jail: 'sshd' })).jails[0]!.banned.find((b) => b.target === '192.0.2.77'));
    assert.equal(shown.reason, '1 failure within 10m');
  });

  test('a jail only manual decisions name is listed while a ban holds there; a mistyped unban jail is never listed', async () => {
    const now = Date.now();
    const typo: Decision = { v: 1, id: 'unban-typo', action: 'unban', jail: 'sshdd', target: '192.0.2.5', time: now, origin: 'manual', by: 'alice' };
    const manual: Decision = { v: 1, id: 'ban-manual', action: 'ban', jail: 'manual', target: '192.0.2.6', time: now, duration: 3000, origin: 'manual', by: 'alice' };
    await stack.publishDecision(typo);
    await stack.publishDecision(manual);
    await decisionsMirrored();
    assert.deepEqual(await jailNames(), ['manual', 'sshd'], 'the manual ban holds; the mistyped jail holds nothing');
    await eventually('the manual jail to fade once its ban ended', async () => (await jailNames()).join() === 'sshd', 15_000);
    const redis = await stack.redisClient();
    assert.equal(await redis.zcard('fleetban:{jails}:live'), 0, 'nothing kept for jails that hold nothing');
  });
});
