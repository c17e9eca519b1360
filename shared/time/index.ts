export { formatDuration, parseDuration, PERMANENT } from './duration.ts';
