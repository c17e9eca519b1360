import { timerDelay } from '../time/index.ts';

/** The longest wait between reconnect attempts, however long NATS has been down. */
export const MAX_RECONNECT_WAIT_MS = 10_000;

/**
 * The wait before the next reconnect attempt: `reconnectWait` at first, then
 * half of how long the server has been gone, up to {@link MAX_RECONNECT_WAIT_MS}
 * (never below `reconnectWait`), plus up to `jitterMs` so that a fleet of
 * parts does not knock on a restarted server all at once.
 *
 * It depends on elapsed time rather than on a count of attempts because
 * nats.js asks for a delay on every turn of its dial loop, not once per dial.
 */
export function reconnectDelay(reconnectWaitMs: number, downForMs: number, jitterMs: number, random: () => number = Math.random): number {
  const grown = Math.min(Math.max(reconnectWaitMs, downForMs / 2), Math.max(reconnectWaitMs, MAX_RECONNECT_WAIT_MS));
  // A reconnectWait beyond what Node timers hold would retry at once, in a tight loop.
  return timerDelay(Math.round(grown + random() * jitterMs));
}

/**
 * Remembers when the connection was lost, for {@link reconnectDelay}. The
 * connection's status watcher calls `lost()` and `restored()`.
 */
export class Outage {
  private since: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  lost(): void {
    this.since ??= this.now();
  }

  restored(): void {
    this.since = undefined;
  }

  /** How long the connection has been down; 0 while it is up. */
  downFor(): number {
    return this.since === undefined ? 0 : this.now() - this.since;
  }
}
