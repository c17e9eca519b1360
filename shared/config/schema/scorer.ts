import { z } from 'zod';
import { duration } from './fields.ts';

/** The scorer (any number of replicas). */
export const scorerSchema = z.strictObject({
  /**
   * Durable consumer on the failures stream, shared by every replica (more
   * replicas, more throughput); `<consumer>-decisions` follows the decisions stream.
   */
  consumer: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default('scorer'),
  /** Failures being processed at once by one replica (Redis scripts and publishes in flight). */
  maxInFlight: z.int().min(1).max(100_000).default(512),
  /** How long JetStream waits for an ack before redelivering to another replica. */
  ackWait: duration.prefault('30s'),
  /** Unacknowledged failures the shared consumer allows over all replicas together. */
  maxAckPending: z.int().min(1).max(10_000_000).default(20_000),
  /** How often the per-jail figures behind `status` are written. */
  statusFlush: duration.prefault('0.2s'),
});
