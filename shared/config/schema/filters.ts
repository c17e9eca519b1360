import { z } from 'zod';
import { stringList } from './fields.ts';

/** Where fail2ban filter files are looked up, before /etc/fail2ban and the set-up's cache. */
export const filtersSchema = z.strictObject({
  dirs: stringList.default([]),
});
