import type { EnforcerBackendName } from '../../shared/config/index.ts';
import type { Backend } from './backends/index.ts';
import type { EnforcementState, PlannedChange } from './core/state.ts';
import type { EnforcedSet } from './sets.ts';
import type { EnforcerTelemetry } from './telemetry.ts';

export interface ApplierOptions {
  state: EnforcementState;
  backends: ReadonlyMap<EnforcerBackendName, { backend: Backend; sets: readonly EnforcedSet[] }>;
  telemetry: EnforcerTelemetry;
  /** Live decisions are gathered this long into one batch. */
  batchDelayMs: number;
  clock?: () => number;
  /** Also told each live change's decision-to-kernel latency in ms. */
  onLatency?: (ms: number) => void;
}

/** Node's timers take at most this (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Takes the plan of the state to the backends: one commit per backend per
 * round, one round at a time. Live decisions ask for a round a few ms later
 * (so a burst becomes one batch); the state's deadlines (ban ends, refreshes,
 * retries) wake it too. A failed batch is split until each bad entry is
 * alone (see {@link Applier.apply}).
 */
export class Applier {
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: ApplierOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** Asks for a round after the batch delay. */
  request(): void {
    this.wake(this.clock() + this.options.batchDelayMs);
  }

  /** Runs one round now and waits for it (the start's single batch goes through here). */
  async flush(phase: 'start' | 'live' = 'live'): Promise<void> {
    while (this.running) await this.running;
    this.running = this.round(phase).finally(() => (this.running = undefined));
    try {
      await this.running;
    } finally {
      if (this.again) {
        this.again = false;
        this.request();
      }
      this.armDeadline();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.running) await this.running;
  }

  private wake(at: number): void {
    if (this.stopped || at >= this.wakeAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = at;
    this.timer = setTimeout(() => this.fire(), Math.min(MAX_TIMER_MS, Math.max(0, at - this.clock())));
  }

  private fire(): void {
    this.timer = undefined;
    this.wakeAt = Infinity;
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.flush('live').catch((err: unknown) => this.options.telemetry.roundFailed(err));
  }

  private armDeadline(): void {
    const next = this.options.state.nextDeadline();
    if (next !== undefined) this.wake(Math.max(next, this.clock()));
  }

  private async round(phase: 'start' | 'live'): Promise<void> {
    const planned = this.options.state.plan(this.clock());
    const byBackend = new Map<EnforcerBackendName, PlannedChange[]>();
    for (const change of planned) {
      const list = byBackend.get(change.backend);
      if (list) list.push(change);
      else byBackend.set(change.backend, [change]);
    }
    for (const [name, changes] of byBackend) {
      if (this.options.backends.has(name)) await this.apply(name, changes, phase);
    }
  }

  /**
   * One backend's changes as one batch. When the batch fails, its halves are
   * committed on their own, and so on down to single entries, so every good
   * entry lands and only the bad ones wait (each with its own back-off). A
   * backend that refuses everything (its table is gone, its tool is missing)
   * is given up on after a few failures in a row, and its kernel is re-read.
   */
  private async apply(name: EnforcerBackendName, changes: PlannedChange[], phase: 'start' | 'live'): Promise<void> {
    const { state, telemetry } = this.options;
    const { backend } = this.options.backends.get(name)!;
    const capped = changes.filter((c) => c.capped);
    if (capped.length > 0) telemetry.capped(name, backend.traits.maxTimeoutMs, capped.length);
    // Depth first, left half on top: deletes stay ahead of the adds they make room for.
    const stack: PlannedChange[][] = [changes];
    const failed: Array<{ change: PlannedChange; err: unknown }> = [];
    // Splitting down to one bad entry fails about log2(n) batches in a row; many more, with nothing landing
    // between them, means the backend refuses everything.
    const giveUpAfter = 2 * Math.ceil(Math.log2(changes.length + 1)) + 4;
    let failedInARow = 0;
    let batches = 0;
    while (stack.length > 0) {
      const sent = this.queue(backend, stack.pop()!);
      if (sent.length === 0) continue;
      const started = this.clock();
      batches++;
      try {
        const report = await backend.commit();
        failedInARow = 0;
        const done = this.clock();
        telemetry.committed(name, report.added, report.deleted, done - started, phase);
        for (const change of sent) {
          const { since } = state.settle(change, 'applied', done);
          if (since !== undefined) {
            telemetry.applied(done - since);
            this.options.onLatency?.(done - since);
          }
        }
      } catch (err) {
        failedInARow++;
        telemetry.commitFailed(name, err, sent.length);
        if (sent.length === 1) {
          failed.push({ change: sent[0]!, err });
        } else if (failedInARow >= giveUpAfter) {
          for (const change of [sent, ...stack].flat()) failed.push({ change, err });
          stack.length = 0;
          for (const { change } of failed) state.settle(change, 'failed', this.clock());
          telemetry.entriesFailed(name, failed, batches);
          // Nothing lands: the kernel may not be what the enforcer thinks (a table removed by hand).
          await this.resync(name);
          return;
        } else {
          const half = Math.ceil(sent.length / 2);
          stack.push(sent.slice(half), sent.slice(0, half));
        }
      }
    }
    for (const { change } of failed) state.settle(change, 'failed', this.clock());
    if (failed.length > 0) telemetry.entriesFailed(name, failed, batches);
  }

  /** Queues changes on the backend; adds it refuses (a full set) are settled and reported here. */
  private queue(backend: Backend, changes: readonly PlannedChange[]): PlannedChange[] {
    const { state, telemetry } = this.options;
    const sent: PlannedChange[] = [];
    for (const change of changes) {
      if (change.op === 'delete') {
        backend.delete({ set: change.set, target: change.target });
        sent.push(change);
        continue;
      }
      const refusal = backend.add({ set: change.set, target: change.target, timeoutMs: change.timeoutMs, replace: change.replace });
      if (refusal) {
        state.settle(change, 'refused', this.clock());
        telemetry.refused(refusal.reason, change.set, change.target.text, refusal.detail);
      } else {
        sent.push(change);
      }
    }
    return sent;
  }

  private async resync(name: EnforcerBackendName): Promise<void> {
    const slot = this.options.backends.get(name)!;
    try {
      this.options.state.loadKernel(name, await slot.backend.list(), slot.sets, this.clock());
    } catch (err) {
      this.options.telemetry.resyncFailed(name, err);
    }
  }
}
