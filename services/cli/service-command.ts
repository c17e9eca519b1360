import type { Command } from 'commander';
import { action, type CliIo } from './command.ts';

/** Where a part looks for its config when `--config` is not given. */
export const DEFAULT_CONFIG_FILE = '/etc/fleetban/fleetban.yaml';

export interface ServiceCommandOptions {
  config: string;
  checkConfig?: boolean;
}

/**
 * Adds a long-running part as a sub-command (`fleetban scorer --config FILE`)
 * with the options every part shares. `load` imports the part's main.ts only
 * when the command runs, so `fleetban --help` stays fast.
 */
export function addServiceCommand(
  program: Command,
  io: CliIo,
  done: (code: number) => void,
  spec: { name: string; description: string; load: () => Promise<{ main(options: ServiceCommandOptions): Promise<number> }> },
): Command {
  return program
    .command(spec.name)
    .description(spec.description)
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_FILE)
    .option('--check-config', 'check the configuration and exit')
    .action(
      action(io, done, async (opts: ServiceCommandOptions) => {
        // Started by `fleetban up`: stop as on SIGTERM when it goes away, even if it was killed.
        const { onSupervisorGone } = await import('../../shared/runtime/supervisor.ts');
        onSupervisorGone(() => process.kill(process.pid, 'SIGTERM'));
        const { main } = await spec.load();
        return main(opts);
      }),
    );
}
