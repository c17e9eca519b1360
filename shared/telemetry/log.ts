import { pino, type DestinationStream, type Level, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: Level | 'silent';
  /** Which part is logging; every line carries it. */
  part: string;
  host?: string;
  /** Where lines go; stderr by default so that a command's stdout carries only its data. Tests pass an in-memory sink. */
  destination?: DestinationStream;
}

/** One JSON logger per process (pino). */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level: options.level,
      base: { part: options.part, ...(options.host && { host: options.host }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * Logs a recurring problem once per key until {@link OncePerKey.reset}, so an
 * attacker who sends the same bad message a million times gets one log line
 * (and a counter that says a million).
 */
export class OncePerKey {
  private readonly seen = new Set<string>();

  constructor(private readonly limit = 10_000) {}

  first(key: string): boolean {
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.limit) this.seen.clear();
    this.seen.add(key);
    return true;
  }

  reset(): void {
    this.seen.clear();
  }
}
