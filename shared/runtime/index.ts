export { PART_EXIT, runPart, type PartContext, type RunningPart, type RunPartOptions } from './part.ts';
export { isSupervisorMessage, notifySupervisor, onSupervisorGone, SUPERVISED_ENV, supervised, type SupervisorMessage } from './supervisor.ts';
