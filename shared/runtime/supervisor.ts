/**
 * A part started by `fleetban up` runs as a child with an IPC channel and
 * this variable set. It tells its supervisor when it runs, and stops when the
 * supervisor goes away (the channel closes), so a killed `fleetban up` leaves
 * no part behind. Without both, these functions do nothing.
 */
export const SUPERVISED_ENV = 'FLEETBAN_SUPERVISED';

/** What a supervised part sends: it has started and serves. */
export interface SupervisorMessage {
  fleetban: 'running';
  part: string;
}

export function supervised(): boolean {
  return process.env[SUPERVISED_ENV] === '1' && typeof process.send === 'function' && process.connected;
}

export function notifySupervisor(message: SupervisorMessage): void {
  if (!supervised()) return;
  try {
    process.send!(message);
  } catch {
    // the supervisor is gone; 'disconnect' stops the part
  }
}

/** Calls `stop` once when the supervisor's channel closes. */
export function onSupervisorGone(stop: () => void): void {
  if (supervised()) process.once('disconnect', stop);
}

export function isSupervisorMessage(value: unknown): value is SupervisorMessage {
  return typeof value === 'object' && value !== null && (value as SupervisorMessage).fleetban === 'running' && typeof (value as SupervisorMessage).part === 'string';
}
