import { z } from 'zod';
import { DEFAULT_PREFIX, SUBJECT_PREFIX } from '../../schema/index.ts';
import { listenAddress, name } from './fields.ts';
import { type JailConfig } from './jail.ts';
import { natsSchema } from './nats.ts';
import { enforcerSchema } from './enforcer.ts';
import { filtersSchema } from './filters.ts';
import { scorerSchema } from './scorer.ts';
import { shipperSchema } from './shipper.ts';
import { redisSchema } from './redis.ts';
import { upSchema } from './up.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The whole `fleetban.yaml`. `defaults` and `jails` are checked here only as
 * maps; each jail is then checked with its defaults merged in (see parse.ts).
 */
export const rootSchema = z.strictObject({
  /** Subject prefix shared by the fleet. */
  prefix: z.string().regex(SUBJECT_PREFIX, 'dot-separated tokens of A-Z a-z 0-9 _ -').default(DEFAULT_PREFIX),
  /** This host's name in events and service info; defaults to the OS host name. */
  host: name.optional(),
  /** Read positions, journal cursors and other state that must survive a restart. */
  stateDir: name.default('/var/lib/fleetban'),
  nats: natsSchema.prefault({}),
  redis: redisSchema.prefault({}),
  metrics: z.strictObject({ listen: listenAddress.nullable().default(null) }).prefault({}),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
  filters: filtersSchema.prefault({}),
  defaults: z.record(z.string(), z.unknown()).nullable().default({}),
  jails: z.record(z.string(), z.unknown()).nullable().default({}),
  shipper: shipperSchema.prefault({}),
  scorer: scorerSchema.prefault({}),
  enforcer: enforcerSchema.prefault({}),
  /** `fleetban up`: which servers it starts as children. */
  up: upSchema.prefault({}),
});

export type Config = Omit<z.output<typeof rootSchema>, 'defaults' | 'jails'> & {
  /** This host's name: from the file, or the OS host name when loaded. */
  host: string;
  jails: Record<string, JailConfig>;
  /** What `defaults:` says beyond what each jail inherits: its ignoreip also guards manual bans in jails the config does not define. */
  defaults: { ignoreip: string[] };
};
