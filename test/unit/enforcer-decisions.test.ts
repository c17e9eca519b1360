import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BanSet, foldDecisions } from '../../shared/decisions/index.ts';
import type { Decision } from '../../shared/schema/index.ts';
import { PERMANENT } from '../../shared/time/index.ts';

const T = 1_700_000_000_000;
let n = 0;
const ban = (target: string, time: number, duration: number, jail = 'sshd'): Decision => ({ v: 1, id: `d${++n}`, action: 'ban', jail, target, time, duration, origin: 'scorer' });
const unban = (target: string, time: number, jail = 'sshd'): Decision => ({ v: 1, id: `d${++n}`, action: 'unban', jail, target, time, origin: 'manual' });
const targets = (decisions: Decision[], now: number) => foldDecisions(decisions, now).map((b) => `${b.jail} ${b.target}`).sort();

describe('folding the decisions stream into the current ban set', () => {
  test('a ban is in force until its end and skipped after it', () => {
    const stream = [ban('192.0.2.10', T, 60_000)];
    assert.deepEqual(targets(stream, T + 59_999), ['sshd 192.0.2.10']);
    assert.deepEqual(targets(stream, T + 60_000), []);
  });

  test('an unban cancels an earlier ban of the same jail and target, and only that one', () => {
    const stream = [ban('192.0.2.10', T, 3_600_000), ban('192.0.2.10', T, 3_600_000, 'nginx'), ban('192.0.2.11', T, 3_600_000), unban('192.0.2.10', T + 1000)];
    assert.deepEqual(targets(stream, T + 2000), ['nginx 192.0.2.10', 'sshd 192.0.2.11']);
  });

  test('a ban after an unban is in force again', () => {
    const stream = [ban('192.0.2.10', T, 60_000), unban('192.0.2.10', T + 1000), ban('192.0.2.10', T + 2000, 60_000)];
    const [active] = foldDecisions(stream, T + 3000);
    assert.equal(active?.until, T + 62_000);
  });

  test('an unban cancels a ban even when its own time is earlier (stream order decides)', () => {
    assert.deepEqual(targets([ban('192.0.2.10', T + 5000, 60_000), unban('192.0.2.10', T)], T + 6000), []);
  });

  test('permanent bans are kept however much time passes', () => {
    const stream = [ban('2001:db8::/64', T, PERMANENT), ban('192.0.2.10', T, 1000)];
    assert.deepEqual(targets(stream, T + 10 * 365 * 86_400_000), ['sshd 2001:db8::/64']);
    assert.equal(foldDecisions(stream, T)[0]?.until, PERMANENT);
  });

  test('a shorter or republished ban never shortens a ban in force; a longer one extends it', () => {
    const set = new BanSet();
    set.apply(ban('192.0.2.10', T, 3_600_000));
    const shorter = set.apply(ban('192.0.2.10', T + 1000, 60_000));
    assert.equal(shorter.after, shorter.before, 'a shorter ban changes nothing');
    assert.equal(set.get(shorter.key)?.until, T + 3_600_000);
    const longer = set.apply(ban('192.0.2.10', T + 2000, 7_200_000));
    assert.notEqual(longer.after, longer.before);
    assert.equal(set.get(longer.key)?.until, T + 7_202_000);
    set.apply(ban('192.0.2.10', T + 3000, PERMANENT));
    set.apply(ban('192.0.2.10', T + 4000, 1000));
    assert.equal(set.get(longer.key)?.until, PERMANENT);
  });

  test('prune forgets ended bans and keeps the rest', () => {
    const set = new BanSet();
    for (const d of [ban('192.0.2.10', T, 1000), ban('192.0.2.11', T, 5000), ban('192.0.2.12', T, PERMANENT)]) set.apply(d);
    assert.deepEqual(set.prune(T + 2000).map((b) => b.target), ['192.0.2.10']);
    assert.equal(set.size, 2);
    assert.deepEqual([...set.active(T + 6000)].map((b) => b.target), ['192.0.2.12']);
  });
});
