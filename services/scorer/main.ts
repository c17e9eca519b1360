import { runPart } from '../../shared/runtime/index.ts';
import type { ServiceCommandOptions } from '../cli/service-command.ts';
import { checkScorerConfig } from './core/rules.ts';
import { startScorer } from './scorer.ts';

/** `fleetban scorer`: wiring only. */
export function main(options: ServiceCommandOptions): Promise<number> {
  return runPart({
    part: 'scorer',
    description: 'counts failures from every host in Redis sliding windows and publishes ban decisions',
    configFile: options.config,
    ...(options.checkConfig && { checkConfig: true }),
    validate: (config, file) => checkScorerConfig(config, file),
    start: startScorer,
  });
}
