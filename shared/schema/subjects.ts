import { InvalidInputError } from '../errors.ts';

/** A jail name as it appears in subjects and config: `[A-Za-z0-9_-]{1,64}`. */
export const JAIL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A subject prefix: one or more dot-separated tokens without wildcards. */
export const SUBJECT_PREFIX = /^[A-Za-z0-9_-]{1,64}(?:\.[A-Za-z0-9_-]{1,64}){0,7}$/;

export const DEFAULT_PREFIX = 'fleetban';

/** The parts of fleetban; each registers one NATS service under its own name. */
export const PARTS = ['shipper', 'scorer', 'enforcer', 'cli'] as const;
export type Part = (typeof PARTS)[number];

export const DECISION_ACTIONS = ['ban', 'unban'] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

/** Every subject and stream name fleetban uses, derived from one prefix. */
export interface Subjects {
  readonly prefix: string;
  /** `<prefix>.fail.<jail>`: a failure seen by a shipper. */
  fail(jail: string): string;
  /** `<prefix>.ban.<jail>` or `<prefix>.unban.<jail>`: a decision. */
  decision(action: DecisionAction, jail: string): string;
  /** Wildcards for consumers. */
  readonly allFailures: string;
  readonly allBans: string;
  readonly allUnbans: string;
  /** Stream names (no dots allowed in stream names, so the prefix's dots become `_`). */
  readonly failuresStream: string;
  readonly decisionsStream: string;
  /** The NATS service name of a part, e.g. `fleetban-scorer`. */
  serviceName(part: Part): string;
  /** The jail a subject is for, or undefined if the subject is not one of ours. */
  jailOf(subject: string): string | undefined;
}

export function subjectsFor(prefix: string = DEFAULT_PREFIX): Subjects {
  if (!SUBJECT_PREFIX.test(prefix)) throw new InvalidInputError(`invalid subject prefix "${prefix}"`);
  const flat = prefix.replaceAll('.', '_');
  const jail = (name: string): string => {
    if (!JAIL_NAME.test(name)) throw new InvalidInputError(`invalid jail name "${name}" (letters, digits, _ and -, at most 64)`);
    return name;
  };
  const depth = prefix.split('.').length;
  return {
    prefix,
    fail: (name) => `${prefix}.fail.${jail(name)}`,
    decision: (action, name) => `${prefix}.${action}.${jail(name)}`,
    allFailures: `${prefix}.fail.>`,
    allBans: `${prefix}.ban.>`,
    allUnbans: `${prefix}.unban.>`,
    failuresStream: `${flat}_failures`,
    decisionsStream: `${flat}_decisions`,
    serviceName: (part) => `${flat}-${part}`,
    jailOf(subject) {
      const tokens = subject.split('.');
      if (tokens.length !== depth + 2 || !subject.startsWith(`${prefix}.`)) return undefined;
      const name = tokens[depth + 1]!;
      return JAIL_NAME.test(name) ? name : undefined;
    },
  };
}
