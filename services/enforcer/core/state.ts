import type { EnforcerBackendName } from '../../../shared/config/index.ts';
import { BanSet, banKey } from '../../../shared/decisions/index.ts';
import type { Target } from '../../../shared/ip/index.ts';
import type { Decision } from '../../../shared/schema/index.ts';
import { PERMANENT } from '../../../shared/time/index.ts';
import type { BackendTraits, KernelEntry } from '../backends/contract.ts';
import type { EnforcedSet, Route } from '../sets.ts';
import { Deadlines } from './deadlines.ts';
import { guardTarget, type GuardRefusal } from './guard.ts';
import { disjointNetworks } from './networks.ts';

/** What became of one decision. */
export type Outcome =
  | { kind: 'accepted'; set: string; target: Target; changed: boolean }
  | { kind: 'ignored'; why: string }
  | { kind: 'refused'; set: string; reason: GuardRefusal; detail: string };

/** One change for a backend, planned from the difference between the ban set and the kernel. */
export interface PlannedChange {
  op: 'add' | 'delete';
  /** The entry's key in the state (backend, set, target). */
  entry: string;
  backend: EnforcerBackendName;
  set: string;
  target: Target;
  /** For adds: the kernel timeout in ms, or null for none. */
  timeoutMs: number | null;
  /** For adds: the entry may be in the kernel already. */
  replace: boolean;
  /** For adds: when the ban ends (Infinity: permanent). */
  until: number;
  /** When it was planned: the kernel timeout is counted from here, never from later. */
  plannedAt: number;
  /** Epoch ms of the decision that caused it, when it came live (for the decision-to-kernel latency). */
  since?: number;
  /** For adds: the timeout is shorter than what is left of the ban (the backend's cap); it is refreshed. */
  capped?: boolean;
}

/** Why an entry the ban set wants is not in the kernel: its add was refused, or its commit failed. */
export type Problem = 'refused' | 'failed';

/** What the kernel holds for an entry, as far as the enforcer knows. */
interface Applied {
  /** The ban end it was set for (Infinity: permanent); undefined when read from the kernel. */
  until: number | undefined;
  /** When the kernel drops it (Infinity: no timeout); undefined when the kernel does not say. */
  kernelUntil: number | undefined;
}

interface Entry {
  key: string;
  backend: EnforcerBackendName;
  set: string;
  target: Target;
  /** Bans (by ban key) that want this entry: two jails' bans of one /64 share a kernel entry. Nearly always one. */
  bans: string[];
  applied?: Applied;
  since?: number;
  /** After a refusal or a failed commit: not before this time. */
  retryAt?: number;
  /** Refusals or failed commits in a row: each doubles the wait before the next try. */
  failures: number;
  problem?: Problem;
}

export interface StateOptions {
  route: (jail: string) => Route;
  traits: (backend: EnforcerBackendName) => BackendTraits;
  /** `enforcer.maxTimeout`: a cap below the backend's own. */
  maxTimeoutMs?: number | undefined;
  /** How long to wait before retrying a refused or failed change the first time; it doubles on each further failure. */
  retryMs?: number;
  /** The longest wait between two tries of one entry. */
  maxRetryMs?: number;
}

/**
 * An entry read from the kernel counts as set right when its timeout ends at
 * most this much before the wanted end (the tools print whole seconds,
 * rounded down) or this much after it (the time the listing took).
 */
const LISTED_EARLY_MS = 1000;
const LISTED_LATE_MS = 3000;

/**
 * The enforcer's pure core: the ban set folded from decisions, what the
 * kernel holds, and the plan that takes the kernel to the ban set. Every
 * method takes the time from its caller; nothing here does I/O.
 *
 * Kernel timeouts: an entry gets what is left of its ban, rounded up to the
 * backend's granularity, so a ban never ends early. Bans longer than the
 * backend accepts (or than `enforcer.maxTimeout`) get the longest timeout
 * and are refreshed before it lapses; permanent bans get no timeout where
 * the backend can hold that. A timeout is only ever set to the ban's full
 * remaining time, never reset to something shorter while the ban lasts.
 */
export class EnforcementState {
  private readonly bans = new BanSet();
  private readonly entries = new Map<string, Entry>();
  /** Network entries of backends that need disjoint networks, per (backend, set, family). */
  private readonly groups = new Map<string, Set<string>>();
  private readonly dirty = new Set<string>();
  private readonly deadlines = new Deadlines();
  /** Entries the ban set wants that are not in the kernel: refused or failed, waiting for their retry. */
  private readonly problems = new Map<string, Problem>();
  private readonly retryMs: number;
  private readonly maxRetryMs: number;

  constructor(private readonly options: StateOptions) {
    this.retryMs = options.retryMs ?? 10_000;
    this.maxRetryMs = Math.max(this.retryMs, options.maxRetryMs ?? 300_000);
  }

  /** Folds one decision in. `since` marks a live decision, for latency. */
  decide(decision: Decision, since?: number): Outcome {
    const route = this.options.route(decision.jail);
    if (!route.set) return { kind: 'ignored', why: `jail ${decision.jail}: ${route.why}` };
    const set = route.set;
    const bk = banKey(decision.jail, decision.target);
    const guard = guardTarget(decision.target, set, this.options.traits(set.backend));
    if (decision.action === 'unban') {
      // The same target always lands in the same entry, so the guard finds the entry a ban was placed in.
      const change = this.bans.apply(decision);
      const entry = guard.ok ? this.entries.get(this.entryKey(set, guard.target)) : undefined;
      const at = entry ? entry.bans.indexOf(bk) : -1;
      if (!change.before || !entry || at < 0) return { kind: 'ignored', why: `${decision.target} is not banned in ${decision.jail}` };
      entry.bans.splice(at, 1);
      this.touch(entry.key, since);
      return { kind: 'accepted', set: set.key, target: entry.target, changed: true };
    }
    if (!guard.ok) return { kind: 'refused', set: set.key, reason: guard.reason, detail: guard.detail };
    const change = this.bans.apply(decision);
    const entry = this.entry(set, guard.target);
    if (!entry.bans.includes(bk)) entry.bans.push(bk);
    const changed = change.after !== change.before;
    if (changed) this.touch(entry.key, since);
    return { kind: 'accepted', set: set.key, target: guard.target, changed };
  }

  /**
   * Takes what a backend's kernel sets hold now (on start, and after a
   * failed commit): entries the ban set does not want are deleted by the next
   * plan, wanted ones whose timeout is right are left alone.
   */
  loadKernel(backend: EnforcerBackendName, listed: readonly KernelEntry[], sets: readonly EnforcedSet[], now: number): void {
    for (const entry of this.entries.values()) {
      if (entry.backend !== backend) continue;
      entry.applied = undefined;
      this.dirty.add(entry.key);
    }
    const byKey = new Map(sets.map((s) => [s.key, s]));
    for (const item of listed) {
      const set = byKey.get(item.set);
      if (!set || set.backend !== backend) continue;
      const entry = this.entry(set, item.target);
      const kernelUntil = item.expiresInMs === null ? Infinity : item.expiresInMs === undefined ? undefined : now + item.expiresInMs;
      entry.applied = { until: undefined, kernelUntil };
      this.dirty.add(entry.key);
    }
  }

  /** The changes that take the kernel to the ban set at `now`. Call {@link settle} with each result. */
  plan(now: number): PlannedChange[] {
    for (const key of this.deadlines.popDue(now)) this.dirty.add(key);
    if (this.dirty.size === 0) return [];
    const covered = this.resolveNetworks(now);
    const deletes: PlannedChange[] = [];
    const adds: PlannedChange[] = [];
    for (const key of this.dirty) {
      const entry = this.entries.get(key);
      if (!entry) continue;
      if (entry.retryAt !== undefined && entry.retryAt > now) continue;
      entry.retryAt = undefined;
      const change = this.changeFor(entry, covered.has(key) ? undefined : this.wanted(entry, now), now);
      if (change) (change.op === 'delete' ? deletes : adds).push(change);
    }
    this.dirty.clear();
    // Deletes first: an nftables interval set must lose a network before a wider one goes in.
    return deletes.concat(adds);
  }

  /**
   * Records what happened to a planned change: `applied` (committed),
   * `refused` (the set had no room) or `failed` (the commit failed). Returns
   * the decision time of an applied live change, for the latency metric.
   */
  settle(change: PlannedChange, result: 'applied' | 'refused' | 'failed', now: number): { since?: number } {
    const entry = this.entries.get(change.entry);
    if (!entry) return {};
    if (result !== 'applied') {
      // Backing off per entry keeps a full set or a bad entry from being retried in a hot loop; whole
      // seconds let the retries of many entries share one round.
      const wait = Math.min(this.maxRetryMs, this.retryMs * 2 ** Math.min(entry.failures, 30));
      entry.failures++;
      entry.retryAt = Math.ceil((now + wait) / 1000) * 1000;
      entry.problem = result;
      this.problems.set(entry.key, result);
      this.deadlines.push(entry.retryAt, entry.key);
      return {};
    }
    entry.failures = 0;
    entry.problem = undefined;
    this.problems.delete(entry.key);
    const since = entry.since;
    entry.since = undefined;
    if (change.op === 'delete') {
      entry.applied = undefined;
      this.forgetIfIdle(entry);
      return since === undefined ? {} : { since };
    }
    const until = change.until;
    const kernelUntil = change.timeoutMs === null ? Infinity : change.plannedAt + change.timeoutMs;
    entry.applied = { until, kernelUntil };
    this.schedule(entry, until, kernelUntil);
    return since === undefined ? {} : { since };
  }

  /** The earliest time at which something must be looked at again. */
  nextDeadline(): number | undefined {
    return this.dirty.size > 0 ? 0 : this.deadlines.peek();
  }

  /** Entries the ban set wants that the kernel does not hold, by why (refused, failed): for status. */
  problemCounts(): Record<Problem, number> {
    const out: Record<Problem, number> = { refused: 0, failed: 0 };
    for (const problem of this.problems.values()) out[problem]++;
    return out;
  }

  /** Bans in force, for status and tests. */
  activeBans(now: number): number {
    let n = 0;
    for (const _ of this.bans.active(now)) n++;
    return n;
  }

  /** Entries the kernel holds per backend and set, as far as the enforcer knows. */
  counts(): Map<string, { backend: EnforcerBackendName; set: string; entries: number }> {
    const out = new Map<string, { backend: EnforcerBackendName; set: string; entries: number }>();
    for (const entry of this.entries.values()) {
      if (!entry.applied) continue;
      const key = `${entry.backend} ${entry.set}`;
      const row = out.get(key) ?? { backend: entry.backend, set: entry.set, entries: 0 };
      row.entries++;
      out.set(key, row);
    }
    return out;
  }

  /** What the kernel should hold: (backend, set, target) of every applied entry. */
  appliedEntries(): Array<{ backend: EnforcerBackendName; set: string; target: string }> {
    return [...this.entries.values()].filter((e) => e.applied).map((e) => ({ backend: e.backend, set: e.set, target: e.target.text }));
  }

  private entryKey(set: EnforcedSet, target: Target): string {
    return `${set.backend}\u0001${set.key}\u0001${target.text}`;
  }

  private entry(set: EnforcedSet, target: Target): Entry {
    const key = this.entryKey(set, target);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { key, backend: set.backend, set: set.key, target, bans: [], failures: 0 };
      this.entries.set(key, entry);
      const group = this.groupOf(entry);
      if (group !== undefined) {
        let members = this.groups.get(group);
        if (!members) this.groups.set(group, (members = new Set()));
        members.add(key);
      }
    }
    return entry;
  }

  private touch(key: string, since: number | undefined): void {
    this.dirty.add(key);
    const entry = this.entries.get(key);
    if (entry && since !== undefined && entry.since === undefined) entry.since = since;
    if (entry) entry.retryAt = undefined;
  }

  /** When the entry's ban ends (Infinity: permanent), or undefined when no ban in force wants it. Forgets ended bans. */
  private wanted(entry: Entry, now: number): number | undefined {
    let until: number | undefined;
    for (let i = entry.bans.length - 1; i >= 0; i--) {
      const bk = entry.bans[i]!;
      const ban = this.bans.get(bk);
      const end = ban === undefined ? undefined : ban.until === PERMANENT ? Infinity : ban.until;
      if (end === undefined || end <= now) {
        entry.bans.splice(i, 1);
        this.bans.pruneKey(bk, now);
        continue;
      }
      until = until === undefined ? end : Math.max(until, end);
    }
    return until;
  }

  private groupOf(entry: Entry): string | undefined {
    if (this.options.traits(entry.backend).networks !== 'disjoint') return undefined;
    if (entry.target.prefix === (entry.target.family === 4 ? 32 : 128)) return undefined;
    return `${entry.backend}\u0001${entry.set}\u0001${entry.target.family}`;
  }

  /** Dirty networks pull in their whole group; returns the networks that a wider one covers now. */
  private resolveNetworks(now: number): Set<string> {
    const covered = new Set<string>();
    const groups = new Set<string>();
    for (const key of this.dirty) {
      const entry = this.entries.get(key);
      const group = entry && this.groupOf(entry);
      if (group !== undefined) groups.add(group);
    }
    for (const group of groups) {
      const wanted = [];
      for (const key of this.groups.get(group) ?? []) {
        this.dirty.add(key);
        const entry = this.entries.get(key)!;
        const until = this.wanted(entry, now);
        if (until !== undefined) wanted.push({ key, target: entry.target, until });
      }
      const { kept, recheck } = disjointNetworks(wanted);
      for (const w of wanted) if (!kept.has(w.key)) covered.add(w.key);
      for (const r of recheck) this.deadlines.push(r.at, r.key);
    }
    return covered;
  }

  private changeFor(entry: Entry, until: number | undefined, now: number): PlannedChange | undefined {
    const traits = this.options.traits(entry.backend);
    let applied = entry.applied;
    if (until === undefined) {
      if (!applied) {
        this.clearProblem(entry);
        this.forgetIfIdle(entry);
        return undefined;
      }
      if (traits.expiresOnItsOwn && applied.kernelUntil !== undefined && applied.kernelUntil <= now + traits.granularityMs) {
        this.clearProblem(entry);
        entry.applied = undefined;
        this.forgetIfIdle(entry);
        return undefined;
      }
      return this.change(entry, 'delete', null, false, now, now);
    }
    const timeoutMs = this.timeoutFor(until, now, traits);
    const kernelEnd = timeoutMs === null ? Infinity : now + timeoutMs;
    if (applied) {
      if (applied.until === undefined && applied.kernelUntil !== undefined && near(applied.kernelUntil, kernelEnd)) {
        // Read from the kernel with the timeout it should have (a restart): keep it, and count from what it should be.
        entry.applied = applied = { until, kernelUntil: kernelEnd };
        this.schedule(entry, until, kernelEnd);
      }
      if (applied.until === until && applied.kernelUntil !== undefined) {
        const refreshDue = applied.kernelUntil < until && applied.kernelUntil - now <= this.refreshMargin(traits);
        if (!refreshDue) return undefined;
      }
    }
    const change = this.change(entry, 'add', timeoutMs, applied !== undefined, until, now);
    if (timeoutMs !== null && now + timeoutMs < until) change.capped = true;
    return change;
  }

  private clearProblem(entry: Entry): void {
    entry.problem = undefined;
    entry.failures = 0;
    this.problems.delete(entry.key);
  }

  private change(entry: Entry, op: 'add' | 'delete', timeoutMs: number | null, replace: boolean, until: number, now: number): PlannedChange {
    const change: PlannedChange = { op, entry: entry.key, backend: entry.backend, set: entry.set, target: entry.target, timeoutMs, replace, until, plannedAt: now };
    if (entry.since !== undefined) change.since = entry.since;
    return change;
  }

  /** The kernel timeout for a ban ending at `until`: what is left, capped, rounded up; null for none. */
  private timeoutFor(until: number, now: number, traits: BackendTraits): number | null {
    if (until === Infinity && traits.permanent) return null;
    const cap = this.cap(traits);
    const left = Math.min(until - now, cap);
    const g = traits.granularityMs;
    return Math.max(g, Math.ceil(left / g) * g);
  }

  private cap(traits: BackendTraits): number {
    return Math.min(traits.maxTimeoutMs, this.options.maxTimeoutMs ?? Infinity);
  }

  /** A capped entry is refreshed when this much of its kernel timeout is left. */
  private refreshMargin(traits: BackendTraits): number {
    const cap = this.cap(traits);
    return Math.min(cap / 2, Math.max(2000, cap / 10));
  }

  private schedule(entry: Entry, until: number, kernelUntil: number): void {
    if (Number.isFinite(until)) this.deadlines.push(until, entry.key);
    if (kernelUntil < until) this.deadlines.push(kernelUntil - this.refreshMargin(this.options.traits(entry.backend)), entry.key);
  }

  private forgetIfIdle(entry: Entry): void {
    if (entry.bans.length > 0 || entry.applied) return;
    this.entries.delete(entry.key);
    this.problems.delete(entry.key);
    const group = this.groupOf(entry);
    if (group !== undefined) this.groups.get(group)?.delete(entry.key);
  }
}

function near(listed: number, wanted: number): boolean {
  if (listed === Infinity || wanted === Infinity) return listed === wanted;
  return listed >= wanted - LISTED_EARLY_MS && listed <= wanted + LISTED_LATE_MS;
}
