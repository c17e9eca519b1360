import { runPart } from '../../shared/runtime/index.ts';
import type { ServiceCommandOptions } from '../cli/service-command.ts';
import { startEnforcer } from './enforcer.ts';

/** `fleetban enforcer --config FILE`: wiring only. */
export function main(options: ServiceCommandOptions): Promise<number> {
  return runPart({
    part: 'enforcer',
    description: 'applies ban decisions in kernel sets with per-entry timeouts',
    configFile: options.config,
    ...(options.checkConfig && { checkConfig: true }),
    start: (context) => startEnforcer(context),
  });
}
