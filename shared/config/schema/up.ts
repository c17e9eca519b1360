import { z } from 'zod';

/**
 * What `fleetban up` (the whole stack on one host) does about each server:
 * - `auto`: start it as a child when the file does not set `nats.servers`
 *   (`redis.nodes`), on the default address every part then connects to;
 *   use the configured one when the file sets it;
 * - `start`: start it on the configured address, which must be one loopback
 *   address (`127.0.0.1:4322`), so that every part and every CLI command
 *   reading this file finds it;
 * - `external`: never start it; use the configured (or default) address.
 */
const serverMode = z.enum(['auto', 'start', 'external']).default('auto');

export const upSchema = z.strictObject({
  nats: serverMode,
  redis: serverMode,
});
export type UpConfig = z.output<typeof upSchema>;
