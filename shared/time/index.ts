export { failuresWithin, formatDuration, MAX_DURATION, parseDuration, PERMANENT } from './duration.ts';
export { MAX_TIMER_MS, timerDelay } from './timer.ts';
