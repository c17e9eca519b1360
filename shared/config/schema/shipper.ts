import { z } from 'zod';
import { duration, name } from './fields.ts';
import { jailSelection } from './selection.ts';

/** Where the journal source reads from. */
const journalSchema = z.strictObject({
  /** The journalctl executable. */
  command: name.default('journalctl'),
  /** Read the journal files in this directory (journalctl `--directory`, fail2ban's `journalpath`) instead of the system journal. */
  directory: name.optional(),
});

/** The shipper on a log host. */
export const shipperSchema = z.strictObject({
  /** Jails whose logs this host ships. */
  jails: jailSelection.default('all'),
  /** Publishes awaiting JetStream's acknowledgement; reading pauses beyond it. */
  maxInFlight: z.int().min(1).max(100_000).default(1024),
  /** Longer lines are cut before matching (a log line is attacker-controlled). */
  maxLineLength: z.int().min(80).max(1_048_576).default(8192),
  /** Every tailed file is checked this often (inode, size, first line), besides file-system events. */
  checkInterval: duration.prefault('1s'),
  /** Read positions are written to `stateDir` this often, when they moved. */
  positionInterval: duration.prefault('1s'),
  /** A rotated-away or deleted file is still read until it has not grown for this long. */
  rotateWait: duration.prefault('5s'),
  /** A publish without JetStream's acknowledgement after this long is sent again (same message id). */
  publishTimeout: duration.prefault('5s'),
  /** On stop, how long to wait for publishes in flight before positions are written as they are. */
  stopTimeout: duration.prefault('10s'),
  journal: journalSchema.prefault({}),
});
export type ShipperConfig = z.output<typeof shipperSchema>;
