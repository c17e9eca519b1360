import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { Decision } from '../../shared/schema/index.ts';
import { PartMetrics } from '../../shared/telemetry/index.ts';
import { PERMANENT } from '../../shared/time/index.ts';
import { Applier } from '../../services/enforcer/applier.ts';
import { BACKENDS, createExec, type AddEntry, type Backend, type DeleteEntry, type KernelEntry, type Refusal } from '../../services/enforcer/backends/index.ts';
import { EnforcementState } from '../../services/enforcer/core/state.ts';
import { enforcedSets, router } from '../../services/enforcer/sets.ts';
import { EnforcerTelemetry } from '../../services/enforcer/telemetry.ts';
import { memoryLogger, quietLogger, testConfig } from '../harness/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * An in-memory firewall that answers like `nft -f -`: the whole batch or
 * nothing. It refuses a timeout of 100,000,000 ms or more ("value too large",
 * as nft 1.0.6 does) and any entry for a poisoned address.
 */
class FakeNft implements Backend {
  readonly name = 'nftables' as const;
  readonly held = new Map<string, number | null>();
  commits = 0;
  lists = 0;
  /** Adds asked for, refused ones included. */
  tries = 0;
  /** Entries the set has room for: further adds are refused, as ipset at its maxelem. */
  capacity = Infinity;
  private queued: Array<{ add?: AddEntry; del?: DeleteEntry }> = [];

  constructor(
    readonly traits: Backend['traits'],
    private readonly poisoned = new Set<string>(),
    private readonly broken = false,
  ) {}

  async prepare(): Promise<void> {}
  add(entry: AddEntry): Refusal | undefined {
    this.tries++;
    const taken = new Set([...this.held.keys(), ...this.queued.flatMap((q) => (q.add ? [q.add.target.text] : []))]);
    if (!taken.has(entry.target.text) && taken.size >= this.capacity) return { reason: 'set_full', detail: `full at ${this.capacity}` };
    this.queued.push({ add: entry });
    return undefined;
  }
  delete(entry: DeleteEntry): void {
    this.queued.push({ del: entry });
  }
  async commit() {
    const batch = this.queued;
    this.queued = [];
    this.commits++;
    if (this.broken) throw new Error('Error: Could not process rule: No such file or directory');
    for (const { add } of batch) {
      if (add && add.timeoutMs !== null && add.timeoutMs >= 100_000_000) throw new Error(`/dev/stdin:1:40-60: Error: value too large | add element inet fleetban s_sshd_a4 { ${add.target.text} }`);
      if (add && this.poisoned.has(add.target.text)) throw new Error(`/dev/stdin:1:1-9: Error: Could not process rule: Numerical result out of range | ${add.target.text}`);
    }
    for (const { add, del } of batch) {
      if (add) this.held.set(add.target.text, add.timeoutMs);
      if (del) this.held.delete(del.target.text);
    }
    return { added: batch.filter((b) => b.add).length, deleted: batch.filter((b) => b.del).length };
  }
  async list(): Promise<KernelEntry[]> {
    this.lists++;
    return [];
  }
  async close(): Promise<void> {}
}

const appliers: Applier[] = [];
// A failed test must not leave an applier's timer holding the process.
after(async () => {
  for (const applier of appliers) await applier.stop();
});

function rig(backend: FakeNft, log = quietLogger()) {
  const config = testConfig({ jails: { sshd: { port: 'ssh' } }, enforcer: { backend: 'nftables' } });
  const sets = enforcedSets(config, []);
  const state = new EnforcementState({ route: router(config, sets), traits: () => backend.traits });
  const metrics = new PartMetrics('enforcer', { processMetrics: false });
  const telemetry = new EnforcerTelemetry(log, metrics, () => state.counts());
  let now = Date.now();
  const applier = new Applier({
    state,
    backends: new Map([['nftables', { backend, sets: sets.filter((s) => s.backend === 'nftables') }]]),
    telemetry,
    batchDelayMs: 5,
    clock: () => now,
  });
  appliers.push(applier);
  let n = 0;
  const ban = (target: string, duration: number): Decision => ({ v: 1, id: `a${++n}`, action: 'ban', jail: 'sshd', target, time: now, duration, origin: 'scorer' });
  return { state, applier, telemetry, metrics, ban, advance: (ms: number) => (now += ms), now: () => now };
}

const addresses = (count: number) => Array.from({ length: count }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
const realNftTraits = () => BACKENDS.nftables.create({ config: testConfig({}), exec: createExec(), log: quietLogger() }).traits;

describe('the applier: one bad entry never blocks the others', () => {
  test('2d, 1w, 5w and permanent bans reach nftables with a timeout nft accepts, beside a 10m and a 1h ban', async () => {
    const nft = new FakeNft(realNftTraits());
    const { state, applier, ban } = rig(nft);
    const wanted = { '192.0.2.1': 2 * DAY, '192.0.2.2': 7 * DAY, '192.0.2.3': 35 * DAY, '192.0.2.4': PERMANENT, '192.0.2.5': 600_000, '192.0.2.6': HOUR };
    for (const [target, duration] of Object.entries(wanted)) state.decide(ban(target, duration));
    await applier.flush('start');
    await applier.stop();
    assert.deepEqual([...nft.held.keys()].sort(), Object.keys(wanted).sort());
    for (const target of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) assert.ok(nft.held.get(target)! < 100_000_000, `${target}: ${nft.held.get(target)}`);
    assert.equal(nft.held.get('192.0.2.4'), null);
    assert.deepEqual(state.problemCounts(), { refused: 0, failed: 0 });
  });

  test('a capped 1w ban is written again before its kernel timeout runs out, until the ban ends', async () => {
    const nft = new FakeNft(realNftTraits());
    const { state, applier, ban, advance } = rig(nft);
    state.decide(ban('192.0.2.1', 7 * DAY));
    await applier.flush('start');
    let kernelEnds = nft.held.get('192.0.2.1')!;
    let refreshes = 0;
    // Step through the week in hours: the entry must never be left to lapse before the ban ends.
    for (let hour = 1; hour < 7 * 24; hour++) {
      advance(HOUR);
      kernelEnds -= HOUR;
      assert.ok(kernelEnds > 0, `the kernel entry lapsed at hour ${hour}`);
      const before = nft.commits;
      await applier.flush();
      if (nft.commits > before) {
        refreshes++;
        kernelEnds = nft.held.get('192.0.2.1')!;
      }
    }
    await applier.stop();
    assert.ok(refreshes >= 6, `refreshed ${refreshes} times`);
  });

  test('a batch with one entry the firewall refuses applies the other 999 and reports only that one, without re-reading the kernel', async () => {
    const targets = addresses(1000);
    const nft = new FakeNft(realNftTraits(), new Set([targets[377]!]));
    const memory = memoryLogger('enforcer', 'info');
    const { state, applier, ban, metrics } = rig(nft, memory.log);
    for (const t of targets) state.decide(ban(t, HOUR));
    await applier.flush('start');
    await tick();
    assert.equal(nft.held.size, 999);
    assert.ok(!nft.held.has(targets[377]!));
    assert.deepEqual(state.problemCounts(), { refused: 0, failed: 1 });
    assert.equal(nft.lists, 0, 'the kernel is not re-read');
    assert.ok(nft.commits <= 2 * Math.ceil(Math.log2(1000)) + 1, `${nft.commits} commits`);
    const errors = memory.lines().filter((l) => l.level === 'error');
    assert.equal(errors.length, 1);
    assert.deepEqual(errors[0]!.examples, [`add sshd ${targets[377]}`]);
    assert.match(await metrics.registry.metrics(), /fleetban_enforcer_entries_failed_total\{backend="nftables"\} 1\n/);
    // Later rounds retry the bad entry alone, not the batch.
    const before = nft.commits;
    await applier.flush();
    assert.equal(nft.commits, before, 'not retried before its back-off');
    await applier.stop();
  });

  test('a failed entry is retried alone after its back-off, and lands once the firewall takes it', async () => {
    const poisoned = new Set(['192.0.2.9']);
    const nft = new FakeNft(realNftTraits(), poisoned);
    const { state, applier, ban, advance } = rig(nft);
    state.decide(ban('192.0.2.8', HOUR));
    state.decide(ban('192.0.2.9', HOUR));
    await applier.flush('start');
    assert.deepEqual([...nft.held.keys()], ['192.0.2.8']);
    poisoned.clear();
    advance(11_000);
    await applier.flush();
    await applier.stop();
    assert.deepEqual([...nft.held.keys()].sort(), ['192.0.2.8', '192.0.2.9']);
    assert.deepEqual(state.problemCounts(), { refused: 0, failed: 0 });
  });

  test('a backend that refuses everything is given up on after a few batches, not tried entry by entry', async () => {
    const nft = new FakeNft(realNftTraits(), new Set(), true);
    const memory = memoryLogger('enforcer', 'info');
    const { state, applier, ban, telemetry } = rig(nft, memory.log);
    for (const t of addresses(1000)) state.decide(ban(t, HOUR));
    await applier.flush('start');
    await applier.stop();
    await tick();
    assert.ok(nft.commits <= 2 * Math.ceil(Math.log2(1001)) + 4, `${nft.commits} commits`);
    assert.deepEqual(state.problemCounts(), { refused: 0, failed: 1000 });
    assert.equal(nft.lists, 1, 'the kernel is read once, to plan from what is there');
    assert.equal(telemetry.tally.failedEntries, 1000);
    assert.equal(memory.lines().filter((l) => l.level === 'error').length, 1, 'one error line for one cause');
  });

  test('bans waiting for room in a full set are retried with back-off, not in a loop', async () => {
    const nft = new FakeNft(realNftTraits());
    nft.capacity = 10;
    const { state, applier, ban, advance, now } = rig(nft);
    for (const t of addresses(1000)) state.decide(ban(t, 2 * HOUR));
    await applier.flush('start');
    const start = now();
    let rounds = 0;
    // Ten minutes, woken whenever the state asks to be.
    while (now() - start < 600_000) {
      advance(Math.max(1, (state.nextDeadline() ?? Infinity) - now()));
      await applier.flush();
      rounds++;
    }
    await applier.stop();
    assert.equal(nft.held.size, 10);
    assert.deepEqual(state.problemCounts(), { refused: 990, failed: 0 });
    // 10 s, 20 s, 40 s, ... 300 s: six tries each in ten minutes (every 10 s, it was sixty).
    assert.ok(nft.tries <= 1000 + 990 * 6, `${nft.tries} tries`);
    assert.ok(rounds <= 12, `${rounds} rounds`);
  });

  test('1,000 refused decisions log one warning per cause and are all counted', async () => {
    const memory = memoryLogger('enforcer', 'info');
    const { telemetry, metrics } = rig(new FakeNft(realNftTraits()), memory.log);
    for (const t of addresses(1000)) telemetry.refused('allowlisted', 'sshd', t, 'in ignoreip');
    for (const t of addresses(10)) telemetry.refused('invalid_target', 'sshd', t, 'not an address');
    await tick();
    const warnings = memory.lines().filter((l) => l.msg === 'ban refused before the firewall');
    assert.deepEqual(warnings.map((w) => w.reason), ['allowlisted', 'invalid_target']);
    assert.match(await metrics.registry.metrics(), /fleetban_enforcer_decisions_refused_total\{reason="allowlisted",jail="sshd"\} 1000\n/);
  });
});
