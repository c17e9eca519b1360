import { action, type CliCommand } from '../../command.ts';
import { withConfig, withJson } from '../../options.ts';
import type { StreamsOptions } from './run.ts';

/**
 * `fleetban streams [--apply]`: the two streams as the config wants them next
 * to what the server has; `--apply` creates or updates them. Parts only create
 * a missing stream, never change one (their configs may name only some
 * jails), so this is the one way a stream's settings change.
 */
export const streamsCommand = {
  name: 'streams',
  register(program, io, done) {
    const command = program
      .command('streams')
      .description('compare the failures and decisions streams with the config; --apply creates or updates them (operator credentials)')
      .option('--apply', 'create missing streams and update those that differ');
    withJson(withConfig(command), 'each stream: wanted, current, differences').action(
      action(io, done, async (opts: StreamsOptions) => {
        const { runStreams } = await import('./run.ts');
        return runStreams(io, opts);
      }),
    );
  },
} satisfies CliCommand;
