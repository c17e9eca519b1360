import { createHash } from 'node:crypto';
import type { IpFamily, Target } from '../../../shared/ip/index.ts';
import { OTHER_JAILS } from '../sets.ts';

/**
 * Kernel object names. A jail's name stands for itself; the set of jails the
 * config does not define is `.other`, since a jail name never holds a dot
 * (and every tool accepts one). Names too long for a tool are cut and given
 * a hash of the full name, so they stay distinct and the same on every run.
 */
export function setPart(key: string): string {
  return key === OTHER_JAILS ? '.other' : key;
}

/** Addresses and networks of one family live in separate kernel sets. */
export type SetKind = 'a4' | 'a6' | 'n4' | 'n6';
export const SET_KINDS: readonly SetKind[] = ['a4', 'a6', 'n4', 'n6'];

export function kindOf(target: Target): SetKind {
  const single = target.prefix === (target.family === 4 ? 32 : 128);
  return `${single ? 'a' : 'n'}${target.family}` as SetKind;
}

export function familyOfKind(kind: SetKind): IpFamily {
  return kind.endsWith('4') ? 4 : 6;
}

/** `name` if it fits in `max` characters, else its start, a dot and a hash, keeping `suffix` at the end. */
export function fit(name: string, suffix: string, max: number): string {
  const full = `${name}${suffix}`;
  if (full.length <= max) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${name.slice(0, Math.max(1, max - suffix.length - 9))}.${hash}${suffix}`;
}
