import { z } from 'zod';
import { jailSelection } from './selection.ts';

/** The shipper on a log host. */
export const shipperSchema = z.strictObject({
  /** Jails whose logs this host ships. */
  jails: jailSelection.default('all'),
  /** Publishes awaiting JetStream's acknowledgement; reading pauses beyond it. */
  maxInFlight: z.int().min(1).max(100_000).default(1024),
  /** Longer lines are cut before matching (a log line is attacker-controlled). */
  maxLineLength: z.int().min(80).max(1_048_576).default(8192),
});
