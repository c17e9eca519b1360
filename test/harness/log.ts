import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../shared/telemetry/index.ts';

/** A logger that keeps its lines in memory, so tests can read what was logged. */
export function memoryLogger(part = 'test', level: 'info' | 'debug' | 'warn' = 'debug'): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ level, part, destination: sink }), lines: () => lines };
}

/** A logger that discards everything, for tests that do not read logs. */
export function quietLogger(): Logger {
  return createLogger({ level: 'silent', part: 'test' });
}
