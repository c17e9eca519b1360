import v8 from 'node:v8';

/**
 * Bounded regular expressions: a log line is attacker-controlled, and a
 * JavaScript regex cannot be interrupted from the thread that runs it.
 *
 * Chosen: every filter regex is created with a V8 backtrack limit
 * (the runtime's NewRegExpWithBacktrackLimit, reached through
 * --allow-natives-syntax for one `new Function` and switched off again).
 * An execution that exceeds the limit stops and reports no match, so the
 * work per line is bounded; the happy path costs nothing (the counter
 * lives in the generated code), and the matcher stays synchronous, as
 * LineMatcher.push must be. V8's linear-time engine is also enabled as the
 * fallback (--enable-experimental-regexp-engine-on-excessive-backtracks):
 * a pattern it can run would finish there with the right answer instead,
 * but V8 11 (Node 20) runs no pattern with the `u` flag, lookarounds or
 * backreferences there, so for filter regexes the limit is what applies.
 * The flag is process-wide and only ever changes how a runaway match ends.
 *
 * The cost of that choice: a line that makes a failregex exceed the limit
 * is not a failure, even if Python's engine would eventually have matched
 * it. fail2ban's sample lines need at most a tenth of the limit
 * (the conformance suite passes at 10,000).
 *
 * Weighed and not chosen (bench/regex/guard.ts measures them):
 * - the linear engine alone: it cannot run lookarounds or backreferences,
 *   which most fail2ban filters use (sshd's `(?:(?! from ).)*?`), so those
 *   patterns would stay unbounded;
 * - a worker thread with a watchdog that terminates it: correct, but a
 *   synchronous push per line becomes a cross-thread round trip, 12 to 50 µs
 *   on the 2-core test machine, against 0.1 µs for a regex and a few µs for
 *   a whole line;
 * - `vm` with a timeout: interrupts a runaway regex, but starts a watchdog
 *   per call, 50 to 100 µs per line.
 * A limited execution that gives up on a crafted line costs under 1 ms.
 */
export const BACKTRACK_LIMIT = 100_000;

type Factory = (source: string, flags: string, limit: number) => RegExp;

let factory: Factory | null | undefined;

function setUp(): Factory | null {
  v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  let made: Factory | null = null;
  try {
    v8.setFlagsFromString('--allow-natives-syntax');
    made = new Function('s', 'f', 'l', 'return %NewRegExpWithBacktrackLimit(s, f, l);') as Factory;
  } catch {
    made = null;
  } finally {
    v8.setFlagsFromString('--no-allow-natives-syntax');
  }
  if (!made) return null;
  // Check the runtime does what is expected before trusting it.
  try {
    const plain = made('a(b)', 'u', 1000);
    const hit = plain.exec('xab');
    const runaway = made('^(?:a|a)+(?=b)', 'u', 1000).exec('a'.repeat(40));
    if (!(plain instanceof RegExp) || hit?.[1] !== 'b' || runaway !== null) return null;
  } catch {
    return null;
  }
  return made;
}

/** Whether regexes made here really carry a backtrack limit in this runtime. */
export function regexGuardActive(): boolean {
  if (factory === undefined) factory = setUp();
  return factory !== null;
}

/** A RegExp whose executions give up (no match) after `limit` backtracks. */
export function guardedRegExp(source: string, flags: string, limit = BACKTRACK_LIMIT): RegExp {
  if (factory === undefined) factory = setUp();
  return factory ? factory(source, flags, limit) : new RegExp(source, flags);
}
