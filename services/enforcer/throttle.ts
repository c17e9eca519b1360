/**
 * Log lines per cause, not per entry: the first event of a cause is logged at
 * once, later ones are counted and reported with the next line logged after
 * `intervalMs`. Metrics count every event; this only keeps the log readable
 * when a thousand bans fail for the same reason.
 */
export class LogThrottle {
  private readonly causes = new Map<string, { next: number; suppressed: number }>();

  constructor(
    private readonly intervalMs = 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Whether to log this event now; if so, how many of the same cause were left unlogged since the last line. */
  take(cause: string): { suppressed: number } | undefined {
    const now = this.clock();
    const seen = this.causes.get(cause);
    if (seen && now < seen.next) {
      seen.suppressed++;
      return undefined;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.causes.set(cause, { next: now + this.intervalMs, suppressed: 0 });
    return { suppressed };
  }
}

/** The kind of a firewall error, without the addresses and positions it quotes: one log line per kind. */
export function errorCause(message: string): string {
  const nft = /Error: ([^|\n]*)/.exec(message);
  const text = nft ? nft[1]! : message;
  return text.replace(/[0-9A-Fa-f]*[:.][0-9A-Fa-f:./]+/g, '<addr>').replace(/\d+/g, 'N').trim().slice(0, 120);
}
