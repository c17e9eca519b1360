/** One line of a soak's timeline: what happened to which process, when (ms since the soak began). */
export interface TimelineEntry {
  atMs: number;
  target: string;
  what: string;
}

/**
 * Everything the soak did and saw, in order, with timestamps: each fault,
 * each restart, each surprise. It is printed as it happens (`echo`) and kept
 * for the summary, so a failed check can be read against the faults before it.
 */
export class Timeline {
  readonly entries: TimelineEntry[] = [];
  private readonly t0 = Date.now();

  constructor(private readonly echo: (line: string) => void) {}

  get elapsedMs(): number {
    return Date.now() - this.t0;
  }

  note(target: string, what: string): void {
    const entry = { atMs: this.elapsedMs, target, what };
    this.entries.push(entry);
    this.echo(formatEntry(entry));
  }
}

export function formatEntry(e: TimelineEntry): string {
  return `[${(e.atMs / 1000).toFixed(1).padStart(7)}s] ${e.target.padEnd(10)} ${e.what}`;
}
