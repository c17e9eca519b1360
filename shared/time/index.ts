export { failuresWithin, formatDuration, MAX_DURATION, parseDuration, PERMANENT } from './duration.ts';
