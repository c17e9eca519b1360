import type { Config, EnforcerBackendName } from '../../shared/config/index.ts';
import { InvalidInputError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/telemetry/index.ts';
import { BACKENDS, createExec, printSteps, runSteps, type SetupStep } from './backends/index.ts';
import { enforcedSets, OTHER_JAILS } from './sets.ts';

export interface SetupOptions {
  /** Only this backend's sets; by default every backend the config uses. */
  backend?: EnforcerBackendName;
  /** xt_recent: hand the lists to this user, so an unprivileged enforcer can write them. */
  user?: string;
  /** Print the commands instead of running them. */
  print?: boolean;
  log: Logger;
}

export interface SetupReport {
  backend: EnforcerBackendName;
  sets: string[];
  steps: SetupStep[];
  /** The commands as shell lines (always filled, also when they were run). */
  script: string;
}

/**
 * `fleetban enforcer setup` / `teardown`: the base objects of each backend
 * the config uses (tables, sets, chains, rules; for xt_recent the lists and
 * their owner), created or removed as root, so that `fleetban enforcer`
 * itself needs only what its backend needs to change entries.
 */
export async function setupEnforcer(action: 'setup' | 'teardown', config: Config, options: SetupOptions): Promise<SetupReport[]> {
  const exec = createExec({ netns: config.enforcer.netns });
  // Allowlists play no part in set-up: the sets are built without the host's addresses.
  const sets = enforcedSets(config, []);
  const names = [...new Set(sets.map((s) => s.backend))].filter((b) => options.backend === undefined || b === options.backend);
  if (options.backend !== undefined && names.length === 0) {
    throw new InvalidInputError(`no enforced jail uses the ${options.backend} backend here (see enforcer.backend and each jail's banaction)`);
  }
  if (options.user !== undefined && !names.includes('xt_recent')) throw new InvalidInputError('--user is for the xt_recent backend');
  const reports: SetupReport[] = [];
  for (const name of names) {
    const own = sets.filter((s) => s.backend === name);
    const backendOptions = { config, exec, log: options.log, ...(options.user !== undefined && { user: options.user }) };
    const steps = action === 'setup' ? await BACKENDS[name].setup(own, backendOptions) : await BACKENDS[name].teardown(own, backendOptions);
    if (!options.print) await runSteps(exec, steps);
    reports.push({ backend: name, sets: own.map((s) => (s.key === OTHER_JAILS ? '(other jails)' : s.key)), steps, script: printSteps(steps, exec.netns) });
  }
  return reports;
}
