import type { RedisClient } from '../../shared/redis/index.ts';
import type { ScorerTelemetry } from './telemetry.ts';

const PROBE_MS = 500;

/**
 * Whether Redis can be used. A call that finds Redis unavailable marks it
 * down; consumers then stop pulling and wait here, while a probe pings Redis
 * until it answers. Nothing restarts: the ioredis client reconnects by itself
 * and this gate opens again.
 */
export class RedisHealth {
  private upNow = true;
  private since = 0;
  private waiters: Array<() => void> = [];
  private readonly downListeners = new Set<() => void>();
  private probe?: NodeJS.Timeout;

  constructor(
    private readonly client: RedisClient,
    private readonly telemetry: ScorerTelemetry,
    private readonly stopping: AbortSignal,
  ) {
    stopping.addEventListener('abort', () => this.release(), { once: true });
  }

  get up(): boolean {
    return this.upNow;
  }

  /** Called with the error of a call that found Redis unavailable. */
  markDown(err: unknown): void {
    if (!this.upNow || this.stopping.aborted) return;
    this.upNow = false;
    this.since = Date.now();
    this.telemetry.redisDown(err);
    for (const listener of this.downListeners) listener();
    this.schedule();
  }

  /** Resolves at once while Redis is up; otherwise when it answers again or the scorer stops. */
  whenUp(): Promise<void> {
    if (this.upNow || this.stopping.aborted) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Runs `listener` each time Redis goes down; returns the way to remove it. */
  onDown(listener: () => void): () => void {
    this.downListeners.add(listener);
    return () => this.downListeners.delete(listener);
  }

  private schedule(): void {
    this.probe = setTimeout(() => void this.check(), PROBE_MS);
  }

  private async check(): Promise<void> {
    if (this.stopping.aborted) return;
    try {
      await this.client.ping();
    } catch {
      this.schedule();
      return;
    }
    this.upNow = true;
    this.telemetry.redisBack(Date.now() - this.since);
    this.release();
  }

  private release(): void {
    clearTimeout(this.probe);
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
