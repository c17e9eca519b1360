import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { banEnd } from '../../shared/decisions/index.ts';
import { parseTarget } from '../../shared/ip/index.ts';
import type { Decision } from '../../shared/schema/index.ts';
import { PERMANENT } from '../../shared/time/index.ts';
import { netnsSkipReason } from '../harness/index.ts';
import { kernelRig, REAL_BACKENDS, XT_LISTS, type KernelRig } from './enforcer-kernel.ts';

const skip = netnsSkipReason();
const S = 1000;
/** Runs per backend: each builds a namespace and its firewall, so a few dozen seconds in all. */
const RUNS = 8;
/** A ban this close to its end when the kernel is read may or may not still be there. */
const EDGE_MS = 10 * S;

type Op = { action: 'ban'; target: string; duration: number } | { action: 'unban'; target: string };

const hex = (max: number) => fc.integer({ min: 1, max }).map((n) => n.toString(16));
const v4 = fc.tuple(fc.constantFrom('192.0.2', '198.51.100', '203.0.113'), fc.integer({ min: 1, max: 254 })).map(([p, i]) => `${p}.${i}`);
const v6 = fc.tuple(hex(0xffff), hex(0xffff)).map(([a, b]) => `2001:db8:${a}::${b}`);
/** Networks that never overlap one another (an nftables interval set holds no two that do; the enforcer's handling of nested ones has its own tests). */
const NETWORKS = ['203.0.113.0/28', '203.0.113.16/28', '203.0.113.32/27', '203.0.113.64/26', '203.0.113.128/25', '198.51.100.0/24',
  '2001:db8:1::/48', '2001:db8:2::/64', '2001:db8:3:4::/62', '2001:db8:5::/120', '2001:db8:6::a/127'];
/** fail2ban's stock values (10m, 1h, 1d, 1w, recidive; 5w, bantime.maxtime), permanent, and anything from 1 s to 10 years. */
const duration = fc.oneof(
  fc.constantFrom(600 * S, 3600 * S, 86_400 * S, 604_800 * S, 3_024_000 * S, PERMANENT),
  fc.integer({ min: 1, max: 10 * 365 * 86_400 }).map((s) => s * S),
);

function ops(networks: boolean): fc.Arbitrary<Op[]> {
  const target = (networks ? fc.oneof(v4, v6, fc.constantFrom(...NETWORKS)) : fc.oneof(v4, v6)).map((t) => parseTarget(t).text);
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ action: fc.constant('ban' as const), target, duration }) },
    { weight: 1, arbitrary: fc.record({ action: fc.constant('unban' as const), target }) },
  );
  return fc.array(op, { minLength: 1, maxLength: 25 });
}

let n = 0;
function decision(op: Op, now: number): Decision {
  const base = { v: 1 as const, id: `p${++n}`, jail: 'sshd', target: op.target, time: now, origin: 'scorer' as const };
  return op.action === 'ban' ? { ...base, action: 'ban', duration: op.duration } : { ...base, action: 'unban', origin: 'manual' };
}

/** The shortest xt_recent list at least as long as `ms` (seconds), or the longest. */
function xtList(ms: number): number {
  const lengths = XT_LISTS.map((l) => ({ '1m': 60, '10m': 600, '1h': 3600, '6h': 21_600, '1d': 86_400, '1w': 604_800 })[l]!);
  return lengths.find((s) => s * S >= ms) ?? lengths[lengths.length - 1]!;
}

/** Applies the ops in two rounds (the start batch, then live changes) and returns the bans in force: target → end (PERMANENT or ms). */
async function apply(rig: KernelRig, first: Op[], second: Op[]): Promise<Map<string, number>> {
  const model = new Map<string, number>();
  const fold = (op: Op, now: number) => {
    const d = decision(op, now);
    rig.state.decide(d, d.time);
    if (d.action === 'unban') return model.delete(op.target);
    const end = banEnd(d);
    const before = model.get(op.target);
    // A second ban keeps the later end; permanent is later than any time.
    if (before === undefined || (before !== PERMANENT && (end === PERMANENT || end > before))) model.set(op.target, end);
  };
  for (const op of first) fold(op, rig.now());
  await rig.applier.flush('start');
  for (const op of second) fold(op, rig.now());
  await rig.applier.flush();
  return model;
}

describe('property: after any decisions, the kernel holds exactly the bans in force with min(remaining, cap)', { skip }, () => {
  for (const name of REAL_BACKENDS) {
    test(`${name}: ${RUNS} generated decision sequences (addresses${name === 'xt_recent' ? '' : ' and networks'}, 1 s to 10 years, permanent, unbans)`, async () => {
      await fc.assert(
        fc.asyncProperty(ops(name !== 'xt_recent'), ops(name !== 'xt_recent'), async (first, second) => {
          const rig = await kernelRig(name, {}, true);
          try {
            const model = await apply(rig, first, second);
            assert.deepEqual(rig.state.problemCounts(), { refused: 0, failed: 0 });
            const cap = rig.backend.traits.maxTimeoutMs;
            const now = rig.now();
            const held: Map<string, number | null | undefined> = name === 'xt_recent' ? await rig.xtLists() : await rig.kernel();
            const wanted = new Map<string, number>();
            for (const [target, end] of model) {
              const left = end === PERMANENT ? Infinity : end - now;
              if (left > EDGE_MS) wanted.set(target, left);
              else if (left > -EDGE_MS) held.delete(target); // at its edge: either way is right
            }
            assert.deepEqual([...held.keys()].sort(), [...wanted.keys()].sort(), 'exactly the bans in force, nothing else');
            for (const [target, left] of wanted) {
              const actual = held.get(target);
              if (left === Infinity) {
                assert.equal(actual, null, `${target}: a permanent ban has no timeout`);
              } else if (name === 'xt_recent') {
                const expected = [xtList(Math.min(left, cap)), xtList(Math.min(left + EDGE_MS, cap))];
                assert.ok(expected.includes(actual as number), `${target}: in the ${actual} s list, expected ${expected.join(' or ')}`);
              } else {
                const expected = Math.min(left, cap);
                assert.ok(typeof actual === 'number' && actual <= expected + S && actual >= expected - EDGE_MS, `${target}: kernel timeout ${actual}, expected about ${expected}`);
              }
            }
          } finally {
            await rig.close();
          }
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
    });
  }
});
