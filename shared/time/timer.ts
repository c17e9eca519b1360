/**
 * The longest delay Node's timers honour (about 24.8 days). A longer one —
 * a ban's length, `Number.MAX_SAFE_INTEGER` as "for ever" — does not wait: Node
 * warns (TimeoutOverflowWarning) and fires after 1 ms.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` as a delay a timer keeps: capped at {@link MAX_TIMER_MS}; negative or NaN is 0. */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(MAX_TIMER_MS, ms);
}
