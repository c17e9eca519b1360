import { action, type CliCommand } from '../../command.ts';
import { DEFAULT_CONFIG_FILE } from '../../service-command.ts';

export interface UpOptions {
  config: string;
  dryRun?: boolean;
}

/**
 * `fleetban up --config FILE`: the whole stack on one host. Starts
 * nats-server and redis-server as children when the config says so (see
 * `up:` in the config), then shipper, scorer and enforcer as child
 * processes, and stops them all on Ctrl-C or SIGTERM.
 */
export const upCommand = {
  name: 'up',
  register(program, io, done) {
    program
      .command('up')
      .description("run the whole stack on this host: nats-server and redis-server when the config names none (its up: section), then shipper, scorer and enforcer")
      .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_FILE)
      .option('--dry-run', 'the enforcer logs what it would do instead of changing a firewall')
      .action(
        action(io, done, async (opts: UpOptions) => {
          const { runUp } = await import('./run.ts');
          return runUp(io, opts);
        }),
      );
  },
} satisfies CliCommand;
