import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Decision } from '../../shared/schema/index.ts';
import { PERMANENT } from '../../shared/time/index.ts';
import { ipsetName } from '../../services/enforcer/backends/ipset/plan.ts';
import { nftSetName } from '../../services/enforcer/backends/nftables/plan.ts';
import { netnsSkipReason } from '../harness/index.ts';
import { kernelRig, REAL_BACKENDS, TABLE, type KernelRig } from './enforcer-kernel.ts';

const skip = netnsSkipReason();
const S = 1000;
const HOUR = 3600 * S;
const DAY = 24 * HOUR;

/**
 * Issue 15, finding 1: bans longer than a backend takes. fail2ban's stock
 * values: recidive bans for 1w, bantime.maxtime defaults to 5w.
 */
const BANS: Record<string, number> = {
  '192.0.2.10': 2 * DAY,
  '192.0.2.11': 7 * DAY,
  '192.0.2.12': 35 * DAY,
  '192.0.2.13': PERMANENT,
  '192.0.2.14': 10 * 60 * S,
  '192.0.2.15': HOUR,
};

let n = 0;
function decide(rig: KernelRig, bans: Record<string, number>): void {
  for (const [target, duration] of Object.entries(bans)) {
    const d: Decision = { v: 1, id: `l${++n}`, action: 'ban', jail: 'sshd', target, time: rig.now(), duration, origin: 'scorer' };
    rig.state.decide(d);
  }
}

/** A listed timeout: what was set, less the seconds the test took, and at most a second more (rounding up). */
function near(actual: number | null | undefined, expected: number, what: string): void {
  assert.ok(typeof actual === 'number' && actual <= expected + S && actual >= expected - 10 * S, `${what}: kernel timeout ${actual}, expected about ${expected}`);
}

/** The shortest xt_recent list at least as long as `ms`, in seconds, or the longest. */
function xtList(ms: number): number {
  const lengths = [60, 600, 3600, 21600, 86400, 604800];
  return lengths.find((s) => s * S >= ms) ?? lengths[lengths.length - 1]!;
}

/** Sets a kernel entry's timeout to 5 minutes behind the enforcer's back, as if most of its time had passed. */
async function shorten(rig: KernelRig, name: string, target: string): Promise<void> {
  if (name === 'nftables') {
    const set = nftSetName('sshd', 'a4');
    await rig.ns.ok('nft', ['-f', '-'], { input: `delete element inet ${TABLE} ${set} { ${target} }\nadd element inet ${TABLE} ${set} { ${target} timeout 300s }\n` });
  } else {
    await rig.ns.ok('ipset', ['-exist', 'add', ipsetName(TABLE, 'sshd', 'a4'), target, 'timeout', '300']);
  }
}

async function lastSeen(rig: KernelRig, target: string): Promise<number> {
  const text = await rig.ns.ok('sh', ['-c', `cat /proc/net/xt_recent/${TABLE}-sshd-v4-*`]);
  const line = text.split('\n').find((l) => l.startsWith(`src=${target} `));
  return Number(/last_seen: (\d+)/.exec(line ?? '')?.[1]);
}

describe('long bans on every real backend, in a namespace', { skip }, () => {
  for (const name of REAL_BACKENDS) {
    test(`${name}: 2d, 1w, 5w and permanent bans are in the kernel with the backend's capped timeout, beside 10m and 1h, and refreshed before it runs out`, async () => {
      const rig = await kernelRig(name);
      try {
        decide(rig, BANS);
        await rig.applier.flush('start');
        assert.deepEqual(rig.state.problemCounts(), { refused: 0, failed: 0 });
        const cap = rig.backend.traits.maxTimeoutMs;
        const capped = Object.keys(BANS).filter((t) => BANS[t] !== PERMANENT && BANS[t]! > cap);
        if (name === 'xt_recent') {
          const lists = await rig.xtLists();
          for (const [target, duration] of Object.entries(BANS)) assert.equal(lists.get(target), duration === PERMANENT ? null : xtList(duration), target);
        } else {
          const kernel = await rig.kernel();
          assert.deepEqual([...kernel.keys()].sort(), Object.keys(BANS).sort());
          for (const [target, duration] of Object.entries(BANS)) {
            if (duration === PERMANENT) assert.equal(kernel.get(target), null, `${target} has no timeout`);
            else near(kernel.get(target), Math.min(duration, cap), target);
          }
        }
        const expectCapped: Record<string, string[]> = {
          nftables: ['192.0.2.10', '192.0.2.11', '192.0.2.12'],
          ipset: ['192.0.2.12'],
          xt_recent: ['192.0.2.12'],
          iptables: [],
        };
        assert.deepEqual(capped, expectCapped[name], 'the bans longer than the backend takes');
        if (capped.length === 0) return; // iptables: each rule carries its ban's own end (--datestop), nothing to refresh

        const seenBefore = new Map<string, number>();
        for (const target of capped) {
          if (name === 'xt_recent') seenBefore.set(target, await lastSeen(rig, target));
          else await shorten(rig, name, target);
        }
        // Just past the moment the enforcer must write the capped entries again.
        const elapsed = cap - Math.min(cap / 2, Math.max(2000, cap / 10)) + S;
        rig.advance(elapsed);
        await sleep(50);
        await rig.applier.flush();
        assert.deepEqual(rig.state.problemCounts(), { refused: 0, failed: 0 });
        if (name === 'xt_recent') {
          const lists = await rig.xtLists();
          for (const target of capped) {
            assert.equal(lists.get(target), 604800, `${target} stays in the longest list`);
            assert.ok((await lastSeen(rig, target)) > seenBefore.get(target)!, `${target} was written again`);
          }
        } else {
          const kernel = await rig.kernel();
          for (const target of capped) near(kernel.get(target), Math.min(BANS[target]! - elapsed, cap), `${target} after its refresh`);
        }
      } finally {
        await rig.close();
      }
    });
  }

  for (const name of ['nftables', 'ipset', 'xt_recent'] as const) {
    test(`${name}: with a 3 s cap, a 2d ban is still in the kernel after three times the cap, written again each time`, async () => {
      const rig = await kernelRig(name, { maxTimeout: '3s', xtRecent: { lists: ['5s', '1h'] } }, true);
      try {
        decide(rig, { '192.0.2.20': 2 * DAY });
        await rig.applier.flush('start');
        const first = name === 'xt_recent' ? await lastSeen(rig, '192.0.2.20') : 0;
        await sleep(9 * S);
        if (name === 'xt_recent') {
          assert.equal((await rig.xtLists()).get('192.0.2.20'), 5);
          assert.ok((await lastSeen(rig, '192.0.2.20')) > first, 'written again');
        } else {
          const left = (await rig.kernel()).get('192.0.2.20');
          assert.ok(typeof left === 'number' && left > 0 && left <= 3 * S, `kernel timeout ${left}`);
        }
        assert.ok(rig.telemetry.tally.added >= 4, `written ${rig.telemetry.tally.added} times`);
      } finally {
        await rig.close();
      }
    });
  }
});
