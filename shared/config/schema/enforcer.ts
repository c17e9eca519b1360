import { z } from 'zod';
import { addressList, boolish, name } from './fields.ts';
import { ENFORCER_BACKENDS } from './jail.ts';
import { jailSelection } from './selection.ts';

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
