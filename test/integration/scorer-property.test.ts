import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { jailRules } from '../../services/scorer/core/rules.ts';
import { decide, emptyTargetState, type Failure, type TargetState } from '../../services/scorer/core/window.ts';
import { KeyLayout } from '../../services/scorer/redis/keys.ts';
import { ScoreStore } from '../../services/scorer/redis/store.ts';
import { closeRedis, connectRedis, type RedisClient } from '../../shared/redis/index.ts';
import { quietLogger, RedisServer, testConfig } from '../harness/index.ts';

const SECOND = 1000;
const DAY = 86_400 * SECOND;
const YEAR = 365 * DAY;
const BASE = 1_700_000_000_000;
const TARGETS = ['192.0.2.1', '192.0.2.2', '2001:db8::1'];

/** A jail over the whole range of its settings (fail2ban's stock values among them). */
const jailArb = fc.record({
  // Small values most of the time, so that sequences reach maxretry; any value up to 100 too.
  maxretry: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 100 })),
  findtime: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 86_400 })),
  bantime: fc.oneof(fc.integer({ min: 1, max: 35 * 86_400 }), fc.constantFrom(-1, 600, 604_800, 3_024_000)),
  increment: fc.boolean(),
});
type JailArb = typeof jailArb extends fc.Arbitrary<infer T> ? T : never;

/** A new failure (`advance`: stream time passing; `ahead`: log time minus receipt) or a redelivery of an earlier one. */
type Step = { kind: 'new'; target: number; advance: number; ahead: number } | { kind: 'again'; pick: number };

function stepsArb(findtimeMs: number): fc.Arbitrary<Step[]> {
  const fresh = fc.record({
    kind: fc.constant('new' as const),
    target: fc.integer({ min: 0, max: TARGETS.length - 1 }),
    advance: fc.integer({ min: 0, max: Math.max(1, Math.floor(findtimeMs / 3)) }),
    // Late (older than findtime too), slightly ahead, or ahead by a wrong clock.
    ahead: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: -2 * findtimeMs, max: 10 * SECOND }) },
      { weight: 1, arbitrary: fc.constantFrom(30 * 60 * SECOND, 30 * YEAR) },
    ),
  });
  const again = fc.record({ kind: fc.constant('again' as const), pick: fc.nat() });
  return fc.array(fc.oneof({ weight: 4, arbitrary: fresh }, { weight: 1, arbitrary: again }), { minLength: 1, maxLength: 40 });
}

/** The failures in stream order: a redelivery is the same message again (same id, log time and receipt). */
function failuresOf(steps: readonly Step[]): Failure[] {
  const out: Failure[] = [];
  let received = BASE;
  for (const step of steps) {
    if (step.kind === 'again') {
      if (out.length > 0) out.push(out[step.pick % out.length]!);
      continue;
    }
    received += step.advance;
    out.push({ id: `e${out.length}`, jail: 'sshd', ip: TARGETS[step.target]!, time: received + step.ahead, received });
  }
  return out;
}

function rulesOf(jail: JailArb) {
  const config = testConfig({
    jails: { sshd: { maxretry: jail.maxretry, findtime: jail.findtime, bantime: jail.bantime, 'bantime.increment': jail.increment } },
  });
  return jailRules(config.jails.sshd!, []);
}

describe('the failure script against the pure core, on generated jails and failures', () => {
  let redis: RedisServer;
  let client: RedisClient;
  before(async () => {
    redis = await RedisServer.start();
    client = await connectRedis(testConfig({ redis: { nodes: [redis.node] } }).redis, { name: 'property', log: quietLogger(), mode: 'command' });
  });
  after(async () => {
    await closeRedis(client);
    await redis.dispose();
  });

  test('give the same outcomes and state for any jail settings and any order, delay, clock or redelivery; nothing counts twice', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        jailArb.chain((jail) => fc.tuple(fc.constant(jail), stepsArb(jail.findtime * SECOND))),
        async ([jail, steps]) => {
          const rules = rulesOf(jail);
          const store = new ScoreStore(client, new KeyLayout(`prop${++run}:`));
          const world = new Map<string, TargetState>();
          const counting = new Map<string, number>();
          for (const [i, failure] of failuresOf(steps).entries()) {
            const target = failure.ip;
            const core = decide(world.get(target) ?? emptyTargetState(), failure, target, rules);
            world.set(target, core.state);
            const viaRedis = await store.score(failure, target, rules);
            assert.deepEqual(viaRedis.outcome, core.outcome, `step ${i + 1}`);
            const kind = core.outcome.kind;
            if (kind === 'counted' || kind === 'ban') counting.set(failure.id, (counting.get(failure.id) ?? 0) + 1);
            if (core.outcome.kind === 'ban') {
              const ban = core.outcome.ban;
              assert.ok(ban.start <= failure.received!, 'a ban starts no later than its failure was received');
            }
          }
          for (const [id, n] of counting) assert.equal(n, 1, `failure ${id} counted ${n} times`);
          for (const [target, state] of world) assert.deepEqual(await store.readTarget(target, ['sshd']), state, `state of ${target}`);
        },
      ),
      { numRuns: 150 },
    );
  });
});
