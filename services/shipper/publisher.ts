import { setMaxListeners } from 'node:events';
import { FleetbanError } from '../../shared/errors.ts';
import { timerDelay } from '../../shared/time/index.ts';

/** What the publisher needs from JetStream: one publish with a message id, answered by an ack. */
export interface PublishTarget {
  publish(subject: string, data: Uint8Array, options: { msgID: string; timeout: number }): Promise<{ duplicate: boolean }>;
}

/** Whether the connection to NATS is up, and a way to wait until it is. */
export interface ConnectionState {
  readonly connected: boolean;
  /** Resolves when connected (at once if connected now) or when `signal` is aborted. */
  whenConnected(signal: AbortSignal): Promise<void>;
}

export interface PublisherEvents {
  publishFailed(err: unknown, attempt: number, connected: boolean): void;
  publishRecovered(): void;
  readingPaused(inFlight: number, connected: boolean): void;
  readingResumed(): void;
  inFlightChanged(inFlight: number): void;
}

export interface PublisherOptions {
  maxInFlight: number;
  /** How long to wait for an acknowledgement before sending again. */
  timeout: number;
  /** A wait for a free slot shorter than this is not reported as a pause. */
  pauseReportAfter?: number;
  /** Backoff between failed attempts: `min(base * 2^attempt, max)`. */
  backoff?: { base: number; max: number };
}

/** Publishing stopped before the message was acknowledged. */
export class PublisherStoppedError extends FleetbanError {}

/**
 * Publishes with a bounded number in flight. A caller first waits for a
 * slot (this is where reading pauses when JetStream is slow or NATS is
 * down), then gets a promise of the acknowledgement. A failed publish is
 * sent again with the same message id until it is acknowledged (JetStream
 * drops a copy that did arrive), but only once the connection is up: while
 * disconnected nothing new is handed to the client, so its buffer holds at
 * most `maxInFlight` messages however long the outage lasts.
 */
export class Publisher {
  private inFlight = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];
  private readonly stopping = new AbortController();
  private readonly backoff: { base: number; max: number };
  private pauseTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: PublishTarget,
    private readonly connection: ConnectionState,
    private readonly events: PublisherEvents,
    private readonly options: PublisherOptions,
  ) {
    this.backoff = options.backoff ?? { base: 100, max: 5000 };
    // Every publish waiting for a reconnect listens on it: up to maxInFlight listeners is expected.
    setMaxListeners(0, this.stopping.signal);
  }

  get pending(): number {
    return this.inFlight;
  }

  /**
   * Waits for a slot, sends, and returns the acknowledgement's promise
   * (true when JetStream reports a duplicate), wrapped so that awaiting the
   * slot does not await the acknowledgement. Rejects with
   * PublisherStoppedError once stopped.
   */
  async publish(subject: string, data: Uint8Array, msgID: string): Promise<{ acked: Promise<boolean> }> {
    return this.tryPublish(subject, data, msgID) ?? (await this.slot(), this.send(subject, data, msgID));
  }

  /**
   * Sends at once when a slot is free, without yielding to the event loop,
   * so that a run of failures leaves in one socket write; undefined when the
   * caller must wait (use `publish`).
   */
  tryPublish(subject: string, data: Uint8Array, msgID: string): { acked: Promise<boolean> } | undefined {
    this.checkStopped();
    if (this.inFlight >= this.options.maxInFlight || this.waiters.length > 0) return undefined;
    this.inFlight++;
    this.events.inFlightChanged(this.inFlight);
    return this.send(subject, data, msgID);
  }

  private send(subject: string, data: Uint8Array, msgID: string): { acked: Promise<boolean> } {
    const acked = this.deliver(subject, data, msgID);
    void acked.then(this.done, this.done);
    return { acked };
  }

  /**
   * Resolves true when nothing is in flight; false after `timeoutMs`
   * (Infinity: no limit), when `signal` is aborted, or once stopped.
   */
  async drain(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.inFlight === 0) return true;
    if (this.stopping.signal.aborted || signal?.aborted || timeoutMs <= 0) return false;
    return new Promise((resolve) => {
      const settle = (idle: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
        this.stopping.signal.removeEventListener('abort', giveUp);
        const i = this.idle.indexOf(wake);
        if (i >= 0) this.idle.splice(i, 1);
        resolve(idle);
      };
      const wake = () => settle(true);
      const giveUp = () => settle(false);
      // Node fires a longer timer at once: "no limit" must not become "no wait".
      const timer = Number.isFinite(timeoutMs) ? setTimeout(giveUp, timerDelay(timeoutMs)) : undefined;
      this.idle.push(wake);
      signal?.addEventListener('abort', giveUp, { once: true });
      this.stopping.signal.addEventListener('abort', giveUp, { once: true });
    });
  }

  /** Ends every retry and wait; what is in flight stays unacknowledged (its lines are read again next run). */
  stop(): void {
    this.stopping.abort();
    clearTimeout(this.pauseTimer);
    for (const wake of this.waiters.splice(0)) wake();
    this.events.readingResumed();
  }

  /** An acknowledged (or abandoned) publish hands its slot to the next waiter, if any. */
  private readonly done = (): void => {
    const next = this.waiters.shift();
    if (next && !this.stopping.signal.aborted) {
      next();
    } else {
      this.inFlight--;
      this.events.inFlightChanged(this.inFlight);
    }
    if (this.waiters.length === 0) this.unpause();
    if (this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
  };

  /** Resolves with a slot reserved. */
  private async slot(): Promise<void> {
    this.checkStopped();
    if (this.pauseTimer === undefined) {
      this.pauseTimer = setTimeout(
        () => this.events.readingPaused(this.inFlight, this.connection.connected),
        timerDelay(this.options.pauseReportAfter ?? 1000),
      );
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.checkStopped();
  }

  private unpause(): void {
    if (this.pauseTimer === undefined) return;
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.events.readingResumed();
  }

  private async deliver(subject: string, data: Uint8Array, msgID: string): Promise<boolean> {
    const signal = this.stopping.signal;
    for (let attempt = 0; ; attempt++) {
      if (!this.connection.connected) await this.connection.whenConnected(signal);
      this.checkStopped();
      try {
        const ack = await this.target.publish(subject, data, { msgID, timeout: this.options.timeout });
        if (attempt === 0) return ack.duplicate;
        this.events.publishRecovered();
        // A retry that JetStream calls a duplicate almost always found this process's own first copy, which
        // was stored while its acknowledgement was lost: that event was published, not read twice.
        return false;
      } catch (err) {
        this.checkStopped();
        this.events.publishFailed(err, attempt, this.connection.connected);
        await sleep(Math.min(this.backoff.base * 2 ** Math.min(attempt, 16), this.backoff.max), signal);
      }
    }
  }

  private checkStopped(): void {
    if (this.stopping.signal.aborted) throw new PublisherStoppedError('publishing stopped');
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, timerDelay(ms));
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
