/**
 * What the shipper needs from the filter engine (shared/filter): a matcher
 * per stream that takes lines in order and returns the failures they
 * complete. The engine's LineMatcher satisfies it; tests pass small fakes.
 */
export interface Match {
  /** Canonical address, when the failure names one. */
  ip?: string;
  /** The line's own timestamp, epoch ms. */
  time: number;
  user?: string;
  lines: string[];
}

export interface Matcher {
  /** `now`: when the line was read; `time`: the line's own time where the source knows it (the journal). */
  push(line: string, now: number, time?: number): Match[];
}

export interface MatcherFactory {
  /** Lines a failure may span (the filter's maxlines). */
  readonly maxlines: number;
  matcher(): Matcher;
}
