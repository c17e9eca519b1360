import v8 from 'node:v8';

/**
 * Bounded regular expressions: a log line is attacker-controlled, and a
 * JavaScript regex cannot be interrupted from the thread that runs it.
 *
 * Chosen: every filter regex is created with a V8 backtrack limit
 * (the runtime's NewRegExpWithBacktrackLimit, reached through
 * --allow-natives-syntax for one `new Function` and switched off again),
 * and V8's linear-time engine is enabled as the fallback
 * (--enable-experimental-regexp-engine-on-excessive-backtracks). When one
 * execution exceeds the limit, a pattern the linear engine can run is
 * finished there with the same result; any other pattern (lookarounds,
 * backreferences and the `u` flag are beyond V8 11's linear engine) stops
 * and reports no match. The work per line is bounded either way, the
 * happy path costs nothing (the counter lives in the generated code), and
 * the matcher stays synchronous, as LineMatcher.push must be.
 *
 * Weighed and not chosen (bench/regex/guard.ts measures them):
 * - the linear engine alone: it cannot run lookarounds or backreferences,
 *   which most fail2ban filters use (sshd's `(?:(?! from ).)*?`), so those
 *   patterns would stay unbounded;
 * - a worker thread with a watchdog that terminates it: correct, but a
 *   synchronous push per line becomes a cross-thread round trip, about 50 µs
 *   against about 1 µs of matching;
 * - `vm` with a timeout: interrupts a runaway regex, but starts a watchdog
 *   per call, about 100 µs per line.
 *
 * The limit is far above what a real line needs (the conformance suite at
 * fleetban's maximum line length stays well under it), so only hostile
 * input is cut short.
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
