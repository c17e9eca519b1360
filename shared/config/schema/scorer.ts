import { z } from 'zod';
import { duration } from './fields.ts';

/** The scorer (any number of replicas). */
export const scorerSchema = z.strictObject({
  /** Durable consumer shared by every replica. */
  consumer: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default('scorer'),
  /** Failures being processed at once by one replica. */
  maxInFlight: z.int().min(1).max(100_000).default(512),
  /** How long JetStream waits for an ack before redelivering to another replica. */
  ackWait: duration.prefault('30s'),
});
