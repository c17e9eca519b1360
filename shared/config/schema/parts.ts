import { z } from 'zod';
import { JAIL_NAME } from '../../schema/index.ts';
import { addressList, boolish, duration, name, stringList } from './fields.ts';
import { ENFORCER_BACKENDS } from './jail.ts';

/** `all`, or a list of jail names: which jails a part on this host works for. */
export const jailSelection = z.union([
  z.literal('all'),
  stringList.pipe(z.array(z.string().regex(JAIL_NAME, 'not a jail name')).min(1)),
]);
export type JailSelection = z.output<typeof jailSelection>;

/** The shipper on a log host. */
export const shipperSchema = z.strictObject({
  /** Jails whose logs this host ships. */
  jails: jailSelection.default('all'),
  /** Publishes awaiting JetStream's acknowledgement; reading pauses beyond it. */
  maxInFlight: z.int().min(1).max(100_000).default(1024),
  /** Longer lines are cut before matching (a log line is attacker-controlled). */
  maxLineLength: z.int().min(80).max(1_048_576).default(8192),
});

/** The scorer (any number of replicas). */
export const scorerSchema = z.strictObject({
  /** Durable consumer shared by every replica. */
  consumer: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default('scorer'),
  /** Failures being processed at once by one replica. */
  maxInFlight: z.int().min(1).max(100_000).default(512),
  /** How long JetStream waits for an ack before redelivering to another replica. */
  ackWait: duration.prefault('30s'),
});

/** The enforcer on an edge or proxy host. */
export const enforcerSchema = z.strictObject({
  /** Default backend for jails that do not name a `banaction`. */
  backend: z.enum(ENFORCER_BACKENDS).default('nftables'),
  /** Jails this host enforces (a proxy enforces the jails of the hosts behind it). */
  jails: jailSelection.default('all'),
  /** Also drop in the forward hook, for hosts that route to containers or VMs. */
  forward: boolish.default(false),
  /** Name of fleetban's own nftables table, ipset prefix and chain prefix. */
  table: z.string().regex(/^[A-Za-z0-9_]{1,24}$/).default('fleetban'),
  /** Addresses never banned on this host, beyond each jail's ignoreip. */
  ignoreip: addressList.default([]),
  /** Run the backend inside this network namespace (`ip netns exec`); for tests and the demo. */
  netns: name.optional(),
});

/** Where fail2ban filter files are looked up, before /etc/fail2ban and the set-up's cache. */
export const filtersSchema = z.strictObject({
  dirs: stringList.default([]),
});
