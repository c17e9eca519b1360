import type { Rng } from './rng.ts';
import { sleep, type Supervised } from './supervised.ts';
import type { Timeline } from './timeline.ts';

/**
 * `kill`: SIGKILL, a pause, a restart. `freeze`: SIGSTOP, a pause, SIGCONT.
 * `term`: SIGTERM (a process still there after the grace time is a surprise
 * and is killed), a pause, a restart.
 */
export const FAULT_KINDS = ['kill', 'freeze', 'term'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  atMs: number;
  target: string;
  kind: FaultKind;
  pauseMs: number;
  /** kill and term: how long the process took to exit. */
  exitMs?: number;
  /** kill and term: how long the restart took until the process said it was ready. */
  restartMs?: number;
}

export interface ChaosOptions {
  /** Mean time between two faults (each gap is drawn from half to one and a half of it). */
  meanGapMs: number;
  /** At most this many processes are down or frozen at once. */
  maxConcurrent: number;
  /** How long a SIGTERM may take before it counts as ignored. */
  termGraceMs: number;
  /** Down (kill, term) or frozen (freeze) this long: [min, max] ms. */
  downMs: readonly [number, number];
  frozenMs: readonly [number, number];
}

/**
 * The chaos loop: at random intervals (seeded) it picks a healthy process of
 * the stack and a fault, and applies it while the writer goes on. Faults on
 * different processes overlap (up to `maxConcurrent`); one process takes one
 * fault at a time. Every step goes to the timeline.
 */
export class Chaos {
  readonly faults: Fault[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  /** Ends the wait for the next fault at once when the chaos stops. */
  private wake: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly rng: Rng,
    private readonly targets: readonly Supervised[],
    private readonly timeline: Timeline,
    private readonly options: ChaosOptions,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** No new faults; waits until every fault in progress has put its process back. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await Promise.all(this.inFlight);
  }

  private async run(): Promise<void> {
    const { meanGapMs, maxConcurrent } = this.options;
    while (this.running) {
      await this.pause(this.rng.int(Math.round(meanGapMs / 2), Math.round((meanGapMs * 3) / 2)));
      if (!this.running || this.inFlight.size >= maxConcurrent) continue;
      const idle = this.targets.filter((t) => t.healthy && !t.busy);
      if (idle.length === 0) continue;
      const target = this.rng.pick(idle);
      const kind = this.rng.pick(FAULT_KINDS);
      const [min, max] = kind === 'freeze' ? this.options.frozenMs : this.options.downMs;
      const fault: Fault = { atMs: this.timeline.elapsedMs, target: target.name, kind, pauseMs: this.rng.int(min, max) };
      this.faults.push(fault);
      const done = target.exclusive(() => this.apply(target, fault)).catch((err: unknown) => {
        this.timeline.note(target.name, `fault ${kind} failed: ${(err as Error).message.split('\n')[0]}`);
      });
      this.inFlight.add(done);
      void done.finally(() => this.inFlight.delete(done));
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async apply(target: Supervised, fault: Fault): Promise<void> {
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    if (fault.kind === 'freeze') {
      this.timeline.note(target.name, `SIGSTOP for ${seconds(fault.pauseMs)}`);
      target.freeze();
      await sleep(fault.pauseMs);
      target.thaw();
      this.timeline.note(target.name, 'SIGCONT');
      return;
    }
    const began = Date.now();
    if (fault.kind === 'kill') {
      this.timeline.note(target.name, `SIGKILL; down for ${seconds(fault.pauseMs)}`);
      await target.kill();
    } else {
      this.timeline.note(target.name, `SIGTERM; down for ${seconds(fault.pauseMs)} after it exits`);
      await target.terminate(this.options.termGraceMs);
    }
    fault.exitMs = Date.now() - began;
    if (fault.kind === 'term') this.timeline.note(target.name, `exited ${seconds(fault.exitMs)} after SIGTERM`);
    await sleep(fault.pauseMs);
    const restart = Date.now();
    await target.start();
    fault.restartMs = Date.now() - restart;
    this.timeline.note(target.name, `restarted, ready after ${seconds(fault.restartMs)}`);
  }
}
