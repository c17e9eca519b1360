import { z } from 'zod';
import { JAIL_NAME } from '../../schema/index.ts';
import { stringList } from './fields.ts';

/** `all`, or a list of jail names: which jails a part on this host works for. */
export const jailSelection = z.union([
  z.literal('all'),
  stringList.pipe(z.array(z.string().regex(JAIL_NAME, 'not a jail name')).min(1)),
]);
export type JailSelection = z.output<typeof jailSelection>;

/** Whether a jail is in a selection. */
export function selects(selection: JailSelection, jail: string): boolean {
  return selection === 'all' || selection.includes(jail);
}
