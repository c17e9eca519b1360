import { z } from 'zod';
import { DEFAULT_MAX_LINE_LENGTH } from '../../filter/limits.ts';
import { stringList } from './fields.ts';

/** Where fail2ban filter files are looked up, and how lines are bounded before matching. */
export const filtersSchema = z.strictObject({
  /** Searched before /etc/fail2ban/filter.d and the set-up's cache. */
  dirs: stringList.default([]),
  /** A log line is cut to this many characters before any regex sees it (the bound on matching cost). */
  maxLineLength: z.int().min(256).max(1_000_000).default(DEFAULT_MAX_LINE_LENGTH),
});
