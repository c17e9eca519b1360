import type { EnforcerBackendName } from '../../../shared/config/index.ts';
import type { BackendModule } from './contract.ts';
import { dryRunBackend } from './dry-run/index.ts';
import { iptablesBackend } from './iptables/index.ts';
import { ipsetBackend } from './ipset/index.ts';
import { nftablesBackend } from './nftables/index.ts';
import { xtRecentBackend } from './xt_recent/index.ts';

/** Every backend, by the name used in `enforcer.backend`, a jail's `banaction` and `--backend`. */
export const BACKENDS = {
  nftables: nftablesBackend,
  ipset: ipsetBackend,
  xt_recent: xtRecentBackend,
  iptables: iptablesBackend,
  'dry-run': dryRunBackend,
} as const satisfies Record<EnforcerBackendName, BackendModule>;

export type { AddEntry, Backend, BackendModule, BackendOptions, BackendStatus, BackendTraits, DeleteEntry, FullSet, KernelEntry, Refusal, SetupStep } from './contract.ts';
export type { XtRecentStatus } from './xt_recent/index.ts';
export { DryRunBackend, type DryRunRecord } from './dry-run/index.ts';
export { createExec, describeCommand, FirewallCommandError, type Exec, type ToolCommand } from './exec.ts';
export { printSteps, runSteps } from './steps.ts';
