export { PART_EXIT, runPart, type PartContext, type RunningPart, type RunPartOptions } from './part.ts';
