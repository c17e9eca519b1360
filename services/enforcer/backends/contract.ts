import type { Logger } from 'pino';
import type { Config, EnforcerBackendName } from '../../../shared/config/index.ts';
import type { Target } from '../../../shared/ip/index.ts';
import type { Exec, ToolCommand } from './exec.ts';
import type { EnforcedSet } from '../sets.ts';

/** What a backend's kernel objects can and cannot do; the enforcer's core plans around it. */
export interface BackendTraits {
  /** Longest timeout one entry can carry, in ms; longer bans are refreshed before they lapse. */
  maxTimeoutMs: number;
  /** Entries can live without a timeout, so a permanent ban needs no refresh. */
  permanent: boolean;
  /** The kernel removes an entry when its timeout ends; otherwise the enforcer removes it. */
  expiresOnItsOwn: boolean;
  /**
   * Networks (CIDR bans): `overlapping` ones are fine (ipset hash:net, rules);
   * `disjoint`: one set holds no two overlapping networks (nftables interval sets);
   * `jail-prefix`: only IPv6 networks of the jail's ipv6prefix (xt_recent's `--mask`).
   */
  networks: 'overlapping' | 'disjoint' | 'jail-prefix';
  /** Timeouts are whole multiples of this, in ms; the enforcer rounds up so a ban never ends early. */
  granularityMs: number;
}

/** One entry to put in the kernel. */
export interface AddEntry {
  /** The enforced set (a jail's name, or {@link OTHER_JAILS}). */
  set: string;
  target: Target;
  /** What is left of the ban, capped at the backend's limit, in ms; null: no timeout (a permanent ban). */
  timeoutMs: number | null;
  /** The entry may already be in the kernel with another timeout; replace it. */
  replace: boolean;
}

/** One entry to take out of the kernel (it may have expired meanwhile). */
export interface DeleteEntry {
  set: string;
  target: Target;
}

/** An entry found in the kernel. */
export interface KernelEntry {
  set: string;
  target: Target;
  /** What is left of its timeout in ms; null: none; undefined: the kernel does not say (xt_recent). */
  expiresInMs: number | null | undefined;
}

/** A refused add (the set is full): counted, logged, and retried when room is made. */
export interface Refusal {
  reason: 'set_full';
  detail: string;
}

export interface CommitReport {
  added: number;
  deleted: number;
}

/**
 * The whole firewall contract (CrowdSec's bouncer has the same six methods).
 * `add` and `delete` only queue; `commit` applies the queue as one batch
 * (one `nft -f -`, one `ipset restore`, ...) and empties it, also on failure.
 * Nothing here removes kernel entries on `close`: they expire on their own.
 */
export interface Backend {
  readonly name: EnforcerBackendName;
  readonly traits: BackendTraits;
  /** Creates the table, sets, chains and rules that are missing (idempotent), or checks that they exist when it may not create them. */
  prepare(sets: readonly EnforcedSet[]): Promise<void>;
  /** Queues an add; returns a refusal when the set has no room. */
  add(entry: AddEntry): Refusal | undefined;
  delete(entry: DeleteEntry): void;
  commit(): Promise<CommitReport>;
  /** Every entry in fleetban's sets now. */
  list(): Promise<KernelEntry[]>;
  close(): Promise<void>;
  /** Backend-specific figures for the enforcer's status (xt_recent: entries per list and ip_list_tot). */
  status?(): BackendStatus;
}

/** A kernel set or list with no room left: further adds to it are refused until room is made. */
export interface FullSet {
  /** The kernel object: an xt_recent list or an ipset set. */
  name: string;
  entries: number;
  /** What it holds at most (`ip_list_tot`, `maxelem`). */
  capacity: number;
  /** Adds refused since the enforcer started (a waiting ban is retried, so it may count more than once). */
  refused: number;
}

/** What a backend adds to the enforcer's `$SRV.STATS`; `full` names every set that refuses adds now. */
export interface BackendStatus extends Record<string, unknown> {
  full: FullSet[];
}

/** Everything a backend needs to know about this host. */
export interface BackendOptions {
  config: Config;
  exec: Exec;
  log: Logger;
}

/** One step of `fleetban enforcer setup` or `teardown`: a command, run only when a check says so. */
export interface SetupStep {
  command: ToolCommand;
  /** Skip the command when this check succeeds (the object exists already). */
  unless?: ToolCommand;
  /** Run the command only when this check succeeds (the object exists). */
  onlyIf?: ToolCommand;
  /** Failure of this step is not an error (removing what may be gone). */
  optional?: boolean;
}

/** A backend folder's export: its name, how to build it, and its set-up and tear-down. */
export interface BackendModule {
  readonly name: EnforcerBackendName;
  readonly description: string;
  create(options: BackendOptions): Backend;
  /** The steps that create the base objects for these sets (what `prepare` does, printable). */
  setup(sets: readonly EnforcedSet[], options: BackendOptions & { user?: string }): Promise<SetupStep[]>;
  /** The steps that remove everything the backend created (entries included). */
  teardown(sets: readonly EnforcedSet[], options: BackendOptions): Promise<SetupStep[]>;
}
